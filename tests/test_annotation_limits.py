"""One account cannot fill the hall's snapshots: marks are bounded, each bound refused with
its own code, and what others share is read per document, not sent with every hello."""

from __future__ import annotations

import asyncio
import json
import uuid

import sqlalchemy as sa
from sqlmodel import select

from server.annotations import MARKS_PER_DOCUMENT, MAX_POINTS, MAX_TEXT, SHARED_PER_MEETING
from server.models import Annotation, Document, User
from tests.live import Tablet, close_all
from tests.test_live import stroke, tablet


def marks(database, owner: str, document_id: int, count: int, visibility: str) -> None:
    """`count` marks made straight in the database, as if drawn before."""
    owner_id = database.exec(select(User.id).where(User.username == owner)).one()
    database.add_all(
        Annotation(
            id=uuid.uuid4(),
            owner_id=owner_id,
            document_id=document_id,
            page=1,
            kind="ink",
            data={"points": [[0.1, 0.1], [0.2, 0.2]]},
            visibility=visibility,
        )
        for _ in range(count)
    )
    database.commit()


def sticky_note(document_id: int, **data: object) -> dict:
    """A note on page 1 of the document, in the middle; `data` adds to or replaces its fields."""
    return {
        "id": str(uuid.uuid4()),
        "document_id": document_id,
        "page": 1,
        "kind": "note",
        "data": {"x": 0.5, "y": 0.5, **data},
    }


async def test_a_stroke_with_too_many_points_is_refused_with_its_own_code(served, world):
    pad = await tablet(served, "daibieu01", world["meeting"])
    mark = stroke(world["paper"])
    long_stroke = {**mark, "data": {"points": [[0.5, 0.5]] * (MAX_POINTS + 1)}}
    refused = await pad.request("annotation.put", annotation=long_stroke)
    assert refused["code"] == "too_many_points"
    assert str(MAX_POINTS) in refused["message"] and "nét" in refused["message"]
    just_enough = {**mark, "data": {"points": [[0.5, 0.5]] * MAX_POINTS}}
    assert (await pad.request("annotation.put", annotation=just_enough))["type"] == "ack"
    await pad.close()


async def test_a_note_too_long_is_refused_with_its_own_code(served, world):
    pad = await tablet(served, "daibieu01", world["meeting"])
    note = sticky_note(world["paper"], text="ý" * (MAX_TEXT + 1))
    refused = await pad.request("annotation.put", annotation=note)
    assert refused["code"] == "text_too_long"
    note["data"]["text"] = "ý" * MAX_TEXT
    assert (await pad.request("annotation.put", annotation=note))["type"] == "ack"
    await pad.close()


async def test_one_person_has_a_bounded_number_of_marks_per_document(served, world, database):
    marks(database, "daibieu01", world["paper"], MARKS_PER_DOCUMENT - 1, "private")
    pad = await tablet(served, "daibieu01", world["meeting"])
    last = stroke(world["paper"])
    assert (await pad.request("annotation.put", annotation=last))["type"] == "ack"
    refused = await pad.request("annotation.put", annotation=stroke(world["paper"]))
    assert refused["code"] == "too_many_marks"
    moved = await pad.request("annotation.put", annotation={**last, "page": 3})
    assert moved["type"] == "ack"  # changing a mark one has is not a new one
    await pad.request("annotation.delete", annotation_id=last["id"])
    again = await pad.request("annotation.put", annotation=stroke(world["paper"]))
    assert again["type"] == "ack"  # a deleted one makes room
    other = await tablet(served, "daibieu02", world["meeting"])
    theirs = await other.request("annotation.put", annotation=stroke(world["paper"]))
    assert theirs["type"] == "ack"  # the bound is per person
    await close_all(pad, other)


async def test_the_meeting_has_a_bounded_number_of_shared_marks(served, world, database):
    marks(database, "daibieu02", world["paper"], SHARED_PER_MEETING - 1, "meeting")
    pad = await tablet(served, "daibieu01", world["meeting"])
    mark = stroke(world["paper"], "meeting")
    assert (await pad.request("annotation.put", annotation=mark))["type"] == "ack"
    second = stroke(world["paper"], "meeting")
    refused = await pad.request("annotation.put", annotation=second)
    assert refused["code"] == "too_many_shared_marks"
    kept_private = await pad.request(
        "annotation.put", annotation={**second, "visibility": "private"}
    )
    assert kept_private["type"] == "ack"
    changed = await pad.request("annotation.put", annotation={**mark, "page": 4})
    assert changed["type"] == "ack"  # a mark already shared may still change
    database.expire_all()
    shared = database.exec(select(Annotation).where(Annotation.visibility == "meeting")).all()
    assert len(shared) == SHARED_PER_MEETING
    await pad.close()


async def test_a_snapshot_does_not_grow_with_other_peoples_marks(served, world, database):
    marks(database, "daibieu02", world["paper"], 300, "meeting")
    pad = await (await Tablet(served, "daibieu01").sign_in()).connect(world["meeting"])
    mine = stroke(world["paper"])
    await pad.send("hello", since=None)
    await pad.until(lambda m: m["type"] == "snapshot")
    await pad.request("annotation.put", annotation=mine)
    await pad.send("hello", since=None)
    snapshot = await pad.until(lambda m: m["type"] == "snapshot")
    assert [a["id"] for a in snapshot["state"]["annotations"]] == [mine["id"]]
    shared = await pad.http.get(f"/api/documents/{world['paper']}/annotations")
    assert shared.status_code == 200
    assert len(shared.json()["annotations"]) == 300
    assert all(a["visibility"] == "meeting" for a in shared.json()["annotations"])
    await pad.close()


async def test_shared_marks_of_a_document_are_read_only_by_its_meeting(served, world):
    stranger = await Tablet(served, "nguoingoai").sign_in()
    assert (
        await stranger.http.get(f"/api/documents/{world['paper']}/annotations")
    ).status_code == 404
    await stranger.close()


async def test_marks_on_a_confidential_paper_stay_private_and_observers_make_none(
    served, world, database, accounts
):
    paper = database.get(Document, world["paper"])
    paper.confidential = True
    database.add(paper)
    database.commit()
    accounts.join(accounts.user("khach"), world["meeting"], "observer")
    delegate = await tablet(served, "daibieu01", world["meeting"])
    shared = await delegate.request("annotation.put", annotation=stroke(world["paper"], "meeting"))
    assert shared["code"] == "confidential"
    private = await delegate.request("annotation.put", annotation=stroke(world["paper"]))
    assert private["type"] == "ack"
    observer = await tablet(served, "khach", world["meeting"])
    refused = await observer.request("annotation.put", annotation=stroke(world["paper"]))
    assert refused["code"] == "not_in_meeting"
    assert (
        await observer.http.get(f"/api/documents/{world['paper']}/annotations")
    ).status_code == 404
    await close_all(delegate, observer)


async def test_a_hall_saying_hello_at_once_reads_the_meeting_wide_parts_once(served, world):
    """Attendance, the presented page and the speakers are alike for every tablet: twenty
    cold hellos at once read the roster about once, not twenty times."""
    roster_reads = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if "LEFT OUTER JOIN attendance" in statement:
            roster_reads.append(statement)

    engine = served.app.state.engine.sync_engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        hall = [
            await (await Tablet(served, name).sign_in()).connect(world["meeting"])
            for name in ["daibieu01", "daibieu02", "chutoa"] * 5
        ]
        await asyncio.gather(*(t.send("hello", since=None) for t in hall))
        snapshots = await asyncio.gather(
            *(t.until(lambda m: m["type"] == "snapshot") for t in hall)
        )
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert len({json.dumps(s["state"]["attendance"]) for s in snapshots}) == 1
    assert len(snapshots[0]["state"]["attendance"]["people"]) == 3
    assert 1 <= len(roster_reads) < 5, len(roster_reads)
    await close_all(*hall)


async def test_only_the_fields_of_a_marks_kind_are_kept(served, world, database):
    pad = await tablet(served, "daibieu01", world["meeting"])
    note = sticky_note(world["paper"], text="Ý kiến", pad="x" * 200_000, points=[[0, 0]])
    assert (await pad.request("annotation.put", annotation=note))["type"] == "ack"
    database.expire_all()
    stored = database.exec(select(Annotation)).one()
    assert stored.data == {"x": 0.5, "y": 0.5, "text": "Ý kiến"}
    await pad.close()
