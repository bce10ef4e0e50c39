"""The ``KsqlStatements`` Pulumi resource: a set of ksqlDB streams, tables and INSERT INTO queries."""
from __future__ import annotations

from typing import Mapping

import pulumi
from pulumi.dynamic import Resource

from providers.ksqldb.provider import SECRET_OUTPUTS, KsqlStatementsProvider


class KsqlStatements(Resource):
    """Statements from SQL files (``load_sql_dir("ksql")``), applied in dependency order.

    ``variables`` fill ``${name}`` placeholders; ``streams_properties`` (e.g.
    ``{"auto.offset.reset": "earliest"}``) are sent with every CREATE/INSERT. Output ``objects``: the
    managed object names in dependency order.
    """

    objects: pulumi.Output[list[str]]

    def __init__(self, resource_name: str, *, ksqldb_url: pulumi.Input[str], sources: Mapping[str, str],
                 variables: Mapping[str, pulumi.Input[str]] | None = None,
                 streams_properties: Mapping[str, str] | None = None,
                 username: pulumi.Input[str] | None = None, password: pulumi.Input[str] | None = None,
                 ready_timeout: float = 300, opts: pulumi.ResourceOptions | None = None):
        props = {
            "ksqldb_url": ksqldb_url,
            "sources": dict(sources),
            "variables": dict(variables or {}),
            "streams_properties": dict(streams_properties or {}),
            "username": username,
            "password": password,
            "ready_timeout": ready_timeout,
            "objects": None,
            "statements": None,
        }
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=SECRET_OUTPUTS))
        super().__init__(KsqlStatementsProvider(), resource_name, props, opts)
