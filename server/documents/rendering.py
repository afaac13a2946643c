"""Page images and word boxes, rendered in worker processes and cached on disk by content."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from agenda import render
from server.blobs import write_atomically


class PageRenderer:
    """Renders each (document, page, width, watermark) once; later requests read the file.

    Concurrent requests for a page that is not cached yet wait on the same render.
    """

    def __init__(self, cache_dir: Path, workers: int | None = None) -> None:
        self.cache_dir = cache_dir
        self._pool = ProcessPoolExecutor(
            max_workers=workers or os.cpu_count() or 1,
            # forkserver: never fork the server process itself, with its threads and sockets.
            mp_context=multiprocessing.get_context("forkserver"),
        )
        self._in_flight: dict[Path, asyncio.Task[Path]] = {}

    def image_path(self, sha256: str, page: int, width: int, viewer: str = "") -> Path:
        suffix = f"-{viewer}" if viewer else ""
        return self.cache_dir / sha256[:2] / sha256 / f"p{page}-w{width}{suffix}.webp"

    async def image(
        self, blob: Path, sha256: str, page: int, width: int, viewer: str = "", watermark: str = ""
    ) -> Path:
        """The cached WebP of the page; `viewer` keys a watermarked copy to one reader."""
        target = self.image_path(sha256, page, width, viewer)
        return await self._cached(target, render.render_page, blob, page, width, watermark)

    async def words(self, blob: Path, sha256: str, page: int) -> Path:
        target = self.cache_dir / sha256[:2] / sha256 / f"p{page}.words.json"
        return await self._cached(target, _words_json, blob, page)

    async def run(self, function: Callable[..., Any], *args: Any) -> Any:
        """Runs CPU-heavy PDF work on the pool, off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, function, *args)

    async def _cached(self, target: Path, function: Callable[..., bytes], *args: Any) -> Path:
        if target.exists():  # noqa: ASYNC240 - one stat on the hot path costs less than a thread hop
            return target
        task = self._in_flight.get(target)
        if task is None:
            # A task of its own, so a reader who gives up does not cancel the others' render.
            task = asyncio.create_task(self._render(target, function, *args))
            self._in_flight[target] = task
            task.add_done_callback(lambda _: self._in_flight.pop(target, None))
        return await asyncio.shield(task)

    async def _render(self, target: Path, function: Callable[..., bytes], *args: Any) -> Path:
        data = await self.run(function, *args)
        # A cache file can always be made again, so it skips the fsync a blob gets.
        await asyncio.to_thread(write_atomically, target, data, False)
        return target

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def _words_json(blob: Path, page: int) -> bytes:
    return json.dumps({"page": page, "words": render.page_words(blob, page)}).encode()
