"""A small in-process cache of rendered page parts, each kept for a bounded time.

A part is keyed on everything it is made of that can change, including a version
read from the database on every request (``Wallet.version``, which the ledger
raises with each change to a wallet): a change made through any worker or host
changes the key at once, so no worker serves the old part. The time limit only
bounds how late what is deliberately left out of the key shows: other people's
points on the rank panel, a renamed rule or person.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Hashable

from flask import current_app


class TimedCache:
    """At most ``size`` values, each for at most ``seconds``; the least recently used goes first."""

    def __init__(self, size: int, seconds: float):
        self.size = size
        self.seconds = seconds
        self._items: OrderedDict[Hashable, tuple[float, object]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable):
        """The value stored under ``key``, or None when there is none or it is older than ``seconds``."""
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            stored_at, value = found
            if time.monotonic() - stored_at >= self.seconds:
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return value

    def put(self, key: Hashable, value) -> None:
        if self.seconds <= 0 or self.size <= 0:
            return
        with self._lock:
            self._items[key] = (time.monotonic(), value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def app_cache(name: str, size: int, seconds: float) -> TimedCache:
    """This app's cache ``name`` in this worker (``app.extensions[name]``), made on first use."""
    cache = current_app.extensions.get(name)
    if cache is None:
        cache = current_app.extensions[name] = TimedCache(size, seconds)
    return cache
