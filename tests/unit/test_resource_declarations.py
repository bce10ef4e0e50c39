"""Unit tier (Pulumi mocks): every resource kind (``providers.kinds.KINDS``) is derived from its field table,
keeps each secret input a Pulumi secret whatever the caller passes, and declares each secret field as a secret
output. The secrets each kind must have are stated here on their own, so a field table that loses one (or a
kind that bypasses ``providers.declare``) fails."""
from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
from typing import Any

import pytest

import providers
from providers.connect import Connector
from providers.contract import DEFAULT_READY_TIMEOUT, OUTPUT
from providers.declare import DeclaredResource
from providers.kinds import KINDS
from tests.pulumi_mocks import is_secret, run_program

PLAIN = "plain-secret-value"
LOGIN = {"password", "api_key"}
SECRETS = {  # kind -> every field that must never be in clear: secret inputs and the hashes kept of them
    "Connector": {"password", "secret_config", "secret_config_hash"},
    "IndexTemplate": LOGIN,
    "VersionedIndex": LOGIN,
    "IndexAlias": LOGIN | {"ksqldb_password", "kafka_password"},
    "GrafanaDatasource": LOGIN | {"secure_json_data", "secure_json_data_hash"},
    "GrafanaFolder": LOGIN,
    "GrafanaDashboard": LOGIN,
    "KsqlStream": {"password"},
    "KsqlTable": {"password"},
    "KsqlInsert": {"password"},
    "KsqlDirectory": {"password"},
    "GrafanaAlertRule": LOGIN,
    "GrafanaContactPoint": LOGIN | {"secure_settings", "secure_settings_hash"},
    "GrafanaNotificationPolicy": LOGIN,
    "IndexLifecyclePolicy": LOGIN,
}
IDS = [kind.__name__ for kind in KINDS]


def declared(kind: type[DeclaredResource]):
    """The registration of one ``kind`` given every input, secrets as plain strings."""
    inputs: dict[str, Any] = {f.name: PLAIN if f.secret else "x" for f in kind.contract.fields if f.role != OUTPUT}
    (resource,) = run_program(lambda: {"r": kind("r", **inputs)}).resources
    return resource


@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_each_kind_has_exactly_the_secrets_it_must_have(kind):
    assert kind.__name__ in SECRETS, f"state here which fields of {kind.__name__} must be secret"
    assert {f.name for f in kind.contract.fields if f.secret} == SECRETS[kind.__name__]


@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_every_secret_input_is_a_secret_in_state_even_when_passed_as_a_plain_string(kind):
    resource = declared(kind)
    secret_inputs = sorted(SECRETS[kind.__name__] & set(resource.inputs))
    assert secret_inputs, f"{kind.__name__} registered none of its secret inputs"
    assert [name for name in secret_inputs if not is_secret(resource.inputs[name])] == []
    assert PLAIN not in json.dumps({k: v for k, v in resource.inputs.items() if not is_secret(v)}, default=str)


@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_every_secret_field_is_a_secret_output(kind):
    assert SECRETS[kind.__name__] <= set(declared(kind).additional_secret_outputs)


@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_the_class_is_its_table_inputs_defaults_and_outputs(kind):
    table = kind.contract
    parameters = inspect.signature(kind.__init__).parameters
    inputs = [f for f in table.fields if f.role != OUTPUT]
    assert [name for name in parameters if name not in ("self", "resource_name", "opts")] == [f.name for f in inputs]
    assert parameters["ready_timeout"].default == DEFAULT_READY_TIMEOUT
    assert all(parameters[f.name].default is inspect.Parameter.empty for f in inputs if f.required)
    assert set(kind.__annotations__) == {f.name for f in table.fields}
    assert declared(kind).type == f"pulumi-python:{kind._resource_type_name}"


def test_a_wrong_input_name_is_refused_naming_it_and_the_inputs():
    with pytest.raises(TypeError, match=r"Connector 'c': got an unexpected keyword argument 'conect_url' "
                                        r"\(inputs of Connector: connect_url, username, password, ready_timeout, "
                                        r"probe_timeout, verify, "
                                        r"connector_name, "):
        Connector("c", connect_url="http://x", conect_url="http://x", connector_name="c", config={})
    with pytest.raises(TypeError, match="Connector 'c': missing a required argument: 'connector_name'"):
        Connector("c", connect_url="http://x", config={})


def test_every_declared_kind_is_registered():
    """A kind declared with ``providers.declare`` but missing from ``providers.kinds.KINDS`` escapes the
    contract tests: importing every module of ``providers`` finds each declared class."""
    for module in pkgutil.walk_packages(providers.__path__, "providers."):
        importlib.import_module(module.name)
    declared = {cls.__name__ for cls in DeclaredResource.__subclasses__()}
    assert declared == {kind.__name__ for kind in KINDS}, "add the missing kinds to providers/kinds.py"
