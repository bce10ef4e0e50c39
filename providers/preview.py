"""Recognising values Pulumi does not know yet (during preview) in provider inputs."""
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
