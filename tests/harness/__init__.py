"""Real Apache Kafka + Kafka Connect for tests: JVMs from Maven Central jars, or containers via testcontainers.

``python -m tests.harness`` starts a pair and prints its addresses; the pytest fixtures are in
``tests.harness.fixtures``.
"""
