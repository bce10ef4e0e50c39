"""Elasticsearch on Kubernetes: one ``Elasticsearch`` resource, run by the ECK operator (the stack's own
or the cluster's shared one, see ``operators``).

Security stays on (ECK cannot turn it off): the ``elastic`` superuser's password comes from the secret
config through a ``kubernetes.io/basic-auth`` Secret referenced by the file realm, so ECK does not
generate a random one. The HTTP layer runs without ECK's self-signed certificate: the Connect sink
and Grafana reach it inside the cluster, and an ingress terminates TLS for outside access; node to
node (transport) traffic keeps ECK's TLS. ECK itself manages the readiness probe and a
PodDisruptionBudget (one node down at most while the cluster is green).
"""
from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from components.base import ServiceComponent
from components.kubernetes import charts, operators
from components.kubernetes.platform import Platform, anti_affinity, await_annotations, jvm_resources, once_ready
from components.service_settings import heap_opts
from stackconfig import Secrets

PORT = 9200
TRANSPORT_PORT = 9300  # node to node
USER = "elastic"
NODE_SET = "default"


def http_service(platform: Platform) -> str:
    """Name of the Service ECK creates for the HTTP API of the cluster ``<namePrefix>``."""
    return f"{platform.cfg.name_prefix}-es-http"


def pod_labels(platform: Platform) -> dict[str, str]:
    """The label ECK gives every node (pod) of the cluster ``<namePrefix>``."""
    return {"elasticsearch.k8s.elastic.co/cluster-name": platform.cfg.name_prefix}


def image_version(image: str) -> str:
    """The Elasticsearch version of a pinned image reference (its tag)."""
    return image.rsplit(":", 1)[1]


def elasticsearch_spec(platform: Platform, credentials_secret: str) -> dict[str, object]:
    cfg = platform.cfg
    claim = {"accessModes": ["ReadWriteOnce"],
             "resources": {"requests": {"storage": cfg.elasticsearch_storage}}}
    if cfg.storage_class:
        claim["storageClassName"] = cfg.storage_class
    return {
        "version": image_version(cfg.elasticsearch_image),
        "image": cfg.elasticsearch_image,
        "http": {"tls": {"selfSignedCertificate": {"disabled": True}}},
        "auth": {"fileRealm": [{"secretName": credentials_secret}]},
        "nodeSets": [{
            "name": NODE_SET,
            "count": cfg.elasticsearch_nodes,
            # no mmap: no need to raise vm.max_map_count on the nodes (a privileged init container)
            "config": {"node.store.allow_mmap": False},
            "podTemplate": {"spec": {
                "affinity": anti_affinity(pod_labels(platform)),
                "containers": [{"name": "elasticsearch",
                                "env": [{"name": "ES_JAVA_OPTS", "value": heap_opts(cfg.elasticsearch_heap)}],
                                "resources": jvm_resources(cfg.elasticsearch_heap)}],
            }},
            "volumeClaimTemplates": [{"metadata": {"name": "elasticsearch-data"}, "spec": claim}],
        }],
    }


class ElasticsearchService(ServiceComponent):
    """Elasticsearch: ``internal_url`` is the in-cluster HTTP URL; ``admin_url`` from the admin access.
    The user is ``elastic`` with the ``elasticsearchPassword`` secret."""

    def __init__(self, name: str, platform: Platform, secrets: Secrets, admin_url: str,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("clickstream:kubernetes:Elasticsearch", name, None, opts)
        cfg = platform.cfg
        # the stack's own operator, or the cluster's shared one (stack `operators`)
        self.operator = (operators.eck_release(platform, self, cluster_wide=False)
                         if cfg.install_operators else None)
        credentials = platform.name("es-elastic-credentials")
        self.credentials = k8s.core.v1.Secret(
            credentials,
            metadata={"name": credentials, "namespace": platform.ns},
            type="kubernetes.io/basic-auth",
            string_data={"username": USER, "password": secrets.elasticsearch_password, "roles": "superuser"},
            opts=platform.opts(self))
        self.cluster = k8s.apiextensions.CustomResource(
            f"{cfg.name_prefix}-elasticsearch", api_version=charts.ECK_API, kind="Elasticsearch",
            metadata={"name": cfg.name_prefix, "namespace": platform.ns,
                      "annotations": await_annotations("jsonpath={.status.phase}=Ready")},
            spec=elasticsearch_spec(platform, credentials),
            opts=platform.opts(self, stateful=True,
                               depends_on=[*([self.operator] if self.operator else []), self.credentials]))
        url = f"http://{platform.service_host(http_service(platform))}:{PORT}"
        self.publish(once_ready(url, self.cluster), once_ready(admin_url, self.cluster), username=USER)
