"""A small client for the Elasticsearch 8 REST API: readiness and composable index templates."""
from __future__ import annotations

from typing import Any, Mapping

import requests

from providers.http import ApiError, Forbidden, ServiceClient, Unauthorized, or_none, wait_until

RETRY_STATUSES = (429, 502, 503, 504)
API_KEY_SCHEME = "ApiKey"  # Elasticsearch API keys: ``Authorization: ApiKey <base64 of id:key>``


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

