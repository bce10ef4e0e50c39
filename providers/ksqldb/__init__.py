"""ksqlDB application layer: SQL file parser, REST client, and one Pulumi resource per stream, table and
INSERT query (``KsqlPipeline`` declares them from a SQL directory)."""
from providers.ksqldb.client import KsqlClient, KsqlError
from providers.ksqldb.parser import (
           KsqlParseError,
           Statement,
           load_sql_dir,
           normalise,
           parse_sources,
)
from providers.ksqldb.pipeline import KsqlPipeline
from providers.ksqldb.provider import KsqlObjectError, KsqlObjectProvider
from providers.ksqldb.resource import KsqlInsert, KsqlStream, KsqlTable

__all__ = ["KsqlClient", "KsqlError", "KsqlInsert", "KsqlObjectError", "KsqlObjectProvider", "KsqlParseError",
           "KsqlPipeline", "KsqlStream", "KsqlTable", "Statement", "load_sql_dir", "normalise", "parse_sources"]
