"""A point that sends 4K costs the bridge no 4K decoding and the others keep their frame rate."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from sqlmodel import select

from server.conference.program import FPS, SIZES
from server.conference.receiving import vp8_keyframe_size
from server.conference.synthetic import FULL, THUMB, ColourVideo, Quality, vp8_loop
from server.models import User
from tests.live import Tablet
from tests.points import Point, conference_meeting

UHD = Quality(3840, 2160, 5)  # ten frames a loop: a few seconds to encode, once
NAMES = ("hall", "phuong1", "phuong2")
TOLD = "a point sends 3840x2160 pictures"


class UhdCamera(ColourVideo):
    """A camera that sends 3840x2160 whatever the bridge asks, until `settle()`."""

    def __init__(self, colour: tuple[int, int, int]) -> None:
        super().__init__(colour)
        self._quality = UHD
        vp8_loop(self.colour, False, UHD)

    def set_quality(self, width: int, height: int, fps: int) -> None:
        pass

    def settle(self) -> None:
        """Back to the size a source sends (1280x720 at most), starting on a keyframe."""
        super().set_quality(FULL.width, FULL.height, FULL.fps)


async def until(condition: Any, within: float, what: str) -> None:
    give_up = time.monotonic() + within
    while not condition():
        if time.monotonic() > give_up:
            raise TimeoutError(f"not within {within} s: {what}")
        await asyncio.sleep(0.05)


async def on_server(served, coroutine: Any) -> Any:
    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, served.loop))


async def video_packets(point) -> int:
    """RTP packets of video the bridge received from a point."""
    receiver = next(r for r in point.pc.getReceivers() if r.track.kind == "video")
    stats = await receiver.getStats()
    return sum(s.packetsReceived for s in stats.values() if s.type == "inbound-rtp")


def test_the_size_is_read_from_a_vp8_keyframe_only():
    loop = vp8_loop((10, 20, 30), False, UHD)
    assert vp8_keyframe_size(loop[0]) == (3840, 2160)
    assert vp8_keyframe_size(loop[1]) is None  # an inter frame says no size
    assert vp8_keyframe_size(vp8_loop((10, 20, 30), False, THUMB)[0]) == (160, 90)
    assert vp8_keyframe_size(b"\x00\x00") is None


async def test_a_4k_point_is_not_decoded_and_the_others_keep_their_frame_rate(
    served, accounts, database, caplog
):
    caplog.set_level(logging.WARNING, "phonghop.conference")
    meeting = conference_meeting(accounts, database, NAMES)
    hall = await Point(served.url, "hall", meeting, (220, 30, 30)).join()
    chair = await (await Tablet(served, "chutoa").sign_in()).connect(meeting)
    await chair.answer(await chair.send("hello", since=None), within=30)
    picked = await chair.request("rtc.pick", point=user_id(database, "hall"))
    assert picked["type"] == "ack", picked  # the hall stays on the program, whoever is loud
    ward = await Point(served.url, "phuong1", meeting, (30, 200, 40)).join()
    big = Point(served.url, "phuong2", meeting, (40, 50, 220))
    big.video = camera = UhdCamera(big.video.colour)
    await big.join()
    conference = served.app.state.conferences.get(meeting)
    bridge_side = conference.points[user_id(database, "phuong2")]
    await until(lambda: hall.received_fps(1.0) >= 12, 15, "the program reaches the hall")

    await asyncio.sleep(3)  # a few of its 4K frames, and a second of everyone's program
    assert await on_server(served, video_packets(bridge_side)) > 20  # 4K came in
    assert bridge_side.frames_in == 0  # and none of it was decoded
    for point in (hall, ward, big):  # each at the rate of the level its line is at
        track = conference.points[user_id(database, point.username)].video_out
        level = conference.program.level_of(track)
        fps = point.received_fps(2.0)
        assert fps >= 0.8 * FPS / SIZES[level].every, (point.username, level, fps)
    assert [r.getMessage() for r in caplog.records].count(f"{TOLD}: not decoded until smaller") == 1

    camera.settle()
    await until(lambda: bridge_side.frames_in > 0, 15, "pictures of an allowed size are decoded")
    assert bridge_side.frame is not None and bridge_side.frame.width == FULL.width
    await asyncio.gather(*(point.leave() for point in (hall, ward, big)))
    await chair.close()


def user_id(database, username):
    return database.exec(select(User.id).where(User.username == username)).one()
