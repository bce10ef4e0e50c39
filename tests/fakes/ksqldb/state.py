"""What a FAKE ksqlDB server holds: its metastore (sources, persistent queries), its query-id counter, the
Kafka topics it sees and the traffic tests put into them; and the sandbox each request is validated in.

A sandbox (``State.sandbox``) reads through to the live state and keeps its own writes in ``Overlay``
layers, so validating a request costs what the request touches, not a copy of everything (ksqlDB's
``KsqlEngine.createSandbox`` at v8.2.1 likewise copies the metastore and swaps in the sandboxed service
context). Engine code replaces ``Source``/``Query`` objects instead of changing them in place.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterator, MutableMapping
from typing import Generic, TypeVar

from tests.fakes.ksqldb.kafka import KafkaTopics, SandboxTopics

V = TypeVar("V")
_GONE = object()


class Overlay(MutableMapping[str, V], Generic[V]):
    """A dict over ``base`` that never writes to it: its writes and deletions are kept here."""

    def __init__(self, base: MutableMapping[str, V]):
        self._base = base
        self._local: dict[str, object] = {}

    def __getitem__(self, key: str) -> V:
        if key not in self._local:
            return self._base[key]
        value = self._local[key]
        if value is _GONE:
            raise KeyError(key)
        return value  # type: ignore[return-value]

    def __setitem__(self, key: str, value: V) -> None:
        self._local[key] = value

    def __delitem__(self, key: str) -> None:
        self[key]  # noqa: B018 - KeyError for a missing key, like dict
        self._local[key] = _GONE

    def __iter__(self) -> Iterator[str]:
        for key in self._base:
            if self._local.get(key) is not _GONE:
                yield key
        for key, value in self._local.items():
            if key not in self._base and value is not _GONE:
                yield key

    def __len__(self) -> int:
        return sum(1 for _ in self)


@dataclasses.dataclass(frozen=True)
class Source:
    name: str
    kind: str  # STREAM | TABLE
    topic: str
    statement: str  # as stored (re-written)
    columns: tuple[tuple[str, str, bool], ...]  # (name, type, is key)
    key_format: str
    value_format: str
    window: tuple[str, int | None] | None  # (TUMBLING|HOPPING|SESSION, size in ms or None)
    reads: tuple[str, ...]  # sources its creating query reads
    shape: str | None  # step ksqlDB cannot upgrade (join/aggregate/window), else None
    is_query: bool


@dataclasses.dataclass(frozen=True)
class Query:
    id: str
    sink: str
    statement: str
    reads: tuple[str, ...]
    properties: dict[str, str]
    state: str = "RUNNING"


@dataclasses.dataclass
class Traffic:
    """What ksqlDB's queries consumed from one topic: records, the last one's time (epoch ms), failures."""

    records: int
    last_ms: int
    failed: int = 0
    consumed: int | None = None  # consumer offset (default: everything), to model lag


@dataclasses.dataclass
class State:
    topics: KafkaTopics
    sources: MutableMapping[str, Source] = dataclasses.field(default_factory=dict)
    queries: MutableMapping[str, Query] = dataclasses.field(default_factory=dict)
    counter: int = 0
    traffic: dict[str, Traffic] = dataclasses.field(default_factory=dict)
    service_id: str = "default_"  # ksql.service.id
    host: str = "ksqldb:8088"  # the server's advertised host:port

    def sandbox(self) -> State:
        """A state to validate a request in: the metastore in overlays, topics in a ``SandboxTopics``."""
        return State(SandboxTopics(self.topics), Overlay(self.sources), Overlay(self.queries), self.counter,
                     self.traffic, self.service_id, self.host)
