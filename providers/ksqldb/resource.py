"""One Pulumi resource kind per ksqlDB object — ``KsqlStream``, ``KsqlTable`` and ``KsqlInsert`` (an INSERT
INTO query) — all three over one field table (``providers.ksqldb.provider.CONTRACT``) and served by
:class:`KsqlObjectProvider`; and ``KsqlDirectory``, the declared statements stored once
(:mod:`providers.ksqldb.directory`). :class:`KsqlPipeline` declares them from SQL files."""
from __future__ import annotations

from providers.declare import declare
from providers.ksqldb import directory
from providers.ksqldb.provider import CONTRACT, KsqlObjectProvider

_OBJECT = ("Inputs: the object's ``statement`` (variables substituted) with its ``file`` and ``index`` for "
           "messages; ``upstream``: the names of the objects it reads, taken from their resources' outputs, so "
           "that replacing one replaces this one too; ``related``: the statements a rebuild of it needs "
           "(everything downstream, and what those read beside it), used to prove a rebuild before it starts.")

KsqlStream = declare(CONTRACT, KsqlObjectProvider, module="ksqldb", name="Stream", class_name="KsqlStream",
                     doc=f"A ksqlDB stream (``CREATE STREAM``, with columns or ``AS SELECT``). {_OBJECT}")
KsqlTable = declare(CONTRACT, KsqlObjectProvider, module="ksqldb", name="Table", class_name="KsqlTable",
                    doc=f"A ksqlDB table (``CREATE TABLE``, with columns or ``AS SELECT``). {_OBJECT}")
KsqlInsert = declare(CONTRACT, KsqlObjectProvider, module="ksqldb", name="InsertQuery", class_name="KsqlInsert",
                     doc=f"A persistent ``INSERT INTO ... SELECT`` query, found again by its ``QUERY_ID``. {_OBJECT}")

RESOURCE_BY_KIND = {"STREAM": KsqlStream, "TABLE": KsqlTable, "INSERT": KsqlInsert}
KsqlDirectory = declare(directory.CONTRACT, directory.KsqlDirectoryProvider, module="ksqldb", name="Directory",
                        class_name="KsqlDirectory", doc="The statements a ``KsqlPipeline`` declares, stored once: it "
                        "proves their whole change with ksqlDB whenever one changes, and retires what the first "
                        "release's single ksqlDB resource managed and no file declares any more.")
