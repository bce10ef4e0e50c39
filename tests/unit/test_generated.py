"""Unit tier: the text generated from the one registration of the kinds (``python -m tools.generated``) is
current in every file that shows it: the lists of kinds in README.md and docs/resources/README.md, and the
field tables of docs/resources."""
from __future__ import annotations

import ast
import importlib
import inspect

from providers.kinds import KINDS
from tools import generated


def test_every_generated_block_is_current():
    assert generated.stale() == [], "run `python -m tools.generated` and commit what it rewrites"


def test_both_lists_of_kinds_name_every_registered_kind_once():
    for path in generated.KIND_LISTS:
        text = path.read_text(encoding="utf-8")
        assert "<!-- kinds: generated from providers/kinds.py" in text, path
        for kind in KINDS:
            assert text.count(f"| `{kind.__name__}` |") == 1, (path, kind.__name__)


def test_a_stale_block_is_found_and_rewritten(tmp_path, monkeypatch):
    page = tmp_path / "README.md"
    page.write_text("<!-- kinds: generated from providers/kinds.py -->\nold list\n<!-- /kinds -->\n", encoding="utf-8")
    monkeypatch.setattr(generated, "generated_files", lambda: [page])
    monkeypatch.setattr(generated, "ROOT", tmp_path)
    assert generated.stale() == [page]
    assert generated.main([]) == 0 and generated.stale() == []
    assert "| `Connector` |" in page.read_text(encoding="utf-8")


def test_provider_classes_that_earlier_state_names_still_load():
    """Pulumi pickles a dynamic provider by reference (module and class) into state and loads it from there
    to refresh or delete: the modules a kind's file was called before still hold its provider."""
    for module, name in [("providers.connect.provider", "ConnectorProvider"),
                         ("providers.elasticsearch.provider", "IndexTemplateProvider"),
                         ("providers.ksqldb.provider", "KsqlStatementsProvider")]:
        assert isinstance(getattr(importlib.import_module(module), name), type)


def test_every_kind_has_typed_inputs_that_match_its_runtime_signature():
    """What mypy and editors see (the ``if TYPE_CHECKING`` class) takes the same keyword arguments, with the
    same ones required, as the class ``declare`` makes at run time."""
    typed = {}
    for path in generated.typed_modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and node.name in {kind.__name__ for kind in KINDS}:
                init = next(item for item in node.body if isinstance(item, ast.FunctionDef))
                required = [arg.arg for arg, default in zip(init.args.kwonlyargs, init.args.kw_defaults)
                             if default is None]
                typed[node.name] = ([arg.arg for arg in init.args.kwonlyargs], required)
    for kind in KINDS:
        parameters = list(inspect.signature(kind).parameters.values())[1:]  # after resource_name
        assert typed[kind.__name__] == ([p.name for p in parameters],
                                        [p.name for p in parameters if p.default is inspect.Parameter.empty])
