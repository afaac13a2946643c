"""The live meeting over real websockets: following the chair, catching up, refusals."""

from __future__ import annotations

import asyncio
import json
import socket
import uuid

import pymupdf
import pytest
import websockets
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from sqlmodel import select

from server.live.hub import Connection, Hub, dumps
from server.live.socket import MAX_MESSAGE_BYTES, MESSAGES_PER_S, REPLAY_LIMIT
from server.models import Annotation, JournalEvent, Meeting
from tests.live import Tablet, close_all


async def tablet(served, username, meeting_id, since=None):
    device = await (await Tablet(served, username).sign_in()).connect(meeting_id)
    await device.request("hello", since=since)
    return device


async def test_delegate_follows_chair_page(served, world):
    chair = await tablet(served, "chutoa", world["meeting"])
    delegate = await tablet(served, "daibieu01", world["meeting"])
    ack = await chair.request("page.present", document_id=world["paper"], page=3)
    assert ack["type"] == "ack" and ack["seq"] == 1
    event = await delegate.until(lambda m: m["type"] == "page.presented")
    assert (event["seq"], event["document_id"], event["page"]) == (1, world["paper"], 3)
    assert event["by"] and event["title"] == "Tờ trình"
    await chair.close()
    await delegate.close()


async def test_first_hello_gets_a_snapshot_with_the_presented_page(served, world):
    chair = await tablet(served, "chutoa", world["meeting"])
    await chair.request("page.present", document_id=world["paper"], page=5)
    delegate = await (await Tablet(served, "daibieu01").sign_in()).connect(world["meeting"])
    message_id = await delegate.send("hello", since=None)
    snapshot = await delegate.until(lambda m: m["type"] == "snapshot")
    assert snapshot["seq"] == 1
    assert snapshot["state"]["presented"]["page"] == 5
    assert (await delegate.answer(message_id))["type"] == "ack"
    await chair.close()
    await delegate.close()


async def test_reconnect_with_since_gets_exactly_the_missed_events(served, world):
    chair = await tablet(served, "chutoa", world["meeting"])
    delegate = await tablet(served, "daibieu01", world["meeting"])
    await chair.request("page.present", document_id=world["paper"], page=1)
    seen = (await delegate.until(lambda m: m["type"] == "page.presented"))["seq"]
    await delegate.socket.close()
    for page in (2, 3, 4):
        await chair.request("page.present", document_id=world["paper"], page=page)
    await delegate.connect(world["meeting"])
    message_id = await delegate.send("hello", since=seen)
    ack = await delegate.answer(message_id)
    missed = [m for m in delegate.inbox if m.get("type") == "page.presented" and m["seq"] > seen]
    assert [(m["seq"], m["page"]) for m in missed] == [(2, 2), (3, 3), (4, 4)]
    assert ack["replayed"] == 3
    assert not any(m["type"] == "snapshot" for m in delegate.inbox[-4:])
    await chair.close()
    await delegate.close()


@pytest.mark.parametrize("since", [99, -1, "3"])
async def test_a_since_from_the_future_or_not_a_number_gets_a_snapshot(served, world, since):
    delegate = await (await Tablet(served, "daibieu01").sign_in()).connect(world["meeting"])
    await delegate.send("hello", since=since)
    assert (await delegate.receive())["type"] == "snapshot"
    await delegate.close()


async def test_a_since_too_far_behind_gets_a_snapshot(served, world, database):
    meeting = database.get(Meeting, world["meeting"])
    meeting.last_seq = REPLAY_LIMIT + 10
    database.add(meeting)
    database.commit()
    delegate = await (await Tablet(served, "daibieu01").sign_in()).connect(world["meeting"])
    await delegate.send("hello", since=1)
    message = await delegate.receive()
    assert message["type"] == "snapshot" and message["seq"] == REPLAY_LIMIT + 10
    await delegate.close()


async def closed_with(device) -> int:
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await device.receive()
    return closed.value.rcvd.code


async def test_a_non_participant_is_refused_with_4403(served, world):
    outsider = await (await Tablet(served, "nguoingoai").sign_in()).connect(world["meeting"])
    assert await closed_with(outsider) == 4403
    await outsider.close()


async def test_a_signed_out_tablet_is_refused_with_4401(served, world):
    stranger = await Tablet(served, "daibieu01").connect(world["meeting"])
    assert await closed_with(stranger) == 4401
    await stranger.close()


async def test_another_sites_page_cannot_open_the_socket(served, world):
    device = await (await Tablet(served, "daibieu01").sign_in()).connect(
        world["meeting"], origin="http://evil.example"
    )
    assert await closed_with(device) == 4403
    await device.close()


async def test_bad_messages_get_errors_and_change_nothing(served, world, database):
    delegate = await tablet(served, "daibieu01", world["meeting"])
    socket = delegate.socket
    await socket.send("{not json")
    assert (await delegate.receive())["code"] == "bad_json"
    await socket.send(json.dumps(["a list"]))
    assert (await delegate.receive())["code"] == "bad_message"
    await socket.send(json.dumps({"type": "page.present", "document_id": 1, "page": 1}))
    assert (await delegate.receive())["code"] == "bad_message"  # no id
    await socket.send(json.dumps({"type": "x", "id": "big", "pad": "x" * MAX_MESSAGE_BYTES}))
    assert (await delegate.receive())["code"] == "too_large"
    unknown = await delegate.request("vote.rig")
    assert unknown["code"] == "unknown_type"
    forbidden = await delegate.request("page.present", document_id=world["paper"], page=2)
    assert forbidden["code"] == "forbidden"
    assert "quyền" in forbidden["message"]
    await delegate.close()
    chair = await tablet(served, "chutoa", world["meeting"])
    elsewhere = await chair.request("page.present", document_id=world["foreign"], page=1)
    assert elsewhere["code"] == "not_in_meeting"
    assert (await chair.request("page.present", document_id=world["paper"], page=11))[
        "code"
    ] == "no_such_page"
    assert (await chair.request("page.present", document_id=world["paper"], page="2"))[
        "code"
    ] == "bad_message"
    await chair.close()
    database.expire_all()
    assert database.exec(select(JournalEvent)).all() == []
    assert database.get(Meeting, world["meeting"]).last_seq == 0


async def test_a_retried_message_is_done_once(served, world, database):
    chair = await tablet(served, "chutoa", world["meeting"])
    message = json.dumps(
        {"type": "page.present", "id": "same", "document_id": world["paper"], "page": 2}
    )
    await chair.socket.send(message)
    first = await chair.answer("same")
    await chair.socket.send(message)
    again = await chair.answer("same")
    assert first["seq"] == 1 and again.get("repeat") is True
    database.expire_all()
    assert len(database.exec(select(JournalEvent)).all()) == 1
    await chair.close()


async def test_attendance_checks_in_devices_once_the_session_is_live(served, world, accounts):
    accounts.join(accounts.user("thuky", "secretary"), world["meeting"], "secretary")
    delegate = await tablet(served, "daibieu01", world["meeting"])
    chair = await tablet(served, "chutoa", world["meeting"])
    assert [m for m in delegate.inbox if m["type"] == "attendance.changed"] == []
    response = await chair.http.post(
        f"/api/meetings/{world['meeting']}/session/start",
        headers={"X-CSRFToken": chair.http.cookies["csrftoken"]},
    )
    assert response.status_code == 200 and response.json()["status"] == "live"
    await delegate.until(lambda m: m["type"] == "meeting.started")
    assert (await delegate.request("attendance.here"))["type"] == "ack"
    checked = await chair.until(
        lambda m: m["type"] == "attendance.changed" and m["status"] == "present"
    )
    second = await tablet(served, "daibieu02", world["meeting"])
    await chair.until(
        lambda m: m["type"] == "attendance.changed" and m["user_id"] != checked["user_id"]
    )
    secretary = await tablet(served, "thuky", world["meeting"])
    refused = await delegate.request("attendance.set", user_id=checked["user_id"], status="absent")
    assert refused["code"] == "forbidden"
    marked = await secretary.request(
        "attendance.set", user_id=checked["user_id"], status="excused", reason="Đi công tác"
    )
    assert marked["type"] == "ack"
    event = await chair.until(
        lambda m: m["type"] == "attendance.changed" and m["status"] == "excused"
    )
    assert event["reason"] == "Đi công tác"
    late = await (await Tablet(served, "chutoa").sign_in()).connect(world["meeting"])
    await late.send("hello", since=None)
    state = (await late.until(lambda m: m["type"] == "snapshot"))["state"]
    people = {p["user_id"]: p for p in state["attendance"]["people"]}
    assert people[checked["user_id"]]["status"] == "excused"
    assert state["attendance"]["quorum"]["members"] == 3
    assert state["attendance"]["quorum"]["present"] == 2  # daibieu02, and the chair just now
    for device in (delegate, chair, second, secretary, late):
        await device.close()


async def test_presence_is_announced_to_the_console_only(served, world):
    chair = await tablet(served, "chutoa", world["meeting"])
    watcher = await tablet(served, "daibieu02", world["meeting"])
    delegate = await tablet(served, "daibieu01", world["meeting"])
    await delegate.close()
    offline = await chair.until(lambda m: m["type"] == "presence.changed" and not m["online"])
    came = [m for m in chair.inbox if m["type"] == "presence.changed" and m["online"]]
    assert offline["user_id"] in {m["user_id"] for m in came}
    assert not [m for m in await watcher.quiet() if m["type"] == "presence.changed"]
    await close_all(chair, watcher)


async def test_commands_before_hello_are_refused(served, world):
    chair = await (await Tablet(served, "chutoa").sign_in()).connect(world["meeting"])
    answer = await chair.request("page.present", document_id=world["paper"], page=1)
    assert answer["code"] == "hello_first"
    await chair.close()


def stroke(document_id: int, visibility: str = "private", x: float = 0.2) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "document_id": document_id,
        "page": 2,
        "kind": "ink",
        "data": {"points": [[x, 0.3, 0.5], [x + 0.1, 0.35, 0.6]], "width": 0.004},
        "visibility": visibility,
    }


async def test_a_private_annotation_reaches_only_its_owners_devices(served, world):
    phone = await tablet(served, "daibieu01", world["meeting"])
    pad = await tablet(served, "daibieu01", world["meeting"])
    other = await tablet(served, "daibieu02", world["meeting"])
    mark = stroke(world["paper"])
    ack = await pad.request("annotation.put", annotation=mark)
    assert ack["type"] == "ack"
    event = await phone.until(lambda m: m["type"] == "annotation.changed")
    assert event["annotation"]["id"] == mark["id"] and event["seq"] == ack["seq"]
    assert [m for m in await other.quiet() if m["type"] == "annotation.changed"] == []
    late = await (await Tablet(served, "daibieu02").sign_in()).connect(world["meeting"])
    await late.send("hello", since=0)
    await late.quiet()
    assert not any(m["type"] == "annotation.changed" for m in late.inbox)
    await late.send("hello", since=None)
    snapshot = await late.until(lambda m: m["type"] == "snapshot")
    assert snapshot["state"]["annotations"] == []
    owners_new_device = await (await Tablet(served, "daibieu01").sign_in()).connect(
        world["meeting"]
    )
    await owners_new_device.send("hello", since=None)
    mine = (await owners_new_device.until(lambda m: m["type"] == "snapshot"))["state"]
    assert [a["id"] for a in mine["annotations"]] == [mark["id"]]
    for device in (phone, pad, other, late, owners_new_device):
        await device.close()


async def test_a_replayed_annotation_is_not_doubled(served, world, database):
    pad = await tablet(served, "daibieu01", world["meeting"])
    mark = stroke(world["paper"])
    first = await pad.request("annotation.put", annotation=mark)
    again = await pad.request("annotation.put", annotation=mark)  # new message id, same effect
    assert first["seq"] == 1 and again.get("unchanged") is True
    database.expire_all()
    assert len(database.exec(select(Annotation)).all()) == 1
    assert len(database.exec(select(JournalEvent)).all()) == 1
    await pad.close()


async def test_sharing_and_unsharing_reaches_the_meeting(served, world):
    owner = await tablet(served, "daibieu01", world["meeting"])
    other = await tablet(served, "daibieu02", world["meeting"])
    mark = stroke(world["paper"], visibility="meeting")
    await owner.request("annotation.put", annotation=mark)
    shared = await other.until(lambda m: m["type"] == "annotation.changed")
    assert shared["annotation"]["visibility"] == "meeting"
    await owner.request("annotation.put", annotation={**mark, "visibility": "private"})
    gone = await other.until(
        lambda m: m["type"] == "annotation.changed" and m["seq"] > shared["seq"]
    )
    assert gone["annotation"]["deleted"] is True and gone["annotation"]["data"] == {}
    kept = await owner.until(
        lambda m: (
            m["type"] == "annotation.changed"
            and not m["annotation"]["deleted"]
            and m["annotation"]["visibility"] == "private"
        )
    )
    assert kept["annotation"]["data"]["points"]
    await owner.close()
    await other.close()


async def test_annotations_are_checked_and_owned(served, world, database):
    owner = await tablet(served, "daibieu01", world["meeting"])
    other = await tablet(served, "daibieu02", world["meeting"])
    mark = stroke(world["paper"])
    await owner.request("annotation.put", annotation=mark)
    stolen = await other.request("annotation.put", annotation={**mark, "page": 3})
    assert stolen["code"] == "forbidden"
    assert (await other.request("annotation.delete", annotation_id=mark["id"]))[
        "code"
    ] == "forbidden"
    bad = [
        {**mark, "id": "not-a-uuid"},
        {**stroke(world["paper"]), "kind": "graffiti"},
        {**stroke(world["paper"]), "data": {"points": [[1.5, 0.2]]}},
        {**stroke(world["paper"]), "data": {"points": []}},
        {**stroke(world["paper"]), "page": 11},
        {**stroke(world["foreign"])},
        {**stroke(world["paper"]), "visibility": "public"},
    ]
    codes = [(await other.request("annotation.put", annotation=b))["code"] for b in bad]
    assert codes == [
        "bad_annotation",
        "bad_annotation",
        "bad_annotation",
        "bad_annotation",
        "no_such_page",
        "not_in_meeting",
        "bad_annotation",
    ]
    database.expire_all()
    [stored] = database.exec(select(Annotation)).all()
    assert stored.page == 2 and stored.owner_id != 0
    await owner.close()
    await other.close()


async def test_deleting_is_kept_and_said_once(served, world, database):
    owner = await tablet(served, "daibieu01", world["meeting"])
    mark = stroke(world["paper"])
    await owner.request("annotation.put", annotation=mark)
    assert "seq" in await owner.request("annotation.delete", annotation_id=mark["id"])
    assert (await owner.request("annotation.delete", annotation_id=mark["id"]))["unchanged"]
    database.expire_all()
    assert database.exec(select(Annotation)).one().deleted is True
    await owner.close()


async def test_annotated_pdf_has_the_callers_marks_only(served, world):
    owner = await tablet(served, "daibieu01", world["meeting"])
    other = await tablet(served, "daibieu02", world["meeting"])
    await owner.request("annotation.put", annotation=stroke(world["paper"]))
    await other.request("annotation.put", annotation=stroke(world["paper"], "meeting", x=0.5))
    note = {
        "id": str(uuid.uuid4()),
        "document_id": world["paper"],
        "page": 1,
        "kind": "note",
        "data": {"x": 0.5, "y": 0.5, "text": "Đề nghị làm rõ số liệu"},
        "visibility": "private",
    }
    await owner.request("annotation.put", annotation=note)
    response = await owner.http.get(f"/api/documents/{world['paper']}/annotated.pdf")
    assert response.status_code == 200
    with pymupdf.open(stream=response.content) as pdf:
        kinds = {(n + 1, a.type[1]) for n, page in enumerate(pdf) for a in page.annots()}
        notes = [a.info["content"] for a in pdf[0].annots()]
    assert kinds == {(2, "Ink"), (1, "Text")}
    assert notes == ["Đề nghị làm rõ số liệu"]
    await owner.close()
    await other.close()


async def test_a_stuck_tablet_is_cut_off_and_the_others_get_everything(served, world):
    fast = await tablet(served, "daibieu01", world["meeting"])
    served.app.state.hub.queue_limit = 16  # cut off sooner, so the test sends less
    stuck = await tablet(served, "daibieu02", world["meeting"])
    # The tablet stops reading; only buffers fill. A small receive window keeps them small
    # (loopback may grow one to 32 MB), so the server's queue for it must fill.
    stuck.socket.transport.get_extra_info("socket").setsockopt(
        socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 16
    )
    stuck.socket.transport.pause_reading()
    payload = "x" * 200_000
    total, batch = 300, 20
    received = 0
    for start in range(0, total, batch):  # paced, so only the stuck tablet falls behind
        for n in range(start, start + batch):
            text = json.dumps({"type": "test.flood", "n": n, "pad": payload})
            served.call(served.app.state.hub.publish, world["meeting"], text)
        while received < start + batch:
            message = await fast.receive(within=10)
            if message["type"] == "test.flood":
                assert message["n"] == received  # in order, none lost
                received += 1
    stuck.socket.transport.resume_reading()
    with pytest.raises(websockets.ConnectionClosed) as closed:
        while True:
            await stuck.receive(within=60)
    assert closed.value.rcvd.code == 4008
    flooded = [m for m in stuck.inbox if m["type"] == "test.flood"]
    assert len(flooded) < total
    await fast.close()
    await stuck.close()


async def test_the_chair_gives_the_floor_in_queue_order(served, world):
    chair = await tablet(served, "chutoa", world["meeting"])
    first = await tablet(served, "daibieu01", world["meeting"])
    second = await tablet(served, "daibieu02", world["meeting"])
    assert "seq" in await first.request("speaker.request")
    assert (await first.request("speaker.request"))["unchanged"]  # asking twice is once
    await second.request("speaker.request")
    queue = await chair.until(lambda m: m["type"] == "speakers.changed" and len(m["waiting"]) == 2)
    a, b = queue["waiting"]
    assert "seq" in await chair.request("speaker.move", request_id=b["request_id"], position=1)
    moved = await chair.until(lambda m: m["type"] == "speakers.changed" and m["why"] == "moved")
    assert [w["request_id"] for w in moved["waiting"]] == [b["request_id"], a["request_id"]]
    refused = await first.request("speaker.give", request_id=a["request_id"])
    assert refused["code"] == "forbidden"
    await chair.request("speaker.give", request_id=b["request_id"], time_limit_s=180)
    given = await first.until(lambda m: m["type"] == "speakers.changed" and m["why"] == "given")
    assert given["speaking"]["request_id"] == b["request_id"]
    assert given["speaking"]["time_limit_s"] == 180 and given["speaking"]["started_at"]
    await chair.request("speaker.give", request_id=a["request_id"])  # the next one; b is done
    await chair.request("speaker.end")
    ended = await chair.until(lambda m: m["type"] == "speakers.changed" and m["why"] == "ended")
    assert ended["speaking"] is None and ended["waiting"] == [] and ended["spoke_s"] >= 0
    bad = await chair.request("speaker.give", request_id=a["request_id"], time_limit_s=-5)
    assert bad["code"] == "bad_time_limit"
    for device in (chair, first, second):
        await device.close()


async def test_a_tablet_saying_hello_in_a_filling_hall_is_not_cut_off():
    """500 tablets connecting at once send each other presence messages before each one's
    hello is answered: released together they must fit the tablet's queue, and every
    journaled event the catch-up did not have must still come, in order."""
    connection = Connection(None, user_id=1, roles={"delegate"}, queue_limit=256)
    for n in range(500):
        connection.offer(dumps({"type": "presence.changed", "user_id": n, "online": True}))
        if n in (100, 300, 499):
            connection.offer(dumps({"type": "page.presented", "seq": n}), seq=n)
    connection.release(up_to_seq=100)  # the catch-up had seq 100
    assert not connection.too_slow
    sent = []
    while not connection._queue.empty():
        sent.append(json.loads(connection._queue.get_nowait()))
    assert [m["seq"] for m in sent if m["type"] == "page.presented"] == [300, 499]
    presence = [m["user_id"] for m in sent if m["type"] == "presence.changed"]
    assert presence == sorted(presence) and presence[-1] == 499  # the newest are kept


def test_what_is_published_while_the_server_stops_is_dropped_quietly():
    """Litestar stops the channels before the app's own parts, which may still publish."""
    stopped = ChannelsPlugin(backend=MemoryChannelsBackend(), arbitrary_channels_allowed=True)
    Hub(stopped, journal=None).publish(1, '{"type":"presence.changed"}')


async def test_a_tablet_further_behind_than_its_queue_catches_up_without_being_cut_off(
    served, world, database
):
    """A catch-up of more events than the socket's queue holds waits for room as it goes."""
    missed = served.app.state.hub.queue_limit + 50
    database.add_all(
        JournalEvent(
            meeting_id=world["meeting"],
            seq=n,
            type="page.presented",
            payload={"document_id": world["paper"], "page": 1 + n % 10, "by": 1},
        )
        for n in range(1, missed + 1)
    )
    meeting = database.get(Meeting, world["meeting"])
    meeting.last_seq = missed
    database.add(meeting)
    database.commit()
    delegate = await (await Tablet(served, "daibieu01").sign_in()).connect(world["meeting"])
    ack = await delegate.request("hello", since=0)
    assert ack["replayed"] == missed
    assert [m["seq"] for m in delegate.inbox if m["type"] == "page.presented"] == list(
        range(1, missed + 1)
    )
    assert (await delegate.request("follow", on=True))["type"] == "ack"  # still connected
    await delegate.close()


async def test_a_tablet_flooding_the_socket_is_slowed_not_served(served, world):
    """Past a burst, a tablet's messages are refused with too_fast until its budget refills;
    the socket stays open and then works again."""
    device = await tablet(served, "daibieu01", world["meeting"])
    burst = MESSAGES_PER_S[1] + 20
    ids = [await device.send("follow", on=True) for _ in range(burst)]
    answers = [await device.answer(message_id) for message_id in ids]
    refused = [a for a in answers if a["type"] == "error"]
    assert refused and {a["code"] for a in refused} == {"too_fast"}
    assert all(a["id"] in ids for a in refused)  # each refusal names its message
    for _ in range(100):  # polling for the budget to refill, for at most about 10 s
        answer = await device.request("follow", on=True)
        if answer["type"] == "ack":
            break
        await asyncio.sleep(0.1)
    assert answer["type"] == "ack"
    await device.close()


async def test_a_huge_message_id_is_refused_not_remembered(served, world):
    device = await tablet(served, "daibieu01", world["meeting"])
    await device.socket.send(json.dumps({"type": "follow", "id": "x" * 10_000, "on": True}))
    answer = await device.until(lambda m: m["type"] == "error")
    assert answer["code"] == "bad_message" and answer["id"] is None
    await device.close()
