"""A small client for the ksqlDB REST API (``POST /ksql``, ``GET /info``, ``GET /healthcheck``).

It never calls ``POST /ksql/terminate`` (that endpoint wipes the whole cluster's queries and topics).
"""
from __future__ import annotations

from typing import Any, Mapping

from providers.http import ApiError, Endpoint, ServiceClient

KSQL_MEDIA_TYPE = "application/vnd.ksql.v1+json"
NOT_READY_STATUS = 503  # error codes 50301 (command queue catching up), 50302 (not ready), 50303


class KsqlError(Exception):
    """ksqlDB rejected a statement: its own message, error code and the statement text."""

    def __init__(self, message: str, *, error_code: int | None = None, statement_text: str = "",
                 entities: list | None = None, url: str = ""):
        detail = f"ksqlDB error {error_code}: {message}" if error_code else f"ksqlDB error: {message}"
        if statement_text:
            detail += f"\nstatement: {statement_text.strip()}"
        super().__init__(detail)
        self.message, self.error_code, self.statement_text = message, error_code, statement_text
        self.entities, self.url = entities or [], url


class KsqlClient(ServiceClient):
    """Run statements against one ksqlDB server (or cluster behind one URL)."""

    def __init__(self, endpoint: Endpoint, observer=None):
        super().__init__(endpoint, default_headers={"Accept": KSQL_MEDIA_TYPE, "Content-Type": KSQL_MEDIA_TYPE},
                         observer=observer)

    def wait_ready(self, timeout: float | None = None) -> None:
        """Wait until ``/info`` reports RUNNING and ``/healthcheck`` reports healthy."""
        def running(response) -> bool:
            info = response.json().get("KsqlServerInfo", {})
            return info.get("serverStatus", "RUNNING") == "RUNNING"

        self.http.wait_ready("/info", ready=running, what="ksqlDB", timeout=timeout)
        self.http.wait_ready("/healthcheck", ready=lambda r: r.json().get("isHealthy") is True,
                             what="ksqlDB health check", timeout=timeout)

    def execute(self, sql: str, properties: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
        """POST statements to ``/ksql``; retries while the server is not ready (HTTP 503).

        Returns the result entities; raises KsqlError with ksqlDB's message and statement text.
        """
        body = {"ksql": sql, "streamsProperties": dict(properties or {})}
        try:
            entities = self.http.request("POST", "/ksql", json=body, ok=(200,),
                                         retry_statuses=(NOT_READY_STATUS,)).json()
        except ApiError as exc:
            payload = exc.body if isinstance(exc.body, dict) else {}
            raise KsqlError(payload.get("message") or exc.message, error_code=payload.get("error_code"),
                            statement_text=payload.get("statementText") or sql,
                            entities=payload.get("entities"), url=exc.url) from None
        for entity in entities:
            status = entity.get("commandStatus") or {}
            if status.get("status") == "ERROR":
                raise KsqlError(status.get("message", "command failed"),
                                statement_text=entity.get("statementText", sql), url=self.http.url("/ksql"))
        return entities

    def list_sources(self) -> dict[str, str]:
        """Every stream and table: name -> "STREAM" | "TABLE"."""
        found: dict[str, str] = {}
        for entity in self.execute("LIST STREAMS; LIST TABLES;"):
            for item in entity.get("streams", []) + entity.get("tables", []):
                found[item["name"]] = item.get("type", "STREAM" if "streams" in entity else "TABLE")
        return found

    def queries(self) -> list[dict[str, Any]]:
        """Persistent queries (``SHOW QUERIES``): dicts with id, sinks, queryString, queryType."""
        result = []
        for entity in self.execute("SHOW QUERIES;"):
            result.extend(entity.get("queries", []))
        return result

    def describe(self, names: list[str]) -> dict[str, dict[str, Any]]:
        """``DESCRIBE`` several existing sources in one request: name -> sourceDescription."""
        if not names:
            return {}
        sql = " ".join(f"DESCRIBE {quote(name)};" for name in names)
        return {e["sourceDescription"]["name"]: e["sourceDescription"]
                for e in self.execute(sql) if "sourceDescription" in e}

    def terminate(self, query_id: str) -> None:
        """``TERMINATE <queryId>`` (one query; never the cluster-wide terminate endpoint)."""
        self.execute(f"TERMINATE {query_id};")

    def drop(self, kind: str, name: str, *, delete_topic: bool = False) -> None:
        """``DROP STREAM|TABLE IF EXISTS name [DELETE TOPIC]`` — also terminates the CSAS/CTAS query."""
        suffix = " DELETE TOPIC" if delete_topic else ""
        self.execute(f"DROP {kind} IF EXISTS {quote(name)}{suffix};")


def quote(name: str) -> str:
    """An identifier as SQL: plain upper-case names bare, anything else in backticks."""
    if name.isupper() and name.replace("_", "").isalnum() and not name[0].isdigit():
        return name
    return "`" + name.replace("`", "``") + "`"
