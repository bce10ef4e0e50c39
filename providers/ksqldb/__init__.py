"""ksqlDB application layer: SQL file parser, REST client and the ``KsqlStatements`` dynamic resource."""
from providers.ksqldb.client import KsqlClient, KsqlError
from providers.ksqldb.parser import KsqlParseError, Statement, load_sql_dir, normalise, parse_sources
from providers.ksqldb.provider import KsqlStatementsError, KsqlStatementsProvider
from providers.ksqldb.resource import KsqlStatements

__all__ = ["KsqlClient", "KsqlError", "KsqlParseError", "KsqlStatements", "KsqlStatementsError",
           "KsqlStatementsProvider", "Statement", "load_sql_dir", "normalise", "parse_sources"]
