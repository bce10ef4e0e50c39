"""What collides when a FAKE ksqlDB 8.2.1 answers requests at the same moment: the one transactional
producer through which every statement is written (``CommandProducer``), and the Kafka Streams state
directories of the queries a request's validation builds (``StateDirectories``).

The real server (confluentinc/ksql v8.2.1): ``DistributingExecutor.execute`` first runs the injectors
(``TopicCreateInjector`` creates a new source's topic for real), then ``executeInjected`` makes a producer
with ``CommandQueue.createTransactionalProducer`` -- every producer of a server has the same
``transactional.id``, the service id (``CommandStore``'s producer properties) -- and runs
``initTransactions``, ``beginTransaction``, ``waitForCommandConsumer``, validation, ``enqueueCommand`` and
``commitTransaction``. Kafka's transaction coordinator fences an unfinished transaction when a newer
producer with the same id initialises: the earlier statement fails with ``ProducerFencedException``, its
command is aborted (``commandQueue.abortCommand``) and ``revertSideEffects`` deletes the topic it created,
so nothing of it runs. Reads (``LIST``/``SHOW``/``DESCRIBE``) and a request refused in validation (the
dry-run pattern: its sentinel ``DROP`` is refused before anything is executed) never make a producer.

Recorded on 2026-12-07 (``tests/data/ksqldb-8.2.1/2026-12-07/``): bursts of 2-8 CREATEs released at once
always had all but one or two fenced, answered 500 ``There is a newer producer with the same transactionalId
which fences the current one.``; none of the fenced had run, each re-sent alone was created; a CREATE
released with a ``DROP ... DELETE TOPIC`` never collided (the CREATE spends its first moments creating its
topic, the DROP had committed by then); dry runs never collided with a write.

Validation (``RequestValidator`` in the request's sandbox) builds each persistent query it meets as a Kafka
Streams application whose state directory is named by the query id (``<ksql.streams.state.dir>/
_confluent-ksql-<service id>query_<id>``); a sandbox numbers its queries from the live counter, so two
requests validated at once that create the same query get the same directory, and Kafka Streams'
``StateDirectory`` lock refuses the later one: 500 50000 ``Unable to initialize state, this can happen if
multiple instances of Kafka Streams are running in the same state directory (current state directory is
[<dir>]``, naming every statement of the request (recorded: 3 dry runs of the project's 17 statements at
once, 8 of 15 refused after 0.2-0.5 s, always naming the first query; retried at once, 7 of 8 were
accepted, so a directory is held while its query is built, not for the whole validation; 3 dry runs of
one plain CREATE never collided). The fake refuses only at the first query a validation builds, as every
recorded refusal did: once one validation was refused there, the others build each query a build apart.

The fake makes both phases explicit, in real time: a statement that creates a topic first spends
``topic_creation_s``; then it holds the producer for ``window_s`` (its transaction). A statement that
takes the producer while an earlier one holds it fences that one. A request whose validation built
queries holds the state directory of each for ``validation_s`` while it builds it. 0 turns a collision off.
"""
from __future__ import annotations

import threading

UNABLE_TO_INITIALIZE = ("Unable to initialize state, this can happen if multiple instances of Kafka Streams are "
                        "running in the same state directory (current state directory is [{}]")
FENCED = "There is a newer producer with the same transactionalId which fences the current one."


class CommandProducer:
    """The service's transactional producer, shared by every request of one fake server. ``lock`` is the
    server's lock: it is held while a request runs and released while the request waits here."""

    def __init__(self, lock: threading.RLock, window_s: float, topic_creation_s: float):
        self._turn = threading.Condition(lock)
        self.window_s, self.topic_creation_s = window_s, topic_creation_s
        self._epoch = 0  # the producer epoch: each initTransactions takes a new one and fences the older

    def transaction(self, creates_topic: bool) -> bool:
        """Create the topic (if any), init, hold the transaction open for ``window_s``: whether it
        committed (False: a newer producer fenced it). Call with the server's lock held."""
        if creates_topic and self.topic_creation_s > 0:
            self._turn.wait_for(lambda: False, timeout=self.topic_creation_s)
        self._epoch += 1
        mine = self._epoch
        self._turn.notify_all()
        if self.window_s > 0:
            self._turn.wait_for(lambda: self._epoch != mine, timeout=self.window_s)
        return self._epoch == mine


class StateDirectories:
    """The state directories the validations running now hold, by query id."""


    def __init__(self, lock: threading.RLock, validation_s: float, state_dir: str, service_id: str):
        self._turn = threading.Condition(lock)
        self.validation_s, self._state_dir, self._service_id = validation_s, state_dir, service_id
        self._held: set[str] = set()

    def path(self, query_id: str) -> str:
        return f"{self._state_dir}/_confluent-ksql-{self._service_id}query_{query_id}"

    def build(self, query_id: str, first: bool) -> str | None:
        """Build the query ``query_id`` in its state directory, locked for ``validation_s``: None, or (after
        the same time: it was refused once built) the refusal when another validation holds it and this is
        the ``first`` query the validation builds. Call with the server's lock held."""
        collides = first and query_id in self._held
        mine = query_id not in self._held
        self._held.add(query_id)
        try:
            if self.validation_s > 0:
                self._turn.wait_for(lambda: False, timeout=self.validation_s)
        finally:
            if mine:
                self._held.discard(query_id)
        return UNABLE_TO_INITIALIZE.format(self.path(query_id)) if collides else None
