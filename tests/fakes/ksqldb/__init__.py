"""A FAKE ksqlDB 8.2.1 server for provider tests: a threaded HTTP server on 127.0.0.1 that keeps streams,
tables, persistent queries and Kafka topics in memory and answers the REST API the way ksqlDB 8.2.1 does.

It is held to a real server: ``tests/provider/test_ksqldb_recorded.py`` replays the answers recorded from
ksqlDB 8.2.1 on Apache Kafka 4.2.1 (``tests/data/ksqldb-8.2.1/``, "recorded #n" below) and fails on any
difference. Each rule names its source: a class of confluentinc/ksql at tag v8.2.1, or the recording.

Modules: ``fake`` (routes, test controls, validate-then-execute), ``concurrency`` (the transactional
producer and the query state directories requests at the same moment collide on), ``syntax`` (the
parser's refusals of a whole request), ``engine`` (statements that write, and the refusals of a source's
definition and WITH clause), ``query`` and ``expressions`` (the analysis of a query, typed expressions),
``catalog`` (SHOW/LIST/DESCRIBE), ``sql`` (statements written back as ksqlDB stores them), ``state``
(metastore and the per-request sandbox), ``kafka`` (topics), ``errors`` (refusals).

- Requests (``KsqlResource.handleKsqlStatements`` -> ``RequestValidator.validate``): every statement is
  validated in order in one sandbox, each seeing the earlier ones, and nothing runs unless all pass. The
  sandbox (``KsqlEngine.createSandbox``) holds the metastore in copy-on-write overlays. Its Kafka view is
  ``SandboxedKafkaTopicClient``: created topics stay in memory, but ``deleteTopics`` passes through, so
  a refused request still deletes the topic of its ``DROP ... DELETE TOPIC`` (recorded side effects).
- Concurrency (``DistributingExecutor``, ``CommandStore``; recorded group B of the 2026-12-07 set): every
  write goes through one transactional producer per server (``transactional.id`` = service id); a write
  that initialises it while an earlier one holds its transaction fences that one: 500 50000 "There is a
  newer producer with the same transactionalId which fences the current one." naming the statement, and
  nothing of it runs. Requests validated at once that build the same query collide on its Kafka Streams
  state directory: 500 50000 "Unable to initialize state, ..." naming every statement. The fake spends
  real, configurable time on each (``concurrency``); serial requests never collide; ``fenced`` and
  ``server_errors`` record what was refused.
- Credentials (``username``/``password``: basic authentication on): ``/healthcheck`` needs none (it is
  among ``AuthHandlers.KSQL_AUTHENTICATION_SKIP_PATHS`` with ``/v1/metadata``), every other path does;
  a request without valid credentials answers 401 ``{"@type": "generic_error", "error_code": 40100,
  "message": "Unauthorized"}`` (``FailureHandler``: ``Errors.ERROR_CODE_UNAUTHORIZED``).
- Refusals (``Errors``, ``KsqlRestException``): 400 ``statement_error`` 40001 naming the statement (a
  ``CREATE`` refused after the injectors is named re-written: recorded #49, #51, #54, #57); 400
  ``generic_error`` 40000 without it (a missing topic, "Upgrades not yet supported for ..."); 500
  ``statement_error`` 50000 naming every statement of the request joined by a newline (a topic
  mismatch: recorded #43, #63). Syntax errors: ``line l:c: Syntax Error\\nSyntax error at or near 'X' at
  line l:c`` (recorded #61); an unknown column: ``Line: l, Col: c`` of it in the request (recorded #57).
- Stored statements (``SqlFormatter``; ``TopicCreateInjector`` and ``DefaultFormatInjector`` add
  ``CLEANUP_POLICY``, ``KAFKA_TOPIC``, ``KEY_FORMAT``, ``PARTITIONS``, ``REPLICAS``, ``RETENTION_MS``,
  ``VALUE_FORMAT``): one sorted ``WITH`` clause, ``STRING`` for ``VARCHAR``, aliases without ``AS``, an
  unaliased source aliased by its own name, ``LEFT OUTER JOIN``, ``ON ((...))``, comparisons in
  parentheses, one select item per line (recorded #1-#17, byte for byte).
- Result keys (``LogicalPlanner``): the GROUP BY or PARTITION BY expressions selected, and a join's
  join column (recorded #26, #28: ``USERID``, ``CODE``). An ``INSERT INTO`` whose result schema, keys
  included, differs from its sink's is refused "Incompatible schema between results and sink"
  (``EngineExecutor``; recorded #64-#67).
- Topics (``TopicCreateInjector``, ``TopicValidationUtil``): a source over a missing topic needs
  ``PARTITIONS`` (the refusal quotes the statement with ``PARTITIONS=2``, recorded #45); an existing
  topic must have the declared partitions, at least the declared replicas and the same retention, else
  "... different partition/replica/retention configuration ... KSQL expects N partitions (topic has M),
  R replication factor (topic has S), and T retention (topic has U)." (recorded #43, #46). A query's sink
  topic gets its first source's partitions and replicas unless declared, retention 7 days; when that
  source's topic was deleted out of band, the query is refused 500 "Failed to Describe Kafka Topic(s):
  [t]\nCaused by: This server does not host this topic-partition." (``TopicCreateInjector``; 2026-12-07
  set, group C), while the source is still described, listed and dropped, its queries keep running, and
  ``CREATE OR REPLACE`` of it creates its topic again.
- ``DROP`` (``TopicDeleteInjector``, ``EngineContext.throwIfInsertQueriesExist``,
  ``MetaStoreImpl.deleteSource``): ``DELETE TOPIC`` deletes the topic first, before any check, and the
  statement is answered, or refused, without the clause (recorded #81; #298 of 2026-12-07); then INSERT
  queries reading or writing the source refuse it, then streams and tables reading it (400 40001,
  recorded #47, #48, #70); a DROP ends the query that creates the source. ``IF EXISTS`` of a missing
  source: "Source `X` does not exist."
- ``CREATE OR REPLACE``: a plain source may only append columns (recorded #49, #50); a query whose topic
  (formats, window type and size: ``KsqlTopic``) changes is refused naming both topics (recorded #51);
  joins, aggregations and windows cannot be upgraded (generic 40000, recorded #52, #53).
- Reads (``ListSourceExecutor``, ``SourceDescriptionFactory``, ``ListQueriesExecutor``): ``LIST|SHOW
  STREAMS|TABLES [EXTENDED]``, ``DESCRIBE x [EXTENDED]`` (``fields`` keys first with ``type: KEY``,
  nested ``STRUCT``/``ARRAY`` schemas, ``readQueries``, ``writeQueries``, ``partitions``,
  ``replication``, ``sourceConstraints``); a source whose topic is gone is still described, with
  partitions and replication 0, no ``sourceConstraints`` and the warning "Error from Kafka: Failed to
  Describe Kafka Topic(s): [t]" (``describeSource`` catches ``KafkaResponseGetFailedException``).
  ``SHOW QUERIES`` (``queries``; a paused query shows in ``statusCount``, ``state`` stays RUNNING:
  recorded #72) and ``SHOW QUERIES EXTENDED`` (``query_descriptions``, recorded #22).
  ``SHOW [ALL] TOPICS [EXTENDED]`` (``ListTopicsExecutor``): sorted by name, hidden topics
  (``ReservedInternalTopics``, ``ksql.hidden.topics`` default) left out unless ``ALL``, ``replicaInfo``
  per partition; extended: consumers and consumer groups of the queries reading the topic.
- The processing-log stream ``KSQL_PROCESSING_LOG`` on topic ``<service id>ksql_processing_log`` exists
  from the start (``ProcessingLogMessageSchema``; recorded #18, dev stack setting).
- Query ids ``CSAS_<SINK>_<n>`` / ``CTAS_<SINK>_<n>`` (kept by CREATE OR REPLACE), INSERT INTO
  ``INSERTQUERY_<n>`` or its ``QUERY_ID`` upper-cased (``InsertIntoConfigs``); ``TERMINATE``, ``PAUSE``,
  ``RESUME`` of one query (recorded #71-#80). The counter is the fake's own (the real one is the command
  sequence number): compare ids by prefix.
- Traffic (``SourceDescriptionFactory``, ``MetricCollectors``): records put into a topic with
  ``record_traffic`` show up in ``DESCRIBE ... EXTENDED`` as ``queryOffsetSummaries`` (one consumer group
  ``_confluent-ksql-<service id>query_<id>`` per query reading the source) and ``clusterStatistics`` /
  ``clusterErrorStats``.
- ``GET /info``, ``GET /healthcheck``; 503 with 50302 "KSQL is not yet ready to serve requests." for the
  next N requests (``unavailable``).

- Analysis (2026-12-07 set, group A: 65 statements alone and in the dry-run pattern; ``query``,
  ``syntax``, ``engine``): syntax errors name the whole request; ``Failed to prepare statement: ...``
  (LIMIT, unknown CAST type, WITH properties, duplicate columns) and ``Exception while preparing
  statement: ...`` name the statement as sent; topic creation refusals are 500s naming every statement;
  the analysis of the re-written statement ("Could not determine output schema for query due to error:
  ...") names it re-written; a push query is 400 40002.

Not modelled: expression type checking beyond what the recorded cases need (columns, ``->``, CAST to
BOOLEAN, comparisons, known function names); formatting of expressions other than comparisons, AND/OR,
LIKE, ``->`` and function calls; topologies and execution plans
(``SHOW QUERIES EXTENDED`` answers them empty); schema-registry subjects; the real command counter.
``POST /ksql/terminate`` (cluster-wide wipe) answers an error and is counted, so tests can assert it is
never called. Test controls: ``create_topic``, ``delete_topic`` (out of band), ``topics`` (what exists
now), ``set_query_state``, ``record_traffic``, ``fail_next_statement`` (an error while executing, after
validation passed), and the common ones of ``tests.fakes.server``.
"""
from tests.fakes.ksqldb.errors import StatementError
from tests.fakes.ksqldb.fake import NOT_READY, FakeKsqlDb
from tests.fakes.ksqldb.kafka import Topic

__all__ = ["NOT_READY", "FakeKsqlDb", "StatementError", "Topic"]
