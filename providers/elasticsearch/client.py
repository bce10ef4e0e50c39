"""A small client for the Elasticsearch 8 REST API: readiness and composable index templates."""
from __future__ import annotations

from typing import Any, Callable, Mapping

import requests

from providers.http import ApiError, Endpoint, HttpClient, wait_until

RETRY_STATUSES = (429, 502, 503, 504)


class ElasticsearchClient:
    """Talks to one Elasticsearch cluster. Create it inside a provider method and close it there."""

    def __init__(self, endpoint: Endpoint, *, observer: Callable[[str, str, int], None] | None = None):
        self.endpoint = endpoint
        self.http = HttpClient(endpoint, observer=observer)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> "ElasticsearchClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One request; 401/403 become an ApiError that says which user was rejected."""
        try:
            return self.http.request(method, path, retry_statuses=RETRY_STATUSES, **kwargs)
        except ApiError as exc:
            raise _auth_hint(exc, self.endpoint) from None

    def wait_ready(self, timeout: float | None = None) -> None:
        """Wait until the cluster health is at least yellow (bounded backoff, ServiceTimeout names the URL).

        Bad credentials fail at once instead of waiting out the timeout.
        """
        timeout = self.endpoint.ready_timeout if timeout is None else timeout
        path = "/_cluster/health"
        last = ["no answer yet"]

        def probe() -> bool:
            try:
                response = self.http.request("GET", path, params={"wait_for_status": "yellow", "timeout": "5s"},
                                             ok=(200, 408), attempts=1)
            except requests.RequestException as exc:
                last[0] = f"{type(exc).__name__}: {exc}"
                return False
            except ApiError as exc:
                if exc.status in (401, 403):
                    raise _auth_hint(exc, self.endpoint) from None
                last[0] = f"HTTP {exc.status}: {exc.message}"
                return False
            health = response.json()
            last[0] = f"cluster status {health.get('status')!r}"
            return response.status_code == 200 and health.get("status") in ("yellow", "green")

        wait_until(probe, timeout=timeout, last_seen=lambda: last[0],
                   description=f"Elasticsearch at {self.http.url(path)} to reach status yellow")

    def get_index_template(self, name: str) -> dict | None:
        """The stored composable template body, or None when there is none of that name."""
        try:
            answer = self._request("GET", f"/_index_template/{name}").json()
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise
        for item in answer.get("index_templates", []):
            if item.get("name") == name:
                return item["index_template"]
        return None

    def simulate_index_template(self, name: str, body: Mapping[str, Any]) -> dict:
        """Validate ``body`` as template ``name`` without storing it (``POST _index_template/_simulate/<name>``
        replaces an existing template of that name in the simulation); returns the resolved template.
        A bad template raises ApiError with Elasticsearch's ``reason``."""
        return self._request("POST", f"/_index_template/_simulate/{name}", json=dict(body)).json()

    def put_index_template(self, name: str, body: Mapping[str, Any]) -> None:
        self._request("PUT", f"/_index_template/{name}", json=dict(body))

    def delete_index_template(self, name: str) -> bool:
        """Delete the template; False when it was already gone (404)."""
        try:
            self._request("DELETE", f"/_index_template/{name}")
        except ApiError as exc:
            if exc.status == 404:
                return False
            raise
        return True


def _auth_hint(exc: ApiError, endpoint: Endpoint) -> ApiError:
    if exc.status not in (401, 403):
        return exc
    who = f"user {endpoint.username!r}" if endpoint.username else "anonymous access (no username given)"
    if endpoint.api_key:
        who = "the API key"
    what = "rejected the credentials of" if exc.status == 401 else "denied the request for"
    return ApiError(exc.method, exc.url, exc.status,
                    f"Elasticsearch {what} {who}: {exc.message}. Check the Elasticsearch username/password "
                    f"(config secret elasticsearchPassword).", exc.body)
