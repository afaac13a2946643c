"""The program on disk as short MPEG-TS segments (H.264 + AAC), each playable alone.

Times are seconds on the recording's clock, given by the caller from the wall clock of
arrival. Video is laid on a fixed 15 fps grid: a gap is filled with the last picture and
a frame that lands on a tick already written is dropped. Audio is laid on the sample grid:
a gap is filled with silence and sound arriving far ahead of its time is dropped, so a
source switch or a stall never stretches the file. A segment is written as `N.ts.part` and
renamed when complete, so a crash loses at most the segment being written.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.frame import PictureType, VideoFrame

from recorder.space import AUDIO_BITRATE, VIDEO_BITRATE

log = logging.getLogger(__name__)

RATE = 48_000
AAC_FRAME = 1024
SEGMENT_S = 4
AUDIO_GAP_S = 0.15  # audio later than this behind its time gets silence before it
AUDIO_AHEAD_S = 0.2  # audio this far ahead of its time is dropped
LATE_CLOSE_S = 1.0  # a segment waits this long past its end for late audio


class DiskFull(Exception):
    """The disk filled while writing; finished segments are kept."""


@dataclass(frozen=True)
class Finished:
    """A complete segment on disk."""

    path: Path
    start_s: float
    duration_s: float


def segment_name(number: int) -> str:
    return f"{number:05d}.ts"


class Segment:
    """One open segment file: its container, encoders and the audio not yet encoded."""

    def __init__(self, path: Path, number: int, size: tuple[int, int], fps: int, bitrate: int):
        self.number = number
        self.path = path
        self.part = path.with_name(path.name + ".part")
        # Negative audio times (AAC's priming) stay negative, so segments line up end to end.
        self.container = av.open(
            str(self.part), "w", format="mpegts", options={"avoid_negative_ts": "disabled"}
        )
        self.video = self.container.add_stream("libx264", rate=fps)
        self.video.width, self.video.height = size
        self.video.pix_fmt = "yuv420p"
        self.video.codec_context.time_base = Fraction(1, fps)
        self.video.bit_rate = bitrate
        self.video.thread_count = 1
        self.video.options = {
            "preset": "veryfast",
            "maxrate": str(bitrate),
            "bufsize": str(bitrate * 2),
            "g": str(fps * SEGMENT_S),
            "bf": "0",  # no reordering: every segment starts at its own first tick
        }
        self.audio = self.container.add_stream("aac", rate=RATE, layout="stereo")
        self.audio.bit_rate = AUDIO_BITRATE
        self.pending = np.zeros((2, 0), dtype=np.float32)
        self.pending_at = 0  # sample index of pending[:, 0]
        self.first_tick = True

    def write_video(self, frame: VideoFrame, tick: int) -> None:
        frame.pts, frame.time_base = tick, self.video.codec_context.time_base
        frame.pict_type = PictureType.I if self.first_tick else PictureType.NONE
        self.first_tick = False
        self.container.mux(self.video.encode(frame))

    def write_audio(self, samples: np.ndarray, at: int) -> None:
        if not self.pending.shape[1]:
            self.pending_at = at
        self.pending = np.concatenate([self.pending, samples], axis=1)
        while self.pending.shape[1] >= AAC_FRAME:
            self._encode_audio(self.pending[:, :AAC_FRAME])
            self.pending = self.pending[:, AAC_FRAME:]
            self.pending_at += AAC_FRAME

    def _encode_audio(self, samples: np.ndarray) -> None:
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples), "fltp", "stereo")
        frame.sample_rate, frame.pts, frame.time_base = RATE, self.pending_at, Fraction(1, RATE)
        self.container.mux(self.audio.encode(frame))

    def close(self) -> None:
        if self.pending.shape[1]:
            self._encode_audio(self.pending)
        self.container.mux(self.video.encode(None))
        self.container.mux(self.audio.encode(None))
        self.container.close()
        self.part.rename(self.path)

    def abandon(self) -> None:
        try:
            self.container.close()
        except Exception:  # noqa: BLE001 - the disk is full or the file broken: drop it anyway
            log.debug("closing an abandoned segment failed", exc_info=True)
        self.part.unlink(missing_ok=True)


class SegmentWriter:
    """Writes the program into `directory`; `on_finished` hears of each complete segment."""

    def __init__(
        self,
        directory: Path,
        size: tuple[int, int] = (640, 360),
        fps: int = 15,
        bitrate: int = VIDEO_BITRATE,
        on_finished: Callable[[Finished], None] = lambda _: None,
    ) -> None:
        self.directory = directory
        self.size, self.fps, self.bitrate = size, fps, bitrate
        self.on_finished = on_finished
        self.segment_ticks = fps * SEGMENT_S
        self.segment_samples = RATE * SEGMENT_S
        self.open: dict[int, Segment] = {}
        self.finished: list[Finished] = []
        self.next_tick = 0  # the first video tick not written yet
        self.next_sample = 0  # the first audio sample not written yet
        self.closed_below = 0  # segments close in order: those numbered below are done
        self.last_frame: VideoFrame | None = None
        self._to_stereo = av.AudioResampler(format="fltp", layout="stereo", rate=RATE)
        directory.mkdir(parents=True, exist_ok=True)

    # --- video --------------------------------------------------------------------------

    def video(self, frame: VideoFrame, at: float) -> None:
        """A picture that arrived `at` seconds into the recording."""
        tick = round(at * self.fps)
        picture = frame.reformat(self.size[0], self.size[1], "yuv420p")
        if tick < self.next_tick:  # arrived early on a tick already written
            self.last_frame = picture
            return
        self._fill_video(tick)
        self._put_video(picture)

    def _fill_video(self, until_tick: int) -> None:
        while self.next_tick < until_tick and self.last_frame is not None:
            self._put_video(self.last_frame)
        self.next_tick = max(self.next_tick, until_tick)

    def _put_video(self, picture: VideoFrame) -> None:
        tick = self.next_tick
        segment = self._segment(tick // self.segment_ticks)
        self._guard(segment.write_video, picture, tick)
        self.last_frame = picture
        self.next_tick = tick + 1
        self._close_behind(tick / self.fps)

    # --- audio --------------------------------------------------------------------------

    def audio(self, frame: av.AudioFrame, at: float) -> None:
        """Sound that finished arriving `at` seconds into the recording."""
        samples = np.concatenate([f.to_ndarray() for f in self._to_stereo.resample(frame)], 1)
        due = round(at * RATE) - samples.shape[1]
        if due - self.next_sample > AUDIO_GAP_S * RATE:
            self._put_silence(due)
        elif self.next_sample - due > AUDIO_AHEAD_S * RATE:
            return
        self._put_audio(samples)

    def _put_silence(self, until_sample: int) -> None:
        while self.next_sample < until_sample:
            count = min(until_sample - self.next_sample, AAC_FRAME * 8)
            self._put_audio(np.zeros((2, count), dtype=np.float32))

    def _put_audio(self, samples: np.ndarray) -> None:
        while samples.shape[1]:
            number = self.next_sample // self.segment_samples
            room = (number + 1) * self.segment_samples - self.next_sample
            piece, samples = samples[:, :room], samples[:, room:]
            if number >= self.closed_below:  # else too late: that segment is closed
                self._guard(self._segment(number).write_audio, piece, self.next_sample)
            self.next_sample += piece.shape[1]

    # --- segments -----------------------------------------------------------------------

    def _segment(self, number: int) -> Segment:
        if number not in self.open:
            path = self.directory / segment_name(number + 1)
            self.open[number] = self._guard(
                Segment, path, number, self.size, self.fps, self.bitrate
            )
        return self.open[number]

    def _close_behind(self, now_s: float) -> None:
        """Closes segments whose end is LATE_CLOSE_S behind the video."""
        for number in sorted(self.open):
            end_s = (number + 1) * SEGMENT_S
            if end_s + LATE_CLOSE_S <= now_s:
                self._close(number, end_s)

    def _close(self, number: int, end_s: float) -> None:
        segment = self.open[number]
        self._put_silence(min(round(end_s * RATE), (number + 1) * self.segment_samples))
        del self.open[number]
        self.closed_below = number + 1
        self._guard(segment.close)
        start_s = number * SEGMENT_S
        done = Finished(segment.path, start_s, end_s - start_s)
        self.finished.append(done)
        self.on_finished(done)

    def finish(self, at: float) -> list[Finished]:
        """Pads both streams to `at` seconds and closes every segment."""
        self._fill_video(max(round(at * self.fps), 1))
        self._put_silence(round(at * RATE))
        end_s = self.next_tick / self.fps
        for number in sorted(self.open):
            self._close(number, min(end_s, (number + 1) * SEGMENT_S))
        return self.finished

    def abandon(self) -> None:
        """After a failure: drops the segments being written, keeps the finished ones."""
        for segment in self.open.values():
            segment.abandon()
        self.open.clear()

    def _guard(self, step: Callable, *args: object) -> object:
        """Runs a write step; a full disk becomes DiskFull."""
        try:
            return step(*args)
        except OSError as problem:
            if problem.errno == errno.ENOSPC:
                raise DiskFull(str(problem)) from problem
            raise
