"""A stand-in for `phonghop recorder` that keeps its contract without a conference: it makes
its Recording row, holds the folder's lock, reports "recording", and on SIGTERM writes a
short MP4 and chapters, marks the row done and reports "done". FAKE_RECORDER=disk_full
reports a full disk instead and exits, as the real one does when the disk fills.

    python -m tests.fake_recorder --meeting 3 --server http://127.0.0.1:8123
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from datetime import timedelta
from fractions import Fraction
from pathlib import Path

import av
import httpx
import numpy as np
from sqlmodel import Session

from recorder.lock import Lock
from server import db
from server.models import Recording

CHAPTERS = """WEBVTT

1
00:00:00.000 --> 00:00:01.000
Mục 1: Khai mạc kỳ họp

2
00:00:01.000 --> 00:00:02.000
Phát biểu: Nguyễn Văn An
"""


def tiny_mp4(path: Path, seconds: int = 2, fps: int = 15) -> None:
    """H.264 + AAC, a colour that changes each second: something a browser can play."""
    with av.open(str(path), "w", format="mp4") as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = 320, 180, "yuv420p"
        audio = out.add_stream("aac", rate=48000)
        for n in range(seconds * fps):
            picture = np.zeros((180, 320, 3), np.uint8)
            picture[:, :, n // fps % 3] = 200
            for packet in video.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")):
                out.mux(packet)
        for n in range(seconds * 48000 // 1024):
            frame = av.AudioFrame.from_ndarray(
                np.zeros((1, 1024), np.float32), format="fltp", layout="mono"
            )
            frame.sample_rate, frame.pts, frame.time_base = 48000, n * 1024, Fraction(1, 48000)
            for packet in audio.encode(frame):
                out.mux(packet)
        for stream in (video, audio):
            for packet in stream.encode():
                out.mux(packet)


def report(server: str, recording_id: int, status: str, message: str = "") -> None:
    httpx.post(
        f"{server}/api/recorder/recordings/{recording_id}/status",
        json={"status": status, "message": message},
        headers={"Authorization": f"Bearer {os.environ['PHONGHOP_RECORDER_KEY']}"},
        timeout=10,
    ).raise_for_status()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--meeting", type=int, required=True)
    parser.add_argument("--server", required=True)
    args = parser.parse_args()
    data_dir = Path(os.environ["PHONGHOP_DATA_DIR"])
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    engine = db.make_sync_engine(os.environ["PHONGHOP_DATABASE_URL"])
    with Session(engine, expire_on_commit=False) as session:
        recording = Recording(meeting_id=args.meeting)
        session.add(recording)
        session.commit()
        relative = Path("recordings") / str(args.meeting) / str(recording.id)
        folder = data_dir / relative
        lock = Lock(folder)
        lock.take()
        (folder / "segments").mkdir()
        recording.path = relative.as_posix()
        session.add(recording)
        session.commit()
        report(args.server, recording.id, "recording")
        if os.environ.get("FAKE_RECORDER") == "disk_full":
            report(args.server, recording.id, "disk_full", "Ổ đĩa đã đầy sau 12 phút ghi.")
            return 1
        stopping.wait()
        tiny_mp4(folder / "recording.mp4")
        (folder / "chapters.vtt").write_text(CHAPTERS, encoding="utf-8")
        recording.status, recording.duration_s = "done", 2.0
        recording.ended_at = recording.started_at + timedelta(seconds=2)
        recording.size_bytes = (folder / "recording.mp4").stat().st_size
        session.add(recording)
        session.commit()
        report(args.server, recording.id, "done")
        lock.release()
    return 0


if __name__ == "__main__":
    sys.exit(main())
