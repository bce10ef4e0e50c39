"""``IndexTemplate``: a composable Elasticsearch index template as a Pulumi dynamic resource."""
from __future__ import annotations

from typing import Any, Mapping

import pulumi
from pulumi.dynamic import Resource

from providers.contract import DEFAULT_READY_TIMEOUT
from providers.elasticsearch.provider import CONTRACT, IndexTemplateProvider

SECRET_OUTPUTS = CONTRACT.secret_outputs


class IndexTemplate(Resource, module="elasticsearch", name="IndexTemplate"):
    """``PUT _index_template/<template_name>`` with ``body``, validated with ``_simulate`` first.

    Outputs: ``template_name``, ``body`` (live body after a refresh), ``adopted``.
    """

    template_name: pulumi.Output[str]
    body: pulumi.Output[dict]
    adopted: pulumi.Output[bool]

    def __init__(self, resource_name: str, *, elasticsearch_url: pulumi.Input[str], template_name: str,
                 body: Mapping[str, Any], username: pulumi.Input[str] | None = None,
                 password: pulumi.Input[str] | None = None, verify: bool | str = True,
                 ready_timeout: float = DEFAULT_READY_TIMEOUT, opts: pulumi.ResourceOptions | None = None):
        props = {
            "elasticsearch_url": elasticsearch_url,
            "username": username,
            "password": None if password is None else pulumi.Output.secret(password),
            "verify": verify,
            "ready_timeout": ready_timeout,
            "template_name": template_name,
            "body": dict(body),
            "adopted": None,
        }
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=SECRET_OUTPUTS))
        super().__init__(IndexTemplateProvider(), resource_name, props, opts)
