"""How a FAKE ksqlDB refuses a statement (``Errors.badStatement``, ``KsqlRestException`` at v8.2.1)."""
from __future__ import annotations


class StatementError(Exception):
    """A refused statement. ``kind``: ``statement`` (400, 40001, names the statement: ``text`` when ksqlDB
    names it re-written), ``generic`` (400, 40000, no statement: a ``KsqlException`` from the sandboxed
    execute or an injector), ``server`` (500, 50000, names every statement of the request, or ``text``),
    ``syntax`` (400, 40001, names the whole request as sent: ``text``), ``websocket`` (400, 40002: a push
    query, ``Errors.queryEndpoint``)."""

    def __init__(self, message: str, kind: str = "statement", text: str | None = None):
        super().__init__(message)
        self.message, self.kind, self.text = message, kind, text
        self.code = {"statement": 40001, "syntax": 40001, "websocket": 40002, "generic": 40000, "server": 50000}[kind]
        self.status = 500 if kind == "server" else 400

    def body(self, statement: str, statements: list[str], entities: list) -> dict:
        if self.kind == "generic":
            return {"@type": "generic_error", "error_code": self.code, "message": self.message}
        text = self.text or ("\n".join(statements) if self.kind == "server" else statement)
        return {"@type": "statement_error", "error_code": self.code, "message": self.message,
                "statementText": text, "entities": entities}
