"""The video bridge with real aiortc points: the program, the mix without oneself, rejoining."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from sqlmodel import select

from server.conference.program import FPS
from server.models import JournalEvent, User
from tests.live import Tablet, close_all
from tests.points import Point, PointError, conference_meeting, mean_rgb

RED, GREEN, BLUE = (220, 30, 30), (30, 200, 40), (40, 50, 220)
TONES = {"hall": 440.0, "phuong1": 700.0, "phuong2": 1100.0}
COLOURS = {"hall": RED, "phuong1": GREEN, "phuong2": BLUE}


@pytest.fixture
def meeting(accounts, database):
    meeting_id = conference_meeting(accounts, database, TONES)
    accounts.join(accounts.user("daibieu"), meeting_id, "delegate")
    accounts.join(accounts.user("khach", "observer"), meeting_id, "observer")
    accounts.user("nguoingoai")
    return meeting_id


async def chair_of(served, meeting_id):
    chair = await (await Tablet(served, "chutoa").sign_in()).connect(meeting_id)
    await chair.answer(await chair.send("hello", since=None), within=30)
    return chair


async def join_all(served, meeting_id, names=tuple(TONES)):
    points = []
    for name in names:  # one after another: the first to join is on the program
        points.append(await Point(served.url, name, meeting_id, COLOURS[name], TONES[name]).join())
    return points


def user_id(database, username):
    return database.exec(select(User.id).where(User.username == username)).one()


async def leave_all(points):
    await asyncio.gather(*(p.leave() for p in points))


async def test_the_picked_point_is_on_every_program_and_a_switch_lands_within_a_second(
    served, meeting, database
):
    chair = await chair_of(served, meeting)
    points = await join_all(served, meeting)
    await asyncio.gather(*(p.wait_for_colour(RED) for p in points))  # the first one joined
    picked = await chair.request("rtc.pick", point=user_id(database, "phuong1"))
    assert picked["type"] == "ack", picked
    await asyncio.gather(*(p.wait_for_colour(GREEN) for p in points))
    asked = time.monotonic()
    await chair.request("rtc.pick", point=user_id(database, "phuong2"))
    await asyncio.gather(*(p.wait_for_colour(BLUE, within=1.0) for p in points))
    assert time.monotonic() - asked < 1.0
    give_up = time.monotonic() + 15  # the program flows at its full rate to every point
    while not all(p.received_fps(1.0) >= 0.8 * FPS for p in points):
        assert time.monotonic() < give_up, [p.received_fps(1.0) for p in points]
        await asyncio.sleep(0.2)
    await leave_all(points)
    await chair.close()


async def test_points_off_the_program_are_told_to_send_thumbnails(served, meeting, database):
    chair = await chair_of(served, meeting)
    hall, ward1, ward2 = await join_all(served, meeting)
    assert (await hall.wait_for_event("rtc.send"))["quality"] == "full"
    assert (await ward1.wait_for_event("rtc.send"))["quality"] == "thumb"
    seen = len(ward1.events), len(hall.events)
    await chair.request("rtc.pick", point=user_id(database, "phuong1"))
    told = await ward1.wait_for_event("rtc.send", after=seen[0])
    assert (told["quality"], told["width"], told["fps"]) == ("full", 1280, 25)
    told = await hall.wait_for_event("rtc.send", after=seen[1])
    assert (told["quality"], told["width"], told["fps"]) == ("thumb", 160, 5)
    assert ward1.video.quality.width == 1280 and hall.video.quality.width == 160
    await leave_all([hall, ward1, ward2])
    await chair.close()


async def test_every_point_hears_the_others_and_not_itself(served, meeting):
    points = await join_all(served, meeting)
    await asyncio.sleep(3)  # a second of sound to analyse, after the mix settles
    for point in points:
        heard = point.tone_power(TONES.values())
        own = TONES[point.username]
        others = [heard[hz] for name, hz in TONES.items() if name != point.username]
        assert heard[own] < 0.01, (point.username, heard)
        assert all(share > 0.1 for share in others), (point.username, heard)
    await leave_all(points)


async def test_the_others_still_hear_each_other_when_a_talker_leaves(served, meeting):
    points = await join_all(served, meeting)
    await asyncio.sleep(1.5)
    await points[2].leave()  # a talker whose own mix may be in the making
    await asyncio.sleep(2.5)
    hall, ward1 = points[:2]
    assert hall.tone_power([TONES["phuong1"]])[TONES["phuong1"]] > 0.1
    assert ward1.tone_power([TONES["hall"]])[TONES["hall"]] > 0.1
    await leave_all(points[:2])


async def test_a_muted_point_is_heard_by_nobody(served, meeting, database):
    chair = await chair_of(served, meeting)
    points = await join_all(served, meeting)
    muted = await chair.request("rtc.mute", point=user_id(database, "phuong2"), muted=True)
    assert muted["type"] == "ack"
    assert (await points[2].wait_for_event("rtc.muted"))["muted"] is True
    await asyncio.sleep(2.5)
    for point in points[:2]:
        assert point.tone_power([TONES["phuong2"]])[TONES["phuong2"]] < 0.01
    await leave_all(points)
    await chair.close()


async def test_a_point_that_drops_rejoins_and_gets_the_program_again(served, meeting, database):
    hall, ward1 = await join_all(served, meeting, ("hall", "phuong1"))
    await ward1.wait_for_colour(RED)
    await ward1.drop()
    await asyncio.sleep(0.5)
    await ward1.rejoin()  # a new offer from the same user replaces the lost one
    await ward1.wait_for_colour(RED)
    conference = served.app.state.conferences.get(meeting)
    ids = user_id(database, "hall"), user_id(database, "phuong1")
    assert sorted(conference.points) == sorted(ids)
    assert conference.points[ids[1]].pc.connectionState == "connected"
    await leave_all([hall, ward1])


async def test_audio_only_stops_the_program_video_and_comes_back(served, meeting):
    hall, ward1 = await join_all(served, meeting, ("hall", "phuong1"))
    await ward1.wait_for_colour(RED)
    assert (await ward1.audio_only(True))["type"] == "ack"
    await asyncio.sleep(0.5)
    before = ward1.frames_received
    await asyncio.sleep(1.5)
    assert ward1.frames_received - before <= 1
    assert (await ward1.audio_only(False))["type"] == "ack"
    await asyncio.sleep(1.5)
    assert ward1.received_fps(1.0) >= 10
    await leave_all([hall, ward1])


async def test_only_the_halls_points_and_the_chair_may_join(served, meeting):
    for name in ("daibieu", "khach"):  # a delegate and an observer of the meeting
        with pytest.raises(PointError, match="HTTP 403"):
            await Point(served.url, name, meeting).join()
    url = f"/api/meetings/{meeting}/rtc/offer"
    stranger = await Tablet(served, "nguoingoai").sign_in()
    headers = {"X-CSRFToken": stranger.http.cookies["csrftoken"]}
    refused = await stranger.http.post(url, json={"sdp": "v=0"}, headers=headers)
    assert refused.status_code == 404  # not a participant: the meeting is not even shown
    hall = await Tablet(served, "hall").sign_in()
    headers = {"X-CSRFToken": hall.http.cookies["csrftoken"]}
    bad = await hall.http.post(url, json={"sdp": "v=0\r\nnonsense"}, headers=headers)
    assert bad.status_code == 400 and bad.json()["code"] == "bad_offer"
    huge = await hall.http.post(url, json={"sdp": "x" * 200_000, "type": "offer"}, headers=headers)
    assert huge.status_code == 400
    conference = served.app.state.conferences.get(meeting)
    assert conference is None or not conference.points
    await close_all(stranger, hall)


async def test_joins_and_leaves_clean_up_and_go_into_the_journal(served, meeting, database):
    loop = served.loop
    baseline = await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(_task_count(), loop))
    for _ in range(3):
        points = await join_all(served, meeting, ("hall", "phuong1"))
        await points[1].wait_for_colour(RED)
        await leave_all(points)
    await asyncio.sleep(1)
    assert served.app.state.conferences.get(meeting) is None  # the last one out stops it
    after = await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(_task_count(), loop))
    assert after <= baseline
    changes = database.exec(JournalEvent.__table__.select()).all()
    kinds = [row.payload["change"] for row in changes if row.type == "conference.changed"]
    assert kinds.count("joined") == 6 and kinds.count("left") == 6


async def _task_count() -> int:
    return len(asyncio.all_tasks())


async def test_the_recorder_listens_to_the_program_with_its_key_only(served, meeting):
    hall = (await join_all(served, meeting, ("hall",)))[0]
    url = f"{served.url}/api/recorder/meetings/{meeting}/listen"
    key = served.app.state.settings.recorder_key
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver("audio", "recvonly")
    pc.addTransceiver("video", "recvonly")
    red = asyncio.Event()

    def take(track):
        async def read():
            while track.kind == "video":
                colour = mean_rgb(await track.recv())
                if max(abs(a - b) for a, b in zip(colour, RED, strict=True)) <= 20:
                    red.set()

        asyncio.ensure_future(read())

    pc.on("track", take)
    await pc.setLocalDescription(await pc.createOffer())
    offer = {"sdp": pc.localDescription.sdp, "type": "offer"}
    async with httpx.AsyncClient() as http:
        forged = await http.post(url, json=offer, headers={"Authorization": "Bearer guess"})
        assert forged.status_code == 401
        answer = await http.post(url, json=offer, headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 200, answer.text
    await pc.setRemoteDescription(RTCSessionDescription(**answer.json()))
    await asyncio.wait_for(red.wait(), 10)
    await pc.close()
    await hall.leave()


async def test_forged_or_wrong_controls_get_a_clear_error_and_change_nothing(
    served, meeting, database
):
    chair = await chair_of(served, meeting)
    hall, ward1 = await join_all(served, meeting, ("hall", "phuong1"))
    stranger = user_id(database, "daibieu")  # a participant, but not in the conference
    assert (await chair.request("rtc.pick", point=stranger))["code"] == "no_point"
    assert (await chair.request("rtc.pick", point="1"))["code"] == "bad_message"
    assert (await chair.request("rtc.mute", point=user_id(database, "hall"), muted="yes"))[
        "code"
    ] == "bad_message"
    refused = await ward1.command("rtc.pick", point=user_id(database, "phuong1"))
    assert refused["code"] == "forbidden"  # a ward point cannot direct the program
    conference = served.app.state.conferences.get(meeting)
    assert conference.source == user_id(database, "hall") and conference.picked is None
    assert not any(point.muted for point in conference.points.values())
    thumb = await chair.http.get(f"/api/meetings/{meeting}/rtc/points/{stranger}/thumb.jpg")
    assert thumb.status_code == 404 and thumb.json()["code"] == "no_picture"
    await leave_all([hall, ward1])
    await chair.close()
