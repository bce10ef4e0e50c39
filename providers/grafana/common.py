"""What the Grafana providers share: the connection fields of their tables and the client.

Common inputs (plain props): the connection fields (``grafana_url``, ``username``, ``password`` and
``api_key`` as secrets, ``verify``, the timeouts) and ``service_revision``. Every create/update/read/delete
first waits for ``GET /api/health``. Create adopts an object that already has the declared uid (output
``adopted``); a changed uid is a replacement, deleting first so the new object's name/title does not
clash with the old one. Providers hold no state, so dill pickles them.
"""
from __future__ import annotations

from typing import Any, Callable

from providers.contract import IN_PLACE, Field, ReadBackProvider, connection
from providers.grafana.client import GrafanaClient
from providers.http import BadRequest

# ``service_revision`` identifies the Grafana instance: when it changes (an empty Grafana replaced the
# old one), every object is re-applied; updates are upserts.
CONNECTION = (*connection("grafana_url", secrets_=("password", "api_key"), service="Grafana"),
              Field("service_revision", IN_PLACE, doc="id of the Grafana instance; a change re-applies the object"))


class GrafanaProvider(ReadBackProvider):
    """Base of the Grafana providers: the client for the Grafana the props name (``url`` of a dashboard is
    its own page, hence ``grafana_url``)."""

    client_class = GrafanaClient
    url_input = "grafana_url"


def provision(grafana: GrafanaClient, path: str, uid: str, body: Any, exists: bool,
              find: Callable[[], Any]) -> None:
    """Write an object of a provisioning API by uid: PUT ``<path>/<uid>`` when it ``exists``, else POST
    ``path``. A POST refused with 400 for an object ``find()`` then sees (an earlier attempt created it,
    its answer lost) becomes the PUT."""
    if exists:
        grafana.send("PUT", f"{path}/{uid}", body)
        return
    try:
        grafana.send("POST", path, body)
    except BadRequest:
        if find() is None:
            raise
        grafana.send("PUT", f"{path}/{uid}", body)
