"""The dill round trip of the provider tests (``tests.provider.pulumi_engine.dill_round_trip``) loads a
provider in a separate process, as the dynamic provider host does: a provider that only loads in the
process that made it (its class lives in a module the host cannot import) fails there."""
from __future__ import annotations

import sys
import types

import pytest
from pulumi.dynamic import ResourceProvider

from tests.provider.pulumi_engine import dill_round_trip


def test_a_provider_the_host_cannot_import_fails_the_round_trip(monkeypatch):
    module = types.ModuleType("made_at_runtime")
    exec("from pulumi.dynamic import ResourceProvider\nclass Provider(ResourceProvider):\n    pass\n",
         module.__dict__)
    monkeypatch.setitem(sys.modules, "made_at_runtime", module)
    with pytest.raises(AssertionError, match=r"provider host could not load or run made_at_runtime\.Provider: "
                                             r"(?s:.*)No module named 'made_at_runtime'"):
        dill_round_trip(module.Provider())


def test_a_project_provider_loads_in_the_host():
    from providers.ksqldb import KsqlObjectProvider
    assert isinstance(dill_round_trip(KsqlObjectProvider()), ResourceProvider)
