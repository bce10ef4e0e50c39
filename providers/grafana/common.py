"""What the Grafana providers share: connection inputs, the preview ``Unknown`` guard, diff helpers.

Common inputs (plain props): ``grafana_url``, ``username``, ``password`` (secret), ``api_key`` (secret),
``verify`` (TLS: True, False or a CA bundle path) and ``ready_timeout``. Every create/update/read/delete
first waits for ``GET /api/health``. Create adopts an object that already has the declared uid (output
``adopted``); a changed uid is a replacement, deleting first so the new object's name/title does not
clash with the old one. Providers hold no state, so dill pickles them.
"""
from __future__ import annotations

from typing import Any, Mapping

from pulumi.dynamic import CheckFailure

from providers.grafana.client import GrafanaClient
from providers.http import Endpoint
from providers.inputs import is_unknown

# ``service_revision`` identifies the Grafana instance: when it changes (an empty Grafana replaced the
# old one), every object is re-applied; updates are upserts.
CONNECTION_KEYS = ("grafana_url", "username", "password", "api_key", "verify", "ready_timeout",
                   "service_revision")
SECRET_OUTPUTS = ["password", "api_key"]


def client(props: Mapping[str, Any]) -> GrafanaClient:
    """A client for the Grafana the props name (``url`` of a dashboard is its own page, hence ``grafana_url``)."""
    return GrafanaClient(Endpoint.from_inputs({**props, "url": props["grafana_url"]}))


def connection_failures(news: Mapping[str, Any]) -> list[CheckFailure]:
    url = news.get("grafana_url")
    if is_unknown(url) or (isinstance(url, str) and url.startswith(("http://", "https://"))):
        return []
    return [CheckFailure("grafana_url", "grafana_url must be an http(s) URL of Grafana")]


def changed(olds: Mapping[str, Any], news: Mapping[str, Any], keys: tuple[str, ...]) -> list[str]:
    """The ``keys`` whose new value differs from the old one or is not known yet."""
    return [key for key in keys if is_unknown(news.get(key)) or olds.get(key) != news.get(key)]
