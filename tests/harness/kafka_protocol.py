"""A minimal Kafka wire-protocol probe: one Metadata request, to tell that a broker serves clients.

Python has no Kafka client in this project; readiness needs only "the broker answers a Metadata request
and lists at least one broker", which is a few bytes over a socket (Metadata v4, a non-flexible version
every Kafka 4.x broker supports).
"""
from __future__ import annotations

import socket
import struct

_METADATA_API_KEY = 3
_METADATA_VERSION = 4
_CLIENT_ID = b"kafka-harness-probe"


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("broker closed the connection")
        data += chunk
    return data


def broker_ids(host: str, port: int, timeout: float = 5.0) -> list[int]:
    """Send Metadata (no topics) to ``host:port`` and return the node ids of the brokers it lists."""
    correlation_id = 1
    header = struct.pack(">hhih", _METADATA_API_KEY, _METADATA_VERSION, correlation_id,
                         len(_CLIENT_ID)) + _CLIENT_ID
    body = struct.pack(">ib", 0, 0)  # empty topic array, allow_auto_topic_creation = false
    request = header + body
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(struct.pack(">i", len(request)) + request)
        size, = struct.unpack(">i", _read_exactly(sock, 4))
        payload = _read_exactly(sock, size)
    answered_id, _throttle_ms, count = struct.unpack_from(">iii", payload, 0)
    if answered_id != correlation_id:
        raise ConnectionError(f"unexpected correlation id {answered_id} in the Metadata response")
    ids, offset = [], 12
    for _ in range(count):
        node_id, host_len = struct.unpack_from(">ih", payload, offset)
        offset += 6 + host_len + 4  # node id, host string, port
        rack_len, = struct.unpack_from(">h", payload, offset)
        offset += 2 + max(rack_len, 0)
        ids.append(node_id)
    return ids
