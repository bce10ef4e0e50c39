"""Every ``Pulumi.<stack>.yaml`` of the repository, checked by the REAL Pulumi CLI against ``Pulumi.yaml``'s
config schema and then by the project's own config check, as ``pulumi preview`` does it.

Each stack runs in a folder of its own holding copies of the two files (the repository's are never
written), with the secrets the stack needs set as a user sets them (``make up`` generates dev's). The CLI
applies the schema's defaults and refuses a missing required key, a value of the wrong type and a secret
in plain text before any program runs; the program then runs the project's config stage
(``load_stack_config``: unknown keys, values, rules, secrets). The config stage is all that runs of the
program here: the platforms' providers (Docker, Kubernetes) are plugins this machine cannot have. That
the whole program gets past configuration is shown for ``dev``, whose preview stops, if anywhere, at the
Docker provider plugin.
"""
from __future__ import annotations

import pathlib

import pulumi
import pytest
import yaml
from pulumi import automation as auto

from stackconfig import NAMESPACE, load_stack_config, needed_secrets, parse_config
from tests.engine.workspace import ROOT, EngineFailed, EngineStack
from tools import stack as project_driver

STACK_FILES = sorted(path.name for path in ROOT.glob("Pulumi.*.yaml"))


def config_stage() -> None:
    """The first thing ``__main__.py`` does: read and validate the stack's config."""
    cfg, _ = load_stack_config()
    pulumi.export("platform", cfg.platform)


def stack_config(stack_file: pathlib.Path) -> dict[str, str]:
    return {key: str(value) for key, value in (yaml.safe_load(stack_file.read_text()).get("config") or {}).items()}


def secrets_for(name: str, config: dict[str, str]) -> dict[str, str]:
    """A test value for each secret the stack needs (what its comment tells the user to set)."""
    prefix = f"{NAMESPACE}:"
    own = {key[len(prefix):]: value for key, value in config.items() if key.startswith(prefix)}
    cfg = parse_config(name, own)
    return {f"{prefix}{key}": f"test-{key}-value" for key, needed in needed_secrets(cfg, own).items() if needed}


class StackFileCheck(EngineStack):
    """Stack ``name`` in ``folder/work`` with ``project`` (Pulumi.yaml's text) and ``stack_file``'s text,
    running ``program`` inline."""

    def __init__(self, folder: pathlib.Path, name: str, project: str, stack_file: str, secrets: dict[str, str],
                 program=config_stage):
        self.folder, self.endpoints, self.declares = folder, {}, None
        self._prepare(folder)
        (self.work_dir / "Pulumi.yaml").write_text(project)
        (self.work_dir / f"Pulumi.{name}.yaml").write_text(stack_file)
        self.stack = project_driver.select_stack(name, self.work_dir, self.env,
                                                 cli=auto.PulumiCommand(str(self.cli_root)), program=program)
        for key, value in secrets.items():
            self.stack.set_config(key, auto.ConfigValue(value, secret=True))


def check(tmp_path: pathlib.Path, name: str, stack_file: str, secrets: dict[str, str],
          project: str | None = None, program=config_stage) -> StackFileCheck:
    return StackFileCheck(tmp_path / name, name, project or (ROOT / "Pulumi.yaml").read_text(), stack_file, secrets,
                          program)


def test_the_repository_has_every_stack_file_this_check_expects():
    assert {"Pulumi.dev.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml", "Pulumi.operators.yaml",
            "Pulumi.external.yaml"} <= set(STACK_FILES)


@pytest.mark.parametrize("file_name", STACK_FILES)
def test_each_stack_file_passes_the_cli_schema_and_the_config_check(pulumi_cli, tmp_path, file_name):
    name = file_name.removeprefix("Pulumi.").removesuffix(".yaml")
    text = (ROOT / file_name).read_text()
    stack = check(tmp_path, name, text, secrets_for(name, stack_config(ROOT / file_name)))
    platform = stack_config(ROOT / file_name)[f"{NAMESPACE}:platform"]
    preview = stack.preview()
    assert f'platform: "{platform}"' in preview.output, preview.output  # the config stage ran to its end
    assert (ROOT / file_name).read_text() == text, "the repository's stack file is never written"


@pytest.mark.parametrize("line, refused", [
    ("  clickstream:grafanaPort: three", "Stack 'staging' with configuration key 'grafanaPort' must be of type "
                                         "'integer'"),
    ("  clickstream:protect: maybe", "Stack 'staging' with configuration key 'protect' must be of type 'boolean'"),
    ("  clickstream:kafkaBroker: \"3\"", "clickstream:kafkaBroker = '3': unknown key (did you mean "
                                         "clickstream:kafkaBrokers?)"),
])
def test_a_stack_file_with_an_undeclared_key_or_a_wrongly_typed_value_fails(pulumi_cli, tmp_path, line, refused):
    text = (ROOT / "Pulumi.staging.yaml").read_text() + line + "\n"
    stack = check(tmp_path, "staging", text, secrets_for("staging", stack_config(ROOT / "Pulumi.staging.yaml")))
    with pytest.raises(EngineFailed) as failed:
        stack.preview()
    assert refused in str(failed.value) + failed.value.outcome.output


def test_a_declared_secret_could_never_be_optional(pulumi_cli, tmp_path):
    """Why Pulumi.yaml declares no secret: without a default the CLI requires it on every stack (the first
    preview of a fresh clone stopped at ``alertWebhookUrl``), and with one it refuses the plain default."""
    project = (ROOT / "Pulumi.yaml").read_text()
    required = project + "  alertWebhookUrl:\n    type: string\n    secret: true\n"
    defaulted = project + "  alertWebhookUrl:\n    type: string\n    secret: true\n    default: \"\"\n"
    secrets = {"clickstream:grafanaAdminPassword": "test-grafana-pw"}
    dev = (ROOT / "Pulumi.dev.yaml").read_text()
    with pytest.raises(EngineFailed) as missing:
        check(tmp_path / "required", "dev", dev, secrets, project=required).preview()
    assert "Stack 'dev' is missing configuration value 'alertWebhookUrl'" in str(missing.value)
    with pytest.raises(EngineFailed) as plain:
        check(tmp_path / "defaulted", "dev", dev, secrets, project=defaulted).preview()
    assert "configuration key 'alertWebhookUrl' must be encrypted as it's secret" in str(plain.value)


def test_a_fresh_dev_stack_gets_past_configuration_to_the_docker_provider(pulumi_cli, tmp_path):
    """What ``make preview`` does on a fresh clone: the dev stack file, the Grafana password ``make`` generates,
    no alert webhook, the project's whole ``__main__.py``. Configuration passes; the preview then needs the
    Docker provider plugin, which the engine tier does not have (no plugin is downloaded here)."""
    dev = (ROOT / "Pulumi.dev.yaml").read_text()
    stack = check(tmp_path, "dev", dev, {"clickstream:grafanaAdminPassword": "generated-by-make"},
                  program=project_driver.project_program)
    try:
        stack.preview()
    except EngineFailed as failed:
        said = str(failed) + failed.outcome.output
        assert "configuration value" not in said and "invalid config" not in said, said
        assert "docker" in said.lower() and "plugin" in said.lower(), said
