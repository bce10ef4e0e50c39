"""Every pinned third-party version of the Kubernetes platform, in one place.

Charts (name, version, repository) are installed with ``helm.v3.Release``: their base values live in
``helm-values/<chart>.yaml``, passed to Helm as a values file (so ``key: null`` there removes a chart
default, as with ``helm -f``; the Pulumi Python SDK drops ``None`` from inline values), and per-stack
overrides computed from the config are passed inline on top (Helm merges them key by key).
Why each one: see docs/versions.md and docs/kubernetes.md.
"""
from __future__ import annotations

import dataclasses
import pathlib
from typing import Any

import yaml

PROJECT_DIR = pathlib.Path(__file__).resolve().parents[2]
VALUES_DIR = PROJECT_DIR / "helm-values"


@dataclasses.dataclass(frozen=True)
class Chart:
    """A Helm chart pinned by version in a classic (HTTP) chart repository."""

    name: str
    version: str
    repository: str

    @property
    def values_file(self) -> str:
        """``helm-values/<name>.yaml``, relative to the project directory (where Pulumi runs the program)."""
        return f"{VALUES_DIR.name}/{self.name}.yaml"

    def base_values(self) -> dict[str, Any]:
        return yaml.safe_load((PROJECT_DIR / self.values_file).read_text()) or {}


# Strimzi 1.x: the first release line with only the v1 CRD API (KRaft + node pools only).
STRIMZI = Chart("strimzi-kafka-operator", "1.0.1", "https://strimzi.io/charts/")
# Elastic Cloud on Kubernetes 3.x (the old elastic/elasticsearch chart is archived).
ECK = Chart("eck-operator", "3.3.0", "https://helm.elastic.co")
# The Grafana chart moved to the grafana-community repository (the grafana.github.io one is frozen);
# 11.6.x is the last chart line that ships Grafana 12 (the image tag comes from the config anyway).
GRAFANA = Chart("grafana", "11.6.1", "https://grafana-community.github.io/helm-charts")

# Apache Kafka version run by the Strimzi operator (must be in Strimzi's supported list).
STRIMZI_KAFKA_VERSION = "4.2.0"
# API versions of the custom resources the operators serve.
STRIMZI_API = "kafka.strimzi.io/v1"
ECK_API = "elasticsearch.k8s.elastic.co/v1"
# Kubernetes version the rendered manifests are validated against (inside ECK 3.3's supported range).
KUBERNETES_VERSION = "1.33"
