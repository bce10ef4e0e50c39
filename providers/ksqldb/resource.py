"""One Pulumi resource per ksqlDB object: ``KsqlStream``, ``KsqlTable`` and ``KsqlInsert`` (an INSERT INTO
query), all served by :class:`KsqlObjectProvider`. :class:`KsqlPipeline` declares them from SQL files."""
from __future__ import annotations

from typing import Any, Mapping

import pulumi
import pulumi.dynamic

from providers.contract import DEFAULT_READY_TIMEOUT
from providers.ksqldb.provider import SECRET_OUTPUTS, KsqlObjectProvider


class _KsqlObject(pulumi.dynamic.Resource):
    """Inputs: the object's ``statement`` (variables substituted) with its ``file`` and ``index`` for
    messages; ``upstream``: the names of the objects it reads, taken from their resources' outputs, so that
    replacing one replaces this one too; ``related``: the statements a rebuild of it needs (everything
    downstream, and what those read beside it), used to prove a rebuild before it starts. Outputs: ``sql``
    (normalised), ``query_id``, ``query_state``, ``topic``,
    ``adopted``."""

    object_name: pulumi.Output[str]
    sql: pulumi.Output[str]
    query_id: pulumi.Output[str | None]
    query_state: pulumi.Output[str | None]
    topic: pulumi.Output[str | None]
    adopted: pulumi.Output[bool]

    def __init__(self, resource_name: str, *, ksqldb_url: pulumi.Input[str], object_name: str, kind: str,
                 statement: str, file: str, index: int, upstream: Mapping[str, pulumi.Input[str]],
                 related: list[dict[str, Any]], streams_properties: Mapping[str, str] | None = None,
                 username: pulumi.Input[str] | None = None, password: pulumi.Input[str] | None = None,
                 ready_timeout: float = DEFAULT_READY_TIMEOUT, opts: pulumi.ResourceOptions | None = None):
        props = {
            "ksqldb_url": ksqldb_url, "username": username,
            "password": pulumi.Output.secret(password) if password is not None else None,
            "ready_timeout": ready_timeout,
            "object_name": object_name, "kind": kind, "statement": statement, "file": file, "index": index,
            "upstream": dict(upstream), "related": related,
            "streams_properties": dict(streams_properties or {}),
            "sql": None, "query_id": None, "query_state": None, "topic": None, "adopted": None,
            "live_differences": None,
        }
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=SECRET_OUTPUTS))
        super().__init__(KsqlObjectProvider(), resource_name, props, opts)


class KsqlStream(_KsqlObject, module="ksqldb", name="Stream"):
    """A ksqlDB stream (``CREATE STREAM``, with columns or ``AS SELECT``)."""


class KsqlTable(_KsqlObject, module="ksqldb", name="Table"):
    """A ksqlDB table (``CREATE TABLE``, with columns or ``AS SELECT``)."""


class KsqlInsert(_KsqlObject, module="ksqldb", name="InsertQuery"):
    """A persistent ``INSERT INTO ... SELECT`` query, found again by its ``QUERY_ID``."""


RESOURCE_BY_KIND = {"STREAM": KsqlStream, "TABLE": KsqlTable, "INSERT": KsqlInsert}
