"""The recorder's CPU cost per recorded minute of a 720p program.

Feeds the recorder's own segment writer (recorder.writer.SegmentWriter, the code the
recorder runs on each received frame) with synthetic 1280x720 15 fps pictures (a moving
gradient with a bar, so the encoder has work) and 48 kHz stereo sound in 20 ms frames, as
fast as it takes them, then joins the segments into the MP4 as a clean stop does. The
WebRTC receive path (VP8 and Opus decoding by aiortc) is not included: it is the bridge
listener's cost, not the recorder's writing. Prints one JSON object; progress on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

# The repository first: this file is also named "recorder", like the package it measures.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import BenchFailed, Deadline  # noqa: E402  (bench/harness.py)

from recorder import files  # noqa: E402
from recorder.writer import SegmentWriter  # noqa: E402

WIDTH, HEIGHT, FPS = 1280, 720, 15
VIDEO_BITRATE_720P = 2_500_000
PICTURES = 30  # distinct pictures, cycled


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def pictures() -> list[av.VideoFrame]:
    x = np.linspace(0, 255, WIDTH, dtype=np.float32)
    y = np.linspace(0, 255, HEIGHT, dtype=np.float32)[:, None]
    made = []
    for index in range(PICTURES):
        image = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
        image[..., 0] = (x + index * 8) % 256
        image[..., 1] = y
        image[..., 2] = (x[::-1] + y) / 2
        left = index * WIDTH // PICTURES
        image[200:520, left : left + 120] = 255
        made.append(av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuv420p"))
    return made


def sound() -> av.AudioFrame:
    tone = (np.sin(np.arange(960) * 2 * np.pi * 440 / 48000) * 8000).astype(np.int16)
    frame = av.AudioFrame.from_ndarray(np.repeat(tone, 2).reshape(1, -1), "s16", "stereo")
    frame.sample_rate = 48000
    return frame


def run(seconds: float, deadline: Deadline) -> dict[str, object]:
    frames, chunk = pictures(), sound()
    with tempfile.TemporaryDirectory(prefix="bench-recorder-") as scratch:
        folder = Path(scratch)
        writer = SegmentWriter(
            folder / files.SEGMENTS, size=(WIDTH, HEIGHT), bitrate=VIDEO_BITRATE_720P
        )
        started, wall = cpu_seconds(), time.monotonic()
        for tick in range(round(seconds * FPS)):
            at = tick / FPS
            writer.video(frames[tick % PICTURES], at)
            for part in range(3):  # 60 ms of sound a picture, as it arrives: 20 ms at a time
                writer.audio(chunk, at + (part + 1) * 0.02)
            if tick % (FPS * 10) == 0:
                deadline.check("encoding")
                print(f"  {at:.0f} s recorded", file=sys.stderr)
        segments = writer.finish(seconds)
        encoded = cpu_seconds() - started
        files.join(folder, segments)
        joined = cpu_seconds() - started - encoded
        size = sum(p.stat().st_size for p in (folder / files.SEGMENTS).glob("*.ts"))
        elapsed = time.monotonic() - wall
    minutes = seconds / 60
    return {
        "benchmark": "recorder",
        "program": f"{WIDTH}x{HEIGHT} {FPS} fps, 48 kHz stereo",
        "recorded_s": seconds,
        "cpu_s_per_recorded_minute": round((encoded + joined) / minutes, 2),
        "encode_cpu_s_per_minute": round(encoded / minutes, 2),
        "join_cpu_s_per_minute": round(joined / minutes, 3),
        "core_share_while_recording": round((encoded + joined) / seconds, 3),
        "segments_mib_per_minute": round(size / minutes / 2**20, 2),
        "wall_s": round(elapsed, 1),
        "load_average": os.getloadavg()[0],
    }


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--seconds", type=float, default=120, help="program length to record")
    options.add_argument("--timeout", type=float, default=600)
    args = options.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f}", file=sys.stderr)
    try:
        result = run(args.seconds, Deadline(args.timeout))
    except BenchFailed as failed:
        print(f"benchmark failed: {failed}", file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
