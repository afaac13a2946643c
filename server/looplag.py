"""Measures how late the event loop wakes up: the delay every request and socket feels."""

from __future__ import annotations

import asyncio
import time
from collections import deque

from server.metrics import LOOP_LAG

_TICK_S = 0.01


class LoopLag:
    """A timer task that sleeps `_TICK_S` and records how much later than asked it woke."""

    def __init__(self, keep_s: float = 120.0) -> None:
        self._samples: deque[tuple[float, float]] = deque(maxlen=int(keep_s / _TICK_S))
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="looplag")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()

    async def _run(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(_TICK_S)
            woke = time.perf_counter()
            lag = woke - before - _TICK_S
            self._samples.append((woke, lag))
            LOOP_LAG.observe(lag)

    def summary(self, window_s: float = 60.0) -> dict[str, float]:
        """Lag percentiles in milliseconds over the last `window_s` seconds."""
        since = time.perf_counter() - window_s
        lags = sorted(lag for at, lag in self._samples if at >= since)
        if not lags:
            return {"samples": 0, "p50_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0}

        def pct(p: float) -> float:
            return round(lags[min(len(lags) - 1, int(p * len(lags)))] * 1000, 2)

        return {"samples": len(lags), "p50_ms": pct(0.5), "p99_ms": pct(0.99), "max_ms": pct(1.0)}
