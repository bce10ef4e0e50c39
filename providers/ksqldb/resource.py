"""One Pulumi resource kind per ksqlDB object — ``KsqlStream``, ``KsqlTable`` and ``KsqlInsert`` (an INSERT
INTO query) — all three over one field table (``providers.ksqldb.provider.CONTRACT``) and served by
:class:`KsqlObjectProvider`; and ``KsqlDirectory``, the declared statements stored once
(:mod:`providers.ksqldb.directory`). :class:`KsqlPipeline` declares them from SQL files."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pulumi

from providers.declare import DeclaredResource, declare
from providers.ksqldb import directory
from providers.ksqldb.provider import CONTRACT, KsqlObjectProvider

_OBJECT = ("Inputs: the object's ``statement`` (variables substituted) with its ``file`` and ``index`` for "
           "messages; ``upstream``: the names of the objects it reads, taken from their resources' outputs, so "
           "that replacing one replaces this one too; ``related``: the statements a rebuild of it needs "
           "(everything downstream, and what those read beside it), used to prove a rebuild before it starts.")

if TYPE_CHECKING:  # typed inputs of KsqlStream, KsqlTable, KsqlInsert, KsqlDirectory (python -m tools.generated)
    class KsqlStream(DeclaredResource):
        """The inputs and fields of the ``KsqlStream, KsqlTable, KsqlInsert`` field table, typed."""

        def __init__(
            self,
            resource_name: str,
            *,
            ksqldb_url: pulumi.Input[str],
            username: pulumi.Input[str] | None = None,
            password: pulumi.Input[str] | None = None,
            ready_timeout: pulumi.Input[float] | None = None,
            probe_timeout: pulumi.Input[float] | None = None,
            verify: pulumi.Input[bool | str] | None = None,
            object_name: pulumi.Input[Any],
            kind: pulumi.Input[Any] | None = None,
            statement: pulumi.Input[Any],
            upstream: pulumi.Input[Any] | None = None,
            streams_properties: pulumi.Input[Any] | None = None,
            file: pulumi.Input[Any] | None = None,
            index: pulumi.Input[Any] | None = None,
            line: pulumi.Input[Any] | None = None,
            column: pulumi.Input[Any] | None = None,
            related: pulumi.Input[Any] | None = None,
            opts: pulumi.ResourceOptions | None = None,
        ) -> None: ...

        ksqldb_url: pulumi.Output[str]
        username: pulumi.Output[str]
        password: pulumi.Output[str]
        ready_timeout: pulumi.Output[float]
        probe_timeout: pulumi.Output[float]
        verify: pulumi.Output[bool | str]
        object_name: pulumi.Output[Any]
        kind: pulumi.Output[Any]
        statement: pulumi.Output[Any]
        upstream: pulumi.Output[Any]
        streams_properties: pulumi.Output[Any]
        file: pulumi.Output[Any]
        index: pulumi.Output[Any]
        line: pulumi.Output[Any]
        column: pulumi.Output[Any]
        related: pulumi.Output[Any]
        sql: pulumi.Output[Any]
        query_id: pulumi.Output[Any]
        query_state: pulumi.Output[Any]
        topic: pulumi.Output[Any]
        live_differences: pulumi.Output[Any]
        adopted: pulumi.Output[Any]
        related_names: pulumi.Output[Any]

    class KsqlTable(DeclaredResource):
        """The inputs and fields of the ``KsqlStream, KsqlTable, KsqlInsert`` field table, typed."""

        def __init__(
            self,
            resource_name: str,
            *,
            ksqldb_url: pulumi.Input[str],
            username: pulumi.Input[str] | None = None,
            password: pulumi.Input[str] | None = None,
            ready_timeout: pulumi.Input[float] | None = None,
            probe_timeout: pulumi.Input[float] | None = None,
            verify: pulumi.Input[bool | str] | None = None,
            object_name: pulumi.Input[Any],
            kind: pulumi.Input[Any] | None = None,
            statement: pulumi.Input[Any],
            upstream: pulumi.Input[Any] | None = None,
            streams_properties: pulumi.Input[Any] | None = None,
            file: pulumi.Input[Any] | None = None,
            index: pulumi.Input[Any] | None = None,
            line: pulumi.Input[Any] | None = None,
            column: pulumi.Input[Any] | None = None,
            related: pulumi.Input[Any] | None = None,
            opts: pulumi.ResourceOptions | None = None,
        ) -> None: ...

        ksqldb_url: pulumi.Output[str]
        username: pulumi.Output[str]
        password: pulumi.Output[str]
        ready_timeout: pulumi.Output[float]
        probe_timeout: pulumi.Output[float]
        verify: pulumi.Output[bool | str]
        object_name: pulumi.Output[Any]
        kind: pulumi.Output[Any]
        statement: pulumi.Output[Any]
        upstream: pulumi.Output[Any]
        streams_properties: pulumi.Output[Any]
        file: pulumi.Output[Any]
        index: pulumi.Output[Any]
        line: pulumi.Output[Any]
        column: pulumi.Output[Any]
        related: pulumi.Output[Any]
        sql: pulumi.Output[Any]
        query_id: pulumi.Output[Any]
        query_state: pulumi.Output[Any]
        topic: pulumi.Output[Any]
        live_differences: pulumi.Output[Any]
        adopted: pulumi.Output[Any]
        related_names: pulumi.Output[Any]

    class KsqlInsert(DeclaredResource):
        """The inputs and fields of the ``KsqlStream, KsqlTable, KsqlInsert`` field table, typed."""

        def __init__(
            self,
            resource_name: str,
            *,
            ksqldb_url: pulumi.Input[str],
            username: pulumi.Input[str] | None = None,
            password: pulumi.Input[str] | None = None,
            ready_timeout: pulumi.Input[float] | None = None,
            probe_timeout: pulumi.Input[float] | None = None,
            verify: pulumi.Input[bool | str] | None = None,
            object_name: pulumi.Input[Any],
            kind: pulumi.Input[Any] | None = None,
            statement: pulumi.Input[Any],
            upstream: pulumi.Input[Any] | None = None,
            streams_properties: pulumi.Input[Any] | None = None,
            file: pulumi.Input[Any] | None = None,
            index: pulumi.Input[Any] | None = None,
            line: pulumi.Input[Any] | None = None,
            column: pulumi.Input[Any] | None = None,
            related: pulumi.Input[Any] | None = None,
            opts: pulumi.ResourceOptions | None = None,
        ) -> None: ...

        ksqldb_url: pulumi.Output[str]
        username: pulumi.Output[str]
        password: pulumi.Output[str]
        ready_timeout: pulumi.Output[float]
        probe_timeout: pulumi.Output[float]
        verify: pulumi.Output[bool | str]
        object_name: pulumi.Output[Any]
        kind: pulumi.Output[Any]
        statement: pulumi.Output[Any]
        upstream: pulumi.Output[Any]
        streams_properties: pulumi.Output[Any]
        file: pulumi.Output[Any]
        index: pulumi.Output[Any]
        line: pulumi.Output[Any]
        column: pulumi.Output[Any]
        related: pulumi.Output[Any]
        sql: pulumi.Output[Any]
        query_id: pulumi.Output[Any]
        query_state: pulumi.Output[Any]
        topic: pulumi.Output[Any]
        live_differences: pulumi.Output[Any]
        adopted: pulumi.Output[Any]
        related_names: pulumi.Output[Any]

    class KsqlDirectory(DeclaredResource):
        """The inputs and fields of the ``KsqlDirectory`` field table, typed."""

        def __init__(
            self,
            resource_name: str,
            *,
            ksqldb_url: pulumi.Input[str],
            username: pulumi.Input[str] | None = None,
            password: pulumi.Input[str] | None = None,
            ready_timeout: pulumi.Input[float] | None = None,
            probe_timeout: pulumi.Input[float] | None = None,
            verify: pulumi.Input[bool | str] | None = None,
            statements: pulumi.Input[Any] | None = None,
            readers: pulumi.Input[Any] | None = None,
            retire: pulumi.Input[Any] | None = None,
            protect: pulumi.Input[Any] | None = None,
            opts: pulumi.ResourceOptions | None = None,
        ) -> None: ...

        ksqldb_url: pulumi.Output[str]
        username: pulumi.Output[str]
        password: pulumi.Output[str]
        ready_timeout: pulumi.Output[float]
        probe_timeout: pulumi.Output[float]
        verify: pulumi.Output[bool | str]
        statements: pulumi.Output[Any]
        readers: pulumi.Output[Any]
        retire: pulumi.Output[Any]
        protect: pulumi.Output[Any]
        objects: pulumi.Output[Any]
else:
    KsqlStream = declare(CONTRACT, KsqlObjectProvider, module="ksqldb", name="Stream", class_name="KsqlStream",
                         doc=f"A ksqlDB stream (``CREATE STREAM``, with columns or ``AS SELECT``). {_OBJECT}")
    KsqlTable = declare(CONTRACT, KsqlObjectProvider, module="ksqldb", name="Table", class_name="KsqlTable",
                        doc=f"A ksqlDB table (``CREATE TABLE``, with columns or ``AS SELECT``). {_OBJECT}")
    KsqlInsert = declare(CONTRACT, KsqlObjectProvider, module="ksqldb", name="InsertQuery", class_name="KsqlInsert",
                         doc="A persistent ``INSERT INTO ... SELECT`` query, found again by its ``QUERY_ID``. "
                             + _OBJECT)
    KsqlDirectory = declare(directory.CONTRACT, directory.KsqlDirectoryProvider, module="ksqldb", name="Directory",
                            class_name="KsqlDirectory",
                            doc="The statements a ``KsqlPipeline`` declares, stored once: it "
                            "proves their whole change with ksqlDB whenever one changes, and retires what the first "
                            "release's single ksqlDB resource managed and no file declares any more.")


RESOURCE_BY_KIND: dict[str, type[KsqlStream] | type[KsqlTable] | type[KsqlInsert]] = {
    "STREAM": KsqlStream, "TABLE": KsqlTable, "INSERT": KsqlInsert}
