"""Unit tier (Pulumi mocks, no network): what the ``Connector`` resource registers with the engine."""
from __future__ import annotations

import pulumi
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor

from providers.connect import Connector


class _Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args):
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args):
        return {}


class _Recorder(MockMonitor):
    def __init__(self, mocks):
        super().__init__(mocks)
        self.requests = []

    def RegisterResource(self, request):
        self.requests.append(request)
        return super().RegisterResource(request)


def test_connector_registers_secret_config_as_secret_and_hides_the_hash():
    monitor = _Recorder(_Mocks())
    pulumi.runtime.set_mocks(monitor.mocks, project="clickstream", stack="unit", preview=False, monitor=monitor)

    @pulumi.runtime.test
    def declare():
        connector = Connector("es-sink", connect_url="http://connect:8083", connector_name="es-sink",
                              config={"connector.class": "FileStreamSink", "topics": "t"},
                              secret_config={"connection.password": "hunter2-secret"}, state="paused")
        return connector.connector_name.apply(lambda _: None)

    declare()
    (request,) = [r for r in monitor.requests if r.type == "pulumi-python:dynamic/connect:Connector"]
    assert {"secret_config", "secret_config_hash"} <= set(request.additionalSecretOutputs)
    props = rpc.deserialize_properties(request.object, keep_unknowns=True)
    secret_config = props["secret_config"]  # the SDK marks the whole map secret
    assert rpc.is_rpc_secret(secret_config)
    assert rpc.unwrap_rpc_secret(secret_config) == {"connection.password": "hunter2-secret"}
    assert props["state"] == "paused" and props["config"]["topics"] == "t"
