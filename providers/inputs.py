"""What provider inputs look like after their trip through the Pulumi engine.

During preview, check/diff inputs may hold values not known yet. And every number crosses the wire as a
protobuf double, so an ``int`` declared in the program (an index template's ``priority``, a dashboard's
``gridPos``) reaches the provider as a ``float``.
"""
from __future__ import annotations

from typing import Any, Mapping

from pulumi.output import Unknown
from pulumi.runtime import rpc


def is_unknown(value: Any) -> bool:
    """Whether ``value`` is, or contains, a value not known yet.

    The dynamic-provider host deserializes check/diff inputs with ``keep_unknowns=True``, which yields
    ``pulumi.output.Unknown`` objects; the raw wire sentinel ``rpc.UNKNOWN`` is recognised too.
    """
    if isinstance(value, Mapping):
        return any(is_unknown(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(is_unknown(v) for v in value)
    return isinstance(value, Unknown) or (isinstance(value, str) and value == rpc.UNKNOWN)


def whole_numbers(value: Any) -> Any:
    """``value`` with every integral float turned back into an ``int`` (recursively)."""
    if isinstance(value, Mapping):
        return {k: whole_numbers(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [whole_numbers(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
