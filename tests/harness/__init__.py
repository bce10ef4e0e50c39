"""Real services for tests: Apache Kafka + Kafka Connect, and Elasticsearch — JVMs from Maven Central jars,
or containers via testcontainers.

``python -m tests.harness [elasticsearch]`` starts them and prints their addresses; the pytest fixtures are
in ``tests.harness.fixtures``.
"""
