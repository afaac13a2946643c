"""A small per-process memory of recent answers, forgotten after a few seconds."""

from __future__ import annotations

import time
from typing import Any


class Recent:
    """Keeps values for `ttl_s` seconds; a change elsewhere is seen at most that late."""

    def __init__(self, ttl_s: float, size: int = 10_000) -> None:
        self._ttl = ttl_s
        self._size = size
        self._items: dict[Any, tuple[float, Any]] = {}

    def get(self, key: Any) -> Any:
        found = self._items.get(key)
        if found is None or found[0] < time.monotonic():
            return None
        return found[1]

    def put(self, key: Any, value: Any) -> None:
        if len(self._items) >= self._size:
            now = time.monotonic()
            self._items = {k: v for k, v in self._items.items() if v[0] >= now}
            if len(self._items) >= self._size:
                self._items.clear()
        self._items[key] = (time.monotonic() + self._ttl, value)

    def forget(self, key: Any) -> None:
        self._items.pop(key, None)

    def clear(self) -> None:
        self._items.clear()
