"""PLACEHOLDER"""
from tests.fakes.ksqldb.errors import StatementError
from tests.fakes.ksqldb.fake import NOT_READY, FakeKsqlDb
from tests.fakes.ksqldb.kafka import Topic

__all__ = ["NOT_READY", "FakeKsqlDb", "StatementError", "Topic"]
