"""Shared pytest set-up: the project root on sys.path and tier markers from the test's folder."""
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

_TIER_BY_FOLDER = {"unit": "unit", "provider": "provider", "integration": "integration"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        folder = pathlib.Path(str(item.fspath)).parent.name
        if folder in _TIER_BY_FOLDER:
            item.add_marker(getattr(pytest.mark, _TIER_BY_FOLDER[folder]))
