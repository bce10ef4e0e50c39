"""Application layer: Pulumi dynamic resources that manage objects through the services' HTTP APIs.

One subpackage per API (connect, ksqldb, elasticsearch, grafana), each a thin HTTP client plus a
``pulumi.dynamic.ResourceProvider``. Nothing here imports ``components``.
"""
