"""A cheaper hand-over of decoded frames from aiortc's decoder threads to the event loop.

aiortc runs one decoder thread per received track and hands every decoded frame to the
loop with `run_coroutine_threadsafe(queue.put(frame))`: a coroutine, a task and a
thread-safe future per frame. With 40 points sending sound in 20 ms packets that is 2,000
a second and most of the loop's time (py-spy, bench/bridge.py). The track's queue is
unbounded, so `put` never waits: one `call_soon_threadsafe(queue.put_nowait, frame)` does
the same work. `install()` swaps aiortc's worker for this one (same arguments, same
behaviour otherwise) for the receivers made afterwards. Borrowed from aiortc 1.16, which
pyproject.toml pins: tests/test_aiortc_fence.py fails when aiortc's worker or its caller change.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from typing import Any

import av
from aiortc import rtcrtpreceiver
from aiortc.codecs import get_decoder

log = logging.getLogger("phonghop.conference")


def decoder_worker(
    loop: asyncio.AbstractEventLoop,
    input_q: queue.Queue[Any],
    output_q: asyncio.Queue[Any],
    decode_error: threading.Event,
) -> None:
    codec_name, decoder = None, None
    while (task := input_q.get()) is not None:
        codec, encoded_frame = task
        if codec.name != codec_name:
            decoder, codec_name = get_decoder(codec), codec.name
        try:
            frames = decoder.decode(encoded_frame)
        except av.FFmpegError as exc:  # the decoder is kept: the next keyframe heals it
            log.debug("could not decode a %s frame: %s", codec.name, exc)
            decode_error.set()
            continue
        for frame in frames:
            if not _hand_over(loop, output_q, frame):
                return
    _hand_over(loop, output_q, None)  # the track has ended


def _hand_over(loop: asyncio.AbstractEventLoop, output_q: asyncio.Queue[Any], item: Any) -> bool:
    try:
        loop.call_soon_threadsafe(output_q.put_nowait, item)
    except RuntimeError:  # the loop is closed: the server is stopping
        return False
    return True


def install() -> None:
    rtcrtpreceiver.decoder_worker = decoder_worker
