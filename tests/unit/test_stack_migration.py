"""Unit tier (Pulumi mocks): stacks deployed by the first release keep every resource.

``tests/unit/data/urns_v1.json`` holds the URN of every resource the first release declared. The current
program must reach each of them — under the same URN or through an alias — so that the engine matches old
state to new resources instead of replacing them. The single ``KsqlStatements`` resource is reached by the
pipeline's ``KsqlDirectory`` (which retires what it managed and no file declares any more), and its objects
are adopted by the per-object ksqlDB resources (tests/provider/test_ksqldb.py).
"""
from __future__ import annotations

import json
import pathlib

import pytest

from tests.pulumi_mocks import engine_urn, run_stack

V1 = json.loads((pathlib.Path(__file__).parent / "data" / "urns_v1.json").read_text())
KSQL_STATEMENTS = "pulumi-python:dynamic:Resource::clickstream-ksql"  # the first release's single ksqlDB resource


def reachable(stack: str) -> dict[str, str]:
    """URN (own or alias) -> the resource that answers to it."""
    found = {}
    for declared in run_stack(stack).resources:
        for urn in (engine_urn(declared.urn), *declared.aliases):
            found[urn] = declared.name
    return found


@pytest.mark.parametrize("stack", ["dev"])
def test_every_resource_of_the_first_release_is_found_again(stack):
    found = reachable(stack)
    missing = [urn for urn in V1[stack] if urn not in found]
    assert not missing, "these would be deleted and created again:\n" + "\n".join(missing)


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_every_application_resource_of_the_first_release_is_found_again_on_kubernetes(stack):
    found = reachable(stack)
    application = [urn for urn in V1[stack] if "pulumi-python:dynamic" in urn]
    assert application and not [urn for urn in application if urn not in found]


def test_the_first_releases_ksql_resource_is_reached_by_the_pipelines_directory():
    found = reachable("dev")
    assert found[f"urn:pulumi:dev::clickstream::{KSQL_STATEMENTS}"] == "clickstream-ksql"
    assert any(urn.endswith("$pulumi-python:dynamic/ksqldb:Directory::clickstream-ksql") for urn in found)


def test_aliases_name_the_untyped_root_children_they_were():
    found = reachable("dev")
    assert found["urn:pulumi:dev::clickstream::pulumi-python:dynamic:Resource::clickstream-index-template"] == \
        "clickstream-index-template"
    assert "urn:pulumi:dev::clickstream::clickstream:app:Analytics$pulumi-python:dynamic/elasticsearch:IndexTemplate" \
           "::clickstream-index-template" in found


def test_the_new_providers_plan_no_replacement_over_the_first_releases_state():
    """Each application resource's provider, given the outputs the first release recorded and the inputs
    the program declares now, plans an update at most (the URLs here differ, so each one is an update), but for
    the Elasticsearch sinks, which are replaced by the sink of the table's current build. The services are
    the fakes, so that each connector's check is judged by a worker that answers (as at a preview) instead of
    waiting out its probe for one that is not there."""
    from tests.app_layer import app_layer, fake_services, pointed_at
    from tests.provider.pulumi_engine import check, over_the_wire

    old = json.loads((pathlib.Path(__file__).parent / "data" / "state_v1_dev.json").read_text())["resources"]
    planned = {}
    with fake_services() as fakes:
        declared = {r.name: r for r in pointed_at(app_layer("dev"), fakes)}
        for name, state in old.items():
            resource = declared[name]
            inputs = check(resource.provider, resource.inputs)
            diff = resource.provider.diff(state["id"], over_the_wire(state["outs"]), inputs)
            planned[name] = "replace" if diff.replaces else "update" if diff.changes else "same"
        validated = [c for c in fakes.connect.calls if c.method == "PUT" and c.path.endswith("/config/validate")]
    assert len(planned) == len(old) == 29
    assert len(validated) == sum("-datagen-" in n or "-es-sink-" in n for n in old) == 14, \
        "Kafka Connect judges every connector's config"
    assert not any(fake.mutating_calls for fake in vars(fakes).values()), "a plan changes nothing"
    # the sinks alone are replaced: each build of a table gets its own connector (docs/resources/versioned-
    # indexes.md), the old one stopped before the new one starts
    replaced = {n for n, p in planned.items() if p == "replace"}
    assert replaced == {n for n in old if "-es-sink-" in n} and replaced
