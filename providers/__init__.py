"""Application layer: Pulumi dynamic resources that manage objects through the services' HTTP APIs.

One subpackage per API (connect, ksqldb, elasticsearch, grafana), each a thin HTTP client plus a
``pulumi.dynamic.ResourceProvider`` built on ``contract`` (each resource's field table, and one way to say
gone, drifted and adopted) and ``http`` (errors by status, one retry layer, one deadline). Nothing here
imports ``components``.
"""
