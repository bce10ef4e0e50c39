"""Shared pytest set-up: the project root on sys.path and tier markers from the test's folder."""
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# real Kafka + Kafka Connect fixtures (kafka_connect, connect_worker): see tests/harness/fixtures.py;
# connect_backend (fake + real), fake_connect, http_calls: see tests/provider/connect_backend.py
pytest_plugins = ["tests.harness.fixtures", "tests.provider.connect_backend"]

_TIER_BY_FOLDER = {"unit": "unit", "provider": "provider", "integration": "integration"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        folder = pathlib.Path(str(item.fspath)).parent.name
        if folder in _TIER_BY_FOLDER:
            item.add_marker(getattr(pytest.mark, _TIER_BY_FOLDER[folder]))
