"""Unit tier (source only): the packages depend downwards only (docs/architecture.md, "Layering")."""
from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
OURS = ("stackconfig", "components", "providers", "clickstream", "tests", "benchmarks")
ALLOWED = {  # package -> the project's packages it may import
    "stackconfig": set(),
    "providers": set(),
    "components": {"stackconfig"},
    "clickstream": {"stackconfig", "components", "providers"},
}


def imported_packages(path: pathlib.Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
        found |= {name.split(".")[0] for name in names if name.split(".")[0] in OURS}
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_the_layers_below_it(package):
    wrong = {str(path.relative_to(ROOT)): sorted(imported_packages(path) - ALLOWED[package] - {package})
             for path in (ROOT / package).rglob("*.py")}
    assert not {k: v for k, v in wrong.items() if v}, wrong
