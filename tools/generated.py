"""The text generated from the one registration of the kinds (``providers/kinds.py``), between markers.

- ``<!-- fields: generated from <table>'s field table ... -->`` ... ``<!-- /fields -->`` in docs/resources/*.md:
  the field table of a kind (``Contract.markdown``);
- ``<!-- kinds: generated from providers/kinds.py ... -->`` ... ``<!-- /kinds -->`` in README.md and
  docs/resources/README.md: the list of kinds, each with its type token, module and the page of its table;
- ``if TYPE_CHECKING:  # typed inputs of <Kind, ...> (python -m tools.generated)`` ... ``else:`` in the module
  that declares a kind: a class with the kind's inputs as typed keyword arguments and its fields as typed
  attributes, which mypy and editors see instead of the class ``declare`` makes at run time.

``python -m tools.generated`` rewrites every block; ``--check`` only lists the files that are not current
(exit code 1). tests/unit/test_generated.py runs the check.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import re
import sys
from typing import Callable

from providers.contract import OUTPUT
from providers.kinds import KINDS

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESOURCE_DOCS = ROOT / "docs" / "resources"
KIND_LISTS = (ROOT / "README.md", RESOURCE_DOCS / "README.md")
FIELDS = re.compile(r"(<!-- fields: generated from (?P<table>.*?)'s field table[^\n]*-->\n)(.*?)(\n<!-- /fields -->)",
                    re.S)
KIND_LIST = re.compile(r"(<!-- kinds: generated from providers/kinds.py[^\n]*-->\n)(.*?)(\n<!-- /kinds -->)", re.S)
TYPED = re.compile(r"^(if TYPE_CHECKING:  # typed inputs of (?P<kinds>[\w, ]+) \(python -m tools\.generated\)\n)"
                   r"(.*?)^(else:\n)", re.S | re.M)
PROVIDERS = ROOT / "providers"


def _tables() -> dict[str, str]:
    return {kind.contract.resource: kind.contract.markdown() for kind in KINDS}


def _page_of(table: str) -> pathlib.Path:
    """The page of docs/resources that shows ``table``'s field table."""
    marker = f"<!-- fields: generated from {table}'s field table"
    pages = [page for page in sorted(RESOURCE_DOCS.glob("*.md")) if marker in page.read_text(encoding="utf-8")]
    if not pages:
        raise SystemExit(f"no page of docs/resources shows the field table of {table}: put the lines "
                         f"'{marker}; checked by tests/unit/test_provider_contract.py -->' and '<!-- /fields -->' "
                         "on the page of its service")
    return pages[0]


def kinds_table(page: pathlib.Path) -> str:
    """The kinds of ``providers/kinds.py`` as a table, with links relative to ``page``."""
    rows = ["| kind | type token | provider module | field table |", "|---|---|---|---|"]
    for kind in KINDS:
        doc = _page_of(kind.contract.resource)
        link = os.path.relpath(doc, page.parent).replace(os.sep, "/")
        rows.append(f"| `{kind.__name__}` | `pulumi-python:{kind._resource_type_name}` | `{kind.__module__}` "
                    f"| [{doc.name}]({link}) |")
    return "\n".join(rows)


def typed_class(name: str) -> str:
    """The class mypy and editors see for kind ``name``: its inputs as keyword arguments (the required ones
    without a default), every field an attribute, each with the type of its field's ``annotation``."""
    kind = next(kind for kind in KINDS if kind.__name__ == name)
    fields = kind.contract.fields
    inputs = [f"            {f.name}: pulumi.Input[{f.annotation}]{'' if f.required else ' | None = None'},"
              for f in fields if f.role != OUTPUT]
    return "\n".join([
        f"    class {name}(DeclaredResource):",
        f'        """The inputs and fields of the ``{kind.contract.resource}`` field table, typed."""',
        "",
        "        def __init__(", "            self,", "            resource_name: str,", "            *,",
        *inputs, "            opts: pulumi.ResourceOptions | None = None,", "        ) -> None: ...", "",
        *(f"        {f.name}: pulumi.Output[{f.annotation}]" for f in fields), ""])


def rendered(page: pathlib.Path, text: str) -> str:
    """``text`` of ``page`` with every generated block as the code has it now."""
    if page.suffix == ".py":
        return TYPED.sub(lambda match: match.group(1) + "\n".join(
            typed_class(name.strip()) for name in match.group("kinds").split(",")) + match.group(4), text)
    tables = _tables()

    def fields(match: re.Match[str]) -> str:
        return match.group(1) + tables[match.group("table")] + match.group(4)

    def kinds(match: re.Match[str]) -> str:
        return match.group(1) + kinds_table(page) + match.group(3)

    return KIND_LIST.sub(kinds, FIELDS.sub(fields, text))


def typed_modules() -> list[pathlib.Path]:
    """The modules of ``providers`` that hold typed inputs."""
    return [path for path in sorted(PROVIDERS.rglob("*.py")) if TYPED.search(path.read_text(encoding="utf-8"))]


def generated_files() -> list[pathlib.Path]:
    return sorted({*RESOURCE_DOCS.glob("*.md"), *KIND_LISTS, *typed_modules()})


def stale(render: Callable[[pathlib.Path, str], str] = rendered) -> list[pathlib.Path]:
    """The files whose generated blocks are not current."""
    return [path for path in generated_files()
            if render(path, text := path.read_text(encoding="utf-8")) != text]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.generated", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only list the files that are not current")
    args = parser.parse_args(argv)
    outdated = stale()
    for path in outdated:
        if args.check:
            print(f"{path.relative_to(ROOT)}: generated text is not current; run python -m tools.generated")
        else:
            path.write_text(rendered(path, path.read_text(encoding="utf-8")), encoding="utf-8")
            print(f"rewrote {path.relative_to(ROOT)}")
    return 1 if args.check and outdated else 0


if __name__ == "__main__":
    sys.exit(main())
