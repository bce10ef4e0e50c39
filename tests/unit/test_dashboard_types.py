"""Unit tier (TypeScript compiler, no services): every dashboard in ``dashboards/`` type-checks against
``@grafana/schema`` of the pinned Grafana version (``tools/grafana-schema/package.json``).

Each dashboard becomes a TypeScript module: the whole dashboard as ``Dashboard``, each panel as a
``Panel`` with its panel plugin's ``Options``/``FieldConfig`` (saved JSON may omit what Grafana
defaults, so those are deep-partial, but every key given must exist with the right type), and each
query as ``ElasticsearchDataQuery``. ``tsc --strict`` then rejects unknown keys and wrong types.

Needs ``node``/``npm`` and ``make grafana-schema`` (``.ci/run`` runs it); without them the test is
skipped with that instruction, except under CI (``CI`` set), where it fails instead.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from clickstream.stack.analytics import DASHBOARD_DIR, ROOT

TOOL_DIR = ROOT / "tools" / "grafana-schema"
TSC = TOOL_DIR / "node_modules" / ".bin" / "tsc"
SCHEMA = "@grafana/schema/dist/esm/raw/composable"
PANEL_TYPES = {  # panel type -> module of its Options / FieldConfig
    "timeseries": f"{SCHEMA}/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen",
    "table": f"{SCHEMA}/table/panelcfg/x/TablePanelCfg_types.gen",
    "stat": f"{SCHEMA}/stat/panelcfg/x/StatPanelCfg_types.gen",
}
HEADER = f"""import type {{ Dashboard, Panel, RowPanel }} from '@grafana/schema';
import type {{ ElasticsearchDataQuery }} from '{SCHEMA}/elasticsearch/dataquery/x/ElasticsearchDataQuery_types.gen';
{chr(10).join(f"import type * as {kind} from '{module}';" for kind, module in PANEL_TYPES.items())}

// JSON holds a string enum's values: `${{Enum}}` is the union of those string literals
type DeepPartial<T> = T extends string ? `${{T}}` : T extends Array<infer U> ? Array<DeepPartial<U>>
  : T extends object ? {{ [K in keyof T]?: DeepPartial<T[K]> }} : T;
type EsPanel<O, F> = Omit<Panel<DeepPartial<O>, DeepPartial<F>>, 'targets'> & {{
  options: DeepPartial<O>;
  targets: ElasticsearchDataQuery[];
}};
"""


def typescript_module(dashboard: dict) -> str:
    """The dashboard as a TypeScript module whose types are @grafana/schema's."""
    lines = [HEADER, f"export const dashboard: Dashboard = {json.dumps(dashboard, indent=1)};"]
    for panel in dashboard["panels"]:
        name = f"panel{panel['id']}"
        if panel["type"] == "row":
            lines.append(f"export const {name}: RowPanel = {json.dumps(panel)};")
        elif panel["type"] in PANEL_TYPES:
            kind = panel["type"]
            # the stat panel has no custom field config
            field_config = "Record<string, never>" if kind == "stat" else f"{kind}.FieldConfig"
            lines.append(f"export const {name}: EsPanel<{kind}.Options, {field_config}> = {json.dumps(panel)};")
        else:
            raise AssertionError(f"panel {panel['id']} ({panel['title']!r}) has type {panel['type']!r}; add its "
                                 f"@grafana/schema module to PANEL_TYPES in {__file__}")
    return "\n".join(lines) + "\n"


def _tools_or_skip() -> None:
    if TSC.exists():
        return
    reason = (f"{TSC.relative_to(ROOT)} is missing: run `make grafana-schema` (needs node and npm) to "
              f"type-check the dashboards")
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def test_every_panel_type_is_known():
    for path in sorted(DASHBOARD_DIR.glob("*.json")):
        typescript_module(json.loads(path.read_text()))


def test_dashboards_type_check_against_grafana_schema():
    _tools_or_skip()
    build = TOOL_DIR / "build"
    shutil.rmtree(build, ignore_errors=True)
    build.mkdir()
    for path in sorted(DASHBOARD_DIR.glob("*.json")):
        (build / f"{path.stem}.ts").write_text(typescript_module(json.loads(path.read_text())))
    result = subprocess.run([str(TSC), "-p", str(TOOL_DIR)], capture_output=True, text=True, timeout=300,
                            check=False)
    assert result.returncode == 0, f"dashboards do not match @grafana/schema:\n{result.stdout}{result.stderr}"


def test_a_wrong_key_is_caught():
    """The check is not vacuous: an unknown panel option and a wrong query type fail."""
    _tools_or_skip()
    build = TOOL_DIR / "build"
    shutil.rmtree(build, ignore_errors=True)
    build.mkdir()
    dashboard = json.loads((DASHBOARD_DIR / "clickstream.json").read_text())
    panel = next(p for p in dashboard["panels"] if p["type"] == "timeseries")
    panel["options"]["legend"]["displayModes"] = "list"
    panel["targets"][0]["metrics"][0]["type"] = "maximum"
    (build / "broken.ts").write_text(typescript_module(dashboard))
    result = subprocess.run([str(TSC), "-p", str(TOOL_DIR)], capture_output=True, text=True, timeout=300,
                            check=False)
    assert result.returncode != 0
    assert "displayModes" in result.stdout and "maximum" in result.stdout
