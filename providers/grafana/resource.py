"""Grafana objects as Pulumi dynamic resources: ``GrafanaDatasource``, ``GrafanaFolder``, ``GrafanaDashboard``.

Authentication: ``username``/``password`` (basic, e.g. the admin user) or ``api_key`` (a service account
token); ``verify``: TLS verification (True, False or a CA bundle path); ``service_revision``: an id of the Grafana
instance (e.g. its container id) — when it changes every object is re-applied. Passwords, API keys and
``secure_json_data`` values are kept secret in state.
"""
from __future__ import annotations

from typing import Any, Mapping

import pulumi
from pulumi.dynamic import Resource

from providers.contract import DEFAULT_READY_TIMEOUT
from providers.grafana.dashboard import CONTRACT as DASHBOARD
from providers.grafana.dashboard import DashboardProvider
from providers.grafana.datasource import CONTRACT as DATASOURCE
from providers.grafana.datasource import DatasourceProvider
from providers.grafana.folder import CONTRACT as FOLDER
from providers.grafana.folder import FolderProvider


def _connection(url: pulumi.Input[str], username: pulumi.Input[str] | None, password: pulumi.Input[str] | None,
                api_key: pulumi.Input[str] | None, verify: bool | str, ready_timeout: float,
                service_revision: pulumi.Input[str] | None) -> dict[str, Any]:
    return {"grafana_url": url, "username": username, "verify": verify, "ready_timeout": ready_timeout,
            "service_revision": service_revision,
            "password": None if password is None else pulumi.Output.secret(password),
            "api_key": None if api_key is None else pulumi.Output.secret(api_key)}


def _options(opts: pulumi.ResourceOptions | None, secret_outputs: list[str]) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=secret_outputs))


class GrafanaDatasource(Resource, module="grafana", name="Datasource"):
    """A datasource, by ``uid``. ``datasource`` holds name, type, url, access, basicAuth..., jsonData (for
    Elasticsearch: ``jsonData.index`` and ``jsonData.timeField``); ``secure_json_data`` the write-only
    secrets (e.g. ``basicAuthPassword``), compared by a salted hash. Outputs: ``uid``, ``name``, ``adopted``.
    """

    uid: pulumi.Output[str]
    name: pulumi.Output[str]
    adopted: pulumi.Output[bool]

    def __init__(self, resource_name: str, *, grafana_url: pulumi.Input[str], uid: str,
                 datasource: Mapping[str, Any], username: pulumi.Input[str] | None = None,
                 password: pulumi.Input[str] | None = None,
                 secure_json_data: Mapping[str, pulumi.Input[str]] | None = None,
                 api_key: pulumi.Input[str] | None = None, verify: bool | str = True,
                 ready_timeout: float = DEFAULT_READY_TIMEOUT, service_revision: pulumi.Input[str] | None = None,
                 opts: pulumi.ResourceOptions | None = None):
        props = {**_connection(grafana_url, username, password, api_key, verify, ready_timeout,
                                 service_revision),
                 "uid": uid, "datasource": dict(datasource),
                 "secure_json_data": None if not secure_json_data else pulumi.Output.secret(dict(secure_json_data)),
                 "name": None, "adopted": None}
        super().__init__(DatasourceProvider(), resource_name, props,
                         _options(opts, DATASOURCE.secret_outputs))


class GrafanaFolder(Resource, module="grafana", name="Folder"):
    """A folder, by ``uid``, with ``title``. Outputs: ``uid``, ``title``, ``adopted``."""

    uid: pulumi.Output[str]
    title: pulumi.Output[str]
    adopted: pulumi.Output[bool]

    def __init__(self, resource_name: str, *, grafana_url: pulumi.Input[str], uid: str, title: str,
                 username: pulumi.Input[str] | None = None, password: pulumi.Input[str] | None = None,
                 api_key: pulumi.Input[str] | None = None, verify: bool | str = True,
                 ready_timeout: float = DEFAULT_READY_TIMEOUT, service_revision: pulumi.Input[str] | None = None,
                 opts: pulumi.ResourceOptions | None = None):
        props = {**_connection(grafana_url, username, password, api_key, verify, ready_timeout,
                                 service_revision),
                 "uid": uid, "title": title, "adopted": None}
        super().__init__(FolderProvider(), resource_name, props, _options(opts, FOLDER.secret_outputs))


class GrafanaDashboard(Resource, module="grafana", name="Dashboard"):
    """A dashboard, by ``dashboard["uid"]``, saved with overwrite into ``folder_uid`` (None: General).

    ``datasource_uids`` maps each ``DS_<KEY>`` used as ``${DS_<KEY>}`` in the dashboard to a datasource
    uid. Outputs: ``uid``, ``url`` (relative, ``/d/<uid>/<slug>``), ``version``, ``adopted``.
    """

    uid: pulumi.Output[str]
    url: pulumi.Output[str]
    version: pulumi.Output[int]
    adopted: pulumi.Output[bool]

    def __init__(self, resource_name: str, *, grafana_url: pulumi.Input[str], dashboard: Mapping[str, Any],
                 username: pulumi.Input[str] | None = None, password: pulumi.Input[str] | None = None,
                 folder_uid: pulumi.Input[str] | None = None,
                 datasource_uids: Mapping[str, pulumi.Input[str]] | None = None,
                 api_key: pulumi.Input[str] | None = None, verify: bool | str = True,
                 ready_timeout: float = DEFAULT_READY_TIMEOUT, service_revision: pulumi.Input[str] | None = None,
                 opts: pulumi.ResourceOptions | None = None):
        props = {**_connection(grafana_url, username, password, api_key, verify, ready_timeout,
                                 service_revision),
                 "dashboard": dict(dashboard), "folder_uid": folder_uid,
                 "datasource_uids": dict(datasource_uids or {}),
                 "uid": None, "url": None, "version": None, "adopted": None}
        super().__init__(DashboardProvider(), resource_name, props,
                         _options(opts, DASHBOARD.secret_outputs))
