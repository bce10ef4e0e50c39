"""A small client for the Elasticsearch 8 REST API: readiness, composable index templates, indices and aliases."""
from __future__ import annotations

from typing import Any, Callable, Mapping

import requests

from providers.http import ApiError, Forbidden, ServiceClient, Unauthorized, or_none, wait_until

RETRY_STATUSES = (429, 502, 503, 504)
API_KEY_SCHEME = "ApiKey"  # Elasticsearch API keys: ``Authorization: ApiKey <base64 of id:key>``


def error_type(exc: ApiError) -> str | None:
    """The ``error.type`` of an Elasticsearch error answer (``resource_already_exists_exception``, ...)."""
    error = exc.body.get("error") if isinstance(exc.body, dict) else None
    return error.get("type") if isinstance(error, dict) else None


class ElasticsearchClient(ServiceClient):
    """Talks to one Elasticsearch cluster. Create it inside a provider method and close it there."""

    service = "Elasticsearch"
    credentials = "the Elasticsearch credentials (config secret elasticsearchPassword or elasticsearchApiKey)"
    retry_statuses = RETRY_STATUSES
    endpoint_defaults = {"api_key_scheme": API_KEY_SCHEME}

    def wait_ready(self, timeout: float | None = None) -> None:
        """Wait until the cluster health is at least yellow (bounded backoff, ServiceTimeout names the URL).

        Bad credentials fail at once instead of waiting out the timeout.
        """
        timeout = self.within(timeout)
        path = "/_cluster/health"
        last = ["no answer yet"]

        def probe() -> bool:
            try:
                response = self.http.request("GET", path, params={"wait_for_status": "yellow", "timeout": "5s"},
                                             ok=(200, 408), attempts=1)
            except requests.RequestException as exc:
                last[0] = f"{type(exc).__name__}: {exc}"
                return False
            except (Unauthorized, Forbidden) as exc:
                raise self.auth_error(exc) from None
            except ApiError as exc:
                last[0] = f"HTTP {exc.status}: {exc.message}"
                return False
            health = response.json()
            last[0] = f"cluster status {health.get('status')!r}"
            return response.status_code == 200 and health.get("status") in ("yellow", "green")

        wait_until(probe, timeout=timeout, last_seen=lambda: last[0],
                   description=f"Elasticsearch at {self.http.url(path)} to reach status yellow")

    def get_index_template(self, name: str) -> dict | None:
        """The stored composable template body, or None when there is none of that name."""
        answer = or_none(lambda: self._request("GET", f"/_index_template/{name}").json()) or {}
        for item in answer.get("index_templates", []):
            if item.get("name") == name:
                return item["index_template"]
        return None

    def simulate_index_template(self, name: str, body: Mapping[str, Any]) -> dict:
        """Validate ``body`` as template ``name`` without storing it (``POST _index_template/_simulate/<name>``
        replaces an existing template of that name in the simulation); returns the resolved template.
        A bad template raises ApiError with Elasticsearch's ``reason`` and its deepest ``caused_by`` reason
        (where Elasticsearch names the field)."""
        return self._request("POST", f"/_index_template/_simulate/{name}", json=dict(body)).json()

    def put_index_template(self, name: str, body: Mapping[str, Any]) -> None:
        self._request("PUT", f"/_index_template/{name}", json=dict(body))

    def delete_index_template(self, name: str) -> bool:
        """Delete the template; False when it was already gone (404)."""
        return or_none(lambda: self._request("DELETE", f"/_index_template/{name}")) is not None


    def names_behind(self, name: str) -> dict[str, list[str]] | None:
        """``GET <name>/_alias``: each concrete index ``name`` resolves to -> its aliases, or None when
        nothing is called ``name``. A concrete index named ``name`` is a key of its own; an alias resolves
        to the indices it points to."""
        answer = or_none(lambda: self._request("GET", f"/{name}/_alias").json())
        return None if answer is None else {index: sorted(entry.get("aliases", {}))
                                            for index, entry in answer.items()}

    def create_index(self, name: str) -> bool:
        """``PUT <name>`` with no body (the matching index template gives settings and mappings); False when
        an index of that name exists already (400 ``resource_already_exists_exception``)."""
        return self._if_absent(lambda: self._request("PUT", f"/{name}", idempotent=False))

    def block_writes(self, name: str) -> None:
        """``PUT <name>/_settings`` with ``index.blocks.write``: what a clone of the index needs."""
        self._request("PUT", f"/{name}/_settings", json={"index.blocks.write": True})

    def clone_index(self, source: str, target: str) -> bool:
        """``POST <source>/_clone/<target>`` (``source`` write-blocked; the copy keeps the block, its settings
        and mappings, not a template's); False when ``target`` exists already."""
        return self._if_absent(lambda: self._request("POST", f"/{source}/_clone/{target}", idempotent=False))

    def delete_index(self, name: str) -> bool:
        """``DELETE <name>``; False when it was already gone (404)."""
        return or_none(lambda: self._request("DELETE", f"/{name}")) is not None

    @staticmethod
    def _if_absent(create: Callable[[], Any]) -> bool:
        """``create()``; False when it is refused because the index exists (400 ``resource_already_exists_-
        exception``: made by an earlier, interrupted run or a request that ran although its answer was lost)."""
        try:
            create()
        except ApiError as exc:
            if exc.status == 400 and error_type(exc) == "resource_already_exists_exception":
                return False
            raise
        return True

    def update_aliases(self, actions: list[dict[str, Any]]) -> None:
        """``POST _aliases``: every action applies, or none (Elasticsearch runs them as one cluster state
        update), so readers of an alias never see it missing or pointing at two indices."""
        self._request("POST", "/_aliases", json={"actions": actions}, idempotent=False)
