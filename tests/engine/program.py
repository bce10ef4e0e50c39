"""The stack program the engine tier deploys: the project's whole application layer, nothing else.

``declare(endpoints)`` is what ``__main__.py`` does after ``deploy_services``: ``load_stack_config()`` and
``declare_analytics(cfg, secrets, services)``, with each service standing at a given URL instead of a
container. It imports the project lazily, from whichever tree is first on ``sys.path``, so the same
program also declares an older release's application layer: run as a script
(``python tests/engine/program.py <release root> <spec.json>``) it puts that release first on
``sys.path`` and runs one Automation API operation on the stack ``spec.json`` names (see
:mod:`tests.engine.workspace`), in a process of its own, since the release's modules carry today's names.
"""
from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import json
import pathlib
import sys
from typing import Any, Callable

import pulumi

SERVICES = ("kafka", "connect", "ksqldb", "elasticsearch", "grafana")


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """A service as the application layer sees it (``ServiceComponent``'s three outputs), at a fixed URL."""

    admin_url: pulumi.Output[str]
    internal_url: pulumi.Output[str]
    revision: pulumi.Output[str]

    @classmethod
    def at(cls, url: str) -> "Endpoint":
        return cls(pulumi.Output.from_input(url), pulumi.Output.from_input(url), pulumi.Output.from_input(""))


def declare(endpoints: dict[str, str]) -> None:
    """The application layer against ``endpoints`` (service -> URL); exports ``dashboardUrls``."""
    analytics = importlib.import_module(_wiring())
    services_type = importlib.import_module("components.base").Services
    # the first release kept the stack config in clickstream.config (today's editable install provides
    # ``stackconfig`` to every tree, so the older place is looked for first)
    config = "clickstream.config" if importlib.util.find_spec("clickstream.config") else "stackconfig"
    cfg, secrets = importlib.import_module(config).load_stack_config()
    services = services_type(**{name: Endpoint.at(endpoints[name]) for name in SERVICES})
    pulumi.export("dashboardUrls", analytics.declare_analytics(cfg, secrets, services).dashboard_urls)


def _wiring() -> str:
    """The module of the application layer in the tree first on ``sys.path``: today's ``clickstream.stack``, the
    first release's ``clickstream.analytics`` (looked up by folder: an installed project's import hooks would
    find today's module for a submodule the release does not have)."""
    trees = (pathlib.Path(entry or ".") for entry in sys.path)
    tree = next((folder for folder in trees if (folder / "clickstream").is_dir()), None)
    first_release = tree is not None and not (tree / "clickstream" / "stack").is_dir()
    return "clickstream.analytics" if first_release else "clickstream.stack.analytics"


def program(endpoints: dict[str, str]) -> Callable[[], None]:
    return lambda: declare(dict(endpoints))


def _run_release(root: pathlib.Path, spec_file: pathlib.Path) -> int:
    """One operation of a release's program on the stack ``spec_file`` describes; prints its summary."""
    sys.path.insert(0, str(root))
    spec: dict[str, Any] = json.loads(spec_file.read_text())
    from pulumi import automation as auto

    stack = auto.create_or_select_stack(
        stack_name=spec["stack"], project_name=spec["project"], program=program(spec["endpoints"]),
        opts=auto.LocalWorkspaceOptions(work_dir=spec["work_dir"], env_vars=spec["env"],
                                        pulumi_command=auto.PulumiCommand(spec["cli_dir"], skip_version_check=True)))
    result = stack.up(on_output=print, color="never")
    print(json.dumps({"summary": dict(result.summary.resource_changes or {})}))
    return 0


if __name__ == "__main__":
    sys.exit(_run_release(pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])))
