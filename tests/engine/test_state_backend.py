"""The file backend as ``make`` configures it (``PULUMI_DIY_BACKEND_ZSTD``, see docs/testing.md "Scale"),
on the REAL engine: the state is written zstd-compressed, and a stack whose state was written uncompressed
(before the Makefile compressed it, or by a ``pulumi`` run without the variable) carries over both ways
with a no-op ``up`` that sends nothing to any service.
"""
from __future__ import annotations

from tests.engine.workspace import EngineStack

COMPRESSION = "PULUMI_DIY_BACKEND_ZSTD"


def stack_files(stack: EngineStack) -> set[str]:
    """The stack's current state file(s), backups aside."""
    return {path.name for path in (stack.folder / "state" / ".pulumi" / "stacks").rglob("dev.json*")
            if not path.name.endswith((".attrs", ".bak"))}


def test_state_is_compressed_and_an_uncompressed_one_carries_over_both_ways(fresh_pipeline, tmp_path):
    stack = EngineStack(tmp_path / "stack", fresh_pipeline.endpoints())
    env = stack.stack.workspace.env_vars  # over the process's environment (make exports the variable too)
    assert env[COMPRESSION] == "true"
    env[COMPRESSION] = "false"
    created = stack.up()
    assert created.all_ops() == {"create"} and stack_files(stack) == {"dev.json"}
    for compressed, written in (("true", "dev.json.zst"), ("false", "dev.json")):
        env[COMPRESSION] = compressed
        fresh_pipeline.reset_calls()
        up = stack.up()
        assert up.all_ops() == {"same"}, up.changed()
        assert set(fresh_pipeline.requests().values()) == {0}, fresh_pipeline.requests()
        assert stack_files(stack) == {written}
        assert len(up.steps) == len(created.steps)
