"""Count the HTTP requests a benchmark makes, without touching the code under measure."""
from __future__ import annotations

import collections
import contextlib
from typing import Iterator
from unittest import mock

import requests


@contextlib.contextmanager
def counting() -> Iterator[collections.Counter]:
    """Count every HTTP request made through requests, by (host:port, method)."""
    counts: collections.Counter = collections.Counter()
    original = requests.Session.request

    def request(self, method, url, *args, **kwargs):
        counts[(url.split("/")[2], method.upper())] += 1
        return original(self, method, url, *args, **kwargs)

    with mock.patch.object(requests.Session, "request", request):
        yield counts
