"""A step run on a fixed clock: the program's pictures and the mix's sound."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("phonghop.conference")


class Paced:
    """Runs `step` every `interval_s`; `tick` counts the steps, so it is also their clock.

    A step that fails is logged and the next one goes on. After a stall of more than a
    second the clock moves on instead of rushing through the missed steps.
    """

    def __init__(self, interval_s: float, step: Callable[[], Awaitable[None]], what: str) -> None:
        self.interval_s = interval_s
        self.tick = 0
        self._step = step
        self._what = what
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        while True:
            try:
                await self._step()
            except Exception:
                log.exception("%s failed; the next one goes on", self._what)
            self.tick += 1
            late = loop.time() - (started + self.tick * self.interval_s)
            if late > 1:
                started += late
            await asyncio.sleep(max(0.0, -late))
