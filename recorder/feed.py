"""The segment writer in its own thread, fed from the event loop through a queue.

Encoding H.264 takes milliseconds a frame; done on the loop it would delay the WebRTC
receivers. If the thread falls far behind, pictures are dropped (the writer repeats the
last one) rather than letting the queue grow.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from recorder.writer import DiskFull, Finished, SegmentWriter

log = logging.getLogger(__name__)

BACKLOG = 15 * 10  # ten seconds of pictures


class WriterThread:
    """Runs `writer`; `failure` is "disk_full" or "failed" once it had to stop early."""

    def __init__(self, writer: SegmentWriter, on_failure: Callable[[], object]) -> None:
        self.writer = writer
        self.on_failure = on_failure
        self.failure: str | None = None
        self.finished: list[Finished] = []
        self._queue: queue.Queue[tuple[str, Any, float]] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="recorder-writer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def video(self, frame: Any, at: float) -> None:
        if self._queue.qsize() < BACKLOG and self.failure is None:
            self._queue.put(("video", frame, at))

    def audio(self, frame: Any, at: float) -> None:
        if self.failure is None:
            self._queue.put(("audio", frame, at))

    def finish(self, at: float) -> list[Finished]:
        """Blocks until everything queued is written and the last segment is closed."""
        self._queue.put(("finish", None, at))
        self._thread.join()
        return self.finished

    def _run(self) -> None:
        while True:
            kind, item, at = self._queue.get()
            try:
                if kind == "finish":
                    if self.failure is None:
                        self.finished = self.writer.finish(at)
                    return
                if self.failure is None:
                    getattr(self.writer, kind)(item, at)
            except DiskFull:
                self._fail("disk_full")
            except Exception:
                log.exception("the recorder could not write")
                self._fail("failed")
            if kind == "finish":
                return

    def _fail(self, failure: str) -> None:
        self.failure = failure
        self.writer.abandon()
        self.finished = list(self.writer.finished)
        self.on_failure()
