"""The request ids a server process served recently, in bounded memory.

``POST /feedback`` accepts labels for any request id (the prediction may
come from another worker or from before a restart) but reports how many it
did not recognise; :class:`RecentIds` is what it asks.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

__all__ = ["RecentIds"]


class RecentIds:
    """A bounded, thread-safe set of the most recently added request ids.

    Ids are kept in two generations of ``capacity // 2`` ids each: when the
    newer one is full, the older one is dropped. So the set always knows at
    least the last ``capacity // 2`` ids added and at most ``capacity``, and
    memory stays bounded (a 64-bit hash per id, about 60 bytes each, so
    roughly 60 MB for the default one million).

    Parameters
    ----------
    capacity : int
        Most ids remembered; at least 2.

    Examples
    --------
    >>> ids = RecentIds(capacity=4)
    >>> ids.add(["a", "b", "c"])
    >>> ids.count_missing(["a", "c", "z"])
    1
    """

    def __init__(self, capacity: int = 1_000_000) -> None:
        self.capacity = capacity
        self._generation = max(1, capacity // 2)
        self._newer: set[int] = set()
        self._older: set[int] = set()
        self._lock = threading.Lock()

    def add(self, ids: Iterable[str]) -> None:
        """Remember ``ids`` as served now."""
        with self._lock:
            for request_id in ids:
                if len(self._newer) >= self._generation:
                    self._older, self._newer = self._newer, set()
                self._newer.add(hash(request_id))

    def count_missing(self, ids: Iterable[str]) -> int:
        """How many of ``ids`` are not remembered (a hash collision may hide one in 2**64)."""
        with self._lock:
            return sum(
                1
                for request_id in ids
                if (key := hash(request_id)) not in self._newer and key not in self._older
            )

    def __len__(self) -> int:
        with self._lock:
            return len(self._newer | self._older)
