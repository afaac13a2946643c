"""A secretary sets up a meeting: details, participants, an agenda with sub-items."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from server.models import AgendaItem, Document, Participant


@pytest.fixture
async def secretary(client, accounts):
    body = accounts.body()
    accounts.user("thuky", "secretary", body, full_name="Nguyễn Thị Hồng")
    await client.login("thuky")
    return body


async def make_meeting(client, title="Kỳ họp thứ ba") -> dict:
    response = await client.post(
        "/api/meetings", json={"title": title, "starts_at": "2026-12-15T08:00:00+07:00"}
    )
    assert response.status_code == 201, response.text
    return response.json()


async def add_item(client, meeting_id, title, **fields) -> dict:
    response = await client.post(
        f"/api/meetings/{meeting_id}/items", json={"title": title, **fields}
    )
    assert response.status_code == 201, response.text
    return response.json()


async def agenda(client, meeting_id) -> list[tuple[str, str]]:
    """(number, title) of every item in reading order."""
    items = (await client.get(f"/api/meetings/{meeting_id}")).json()["items"]
    rows = []

    def walk(nodes):
        for node in nodes:
            rows.append((node["number"], node["title"]))
            walk(node["children"])

    walk(items)
    return rows


async def test_secretary_creates_and_lists_a_meeting(client, secretary):
    meeting = await make_meeting(client)
    assert meeting["status"] == "draft"
    starts = datetime.fromisoformat(meeting["starts_at"])
    assert starts == datetime(2026, 12, 15, 1, 0, tzinfo=UTC)
    fetched = (await client.get(f"/api/meetings/{meeting['id']}")).json()["starts_at"]
    assert datetime.fromisoformat(fetched) == starts
    listed = (await client.get("/api/meetings")).json()
    assert [m["title"] for m in listed] == ["Kỳ họp thứ ba"]


async def test_a_time_without_offset_is_on_the_council_clock(client, secretary):
    response = await client.post(
        "/api/meetings", json={"title": "K", "starts_at": "2026-12-15T08:00:00"}
    )
    assert response.status_code == 201
    starts = datetime.fromisoformat(response.json()["starts_at"])
    assert starts == datetime(2026, 12, 15, 1, 0, tzinfo=UTC)
    moved = await client.patch(
        f"/api/meetings/{response.json()['id']}", json={"starts_at": "2026-12-16T14:00:00"}
    )
    assert datetime.fromisoformat(moved.json()["starts_at"]) == datetime(
        2026, 12, 16, 7, 0, tzinfo=UTC
    )


async def test_meeting_without_title_or_with_a_bad_date_is_refused(client, secretary):
    response = await client.post("/api/meetings", json={"title": "", "starts_at": "2026-12-15"})
    assert response.status_code == 400
    response = await client.post("/api/meetings", json={"title": "X", "starts_at": "mai"})
    assert response.status_code == 400
    assert (await client.get("/api/meetings")).json() == []


async def test_secretary_edits_the_meeting(client, secretary):
    meeting = await make_meeting(client)
    response = await client.patch(
        f"/api/meetings/{meeting['id']}",
        json={"place": "Hội trường A", "title": "Kỳ họp bất thường"},
    )
    assert response.status_code == 200
    got = (await client.get(f"/api/meetings/{meeting['id']}")).json()
    assert (got["title"], got["place"]) == ("Kỳ họp bất thường", "Hội trường A")


async def test_participants_are_added_once_with_their_role(client, accounts, secretary):
    meeting = await make_meeting(client)
    accounts.user("daibieu01", full_name="Trần Văn An")
    url = f"/api/meetings/{meeting['id']}/participants"
    response = await client.post(url, json={"username": "daibieu01", "role": "chair", "seat": "1"})
    assert response.status_code == 201
    assert response.json()["role"] == "chair"
    again = await client.post(url, json={"username": "daibieu01", "role": "delegate"})
    assert again.status_code == 409
    assert "Trần Văn An" in again.json()["message"]
    assert (
        await client.post(url, json={"username": "khongco", "role": "delegate"})
    ).status_code == 404
    bad = await client.post(url, json={"username": "daibieu01", "role": "king"})
    assert bad.status_code == 400
    heavy = await client.post(
        url, json={"username": "thuky", "role": "delegate", "vote_weight": 500}
    )
    assert heavy.status_code == 400
    people = (await client.get(f"/api/meetings/{meeting['id']}")).json()["participants"]
    assert [(p["username"], p["role"]) for p in people] == [("daibieu01", "chair")]


async def test_participant_can_be_removed(client, accounts, secretary, database):
    meeting = await make_meeting(client)
    user = accounts.user("daibieu02")
    await client.post(
        f"/api/meetings/{meeting['id']}/participants",
        json={"username": "daibieu02", "role": "delegate"},
    )
    response = await client.delete(f"/api/meetings/{meeting['id']}/participants/{user.id}")
    assert response.status_code == 204
    assert database.exec(select(Participant)).all() == []


async def test_agenda_items_nest_and_are_numbered(client, secretary):
    meeting = await make_meeting(client)
    mid = meeting["id"]
    await add_item(client, mid, "Khai mạc")
    budget = await add_item(client, mid, "Ngân sách")
    await add_item(client, mid, "Dự toán 2027", parent_id=budget["id"])
    await add_item(client, mid, "Quyết toán 2025", parent_id=budget["id"], position=0)
    await add_item(client, mid, "Bế mạc")
    assert await agenda(client, mid) == [
        ("1", "Khai mạc"),
        ("2", "Ngân sách"),
        ("2.1", "Quyết toán 2025"),
        ("2.2", "Dự toán 2027"),
        ("3", "Bế mạc"),
    ]


async def test_items_move_between_places_and_levels(client, secretary):
    mid = (await make_meeting(client))["id"]
    a = await add_item(client, mid, "A")
    b = await add_item(client, mid, "B")
    c = await add_item(client, mid, "C")
    assert (await client.patch(f"/api/items/{c['id']}", json={"position": 0})).status_code == 200
    assert await agenda(client, mid) == [("1", "C"), ("2", "A"), ("3", "B")]
    await client.patch(f"/api/items/{b['id']}", json={"parent_id": a["id"]})
    assert await agenda(client, mid) == [("1", "C"), ("2", "A"), ("2.1", "B")]
    await client.patch(f"/api/items/{b['id']}", json={"parent_id": None, "position": 0})
    assert await agenda(client, mid) == [("1", "B"), ("2", "C"), ("3", "A")]


async def test_an_item_cannot_go_under_itself_or_too_deep(client, secretary):
    mid = (await make_meeting(client))["id"]
    a = await add_item(client, mid, "A")
    b = await add_item(client, mid, "B", parent_id=a["id"])
    c = await add_item(client, mid, "C", parent_id=b["id"])
    response = await client.patch(f"/api/items/{a['id']}", json={"parent_id": c["id"]})
    assert response.status_code == 400
    assert response.json()["code"] == "bad_parent"
    deep = await client.post(
        f"/api/meetings/{mid}/items", json={"title": "D", "parent_id": c["id"]}
    )
    assert deep.status_code == 400
    assert deep.json()["code"] == "too_deep"
    assert await agenda(client, mid) == [("1", "A"), ("1.1", "B"), ("1.1.1", "C")]


async def test_an_item_of_another_meeting_cannot_be_a_parent(client, secretary):
    first = (await make_meeting(client, "Một"))["id"]
    second = (await make_meeting(client, "Hai"))["id"]
    other = await add_item(client, first, "Ở cuộc họp khác")
    response = await client.post(
        f"/api/meetings/{second}/items", json={"title": "X", "parent_id": other["id"]}
    )
    assert response.status_code == 400
    assert await agenda(client, second) == []


async def test_deleting_an_item_takes_its_sub_items_and_keeps_documents(
    client, secretary, database
):
    mid = (await make_meeting(client))["id"]
    a = await add_item(client, mid, "A")
    b = await add_item(client, mid, "B", parent_id=a["id"])
    await add_item(client, mid, "C")
    database.add(Document(meeting_id=mid, item_id=b["id"], title="Tờ trình", sha256="0" * 64))
    database.commit()
    assert (await client.delete(f"/api/items/{a['id']}")).status_code == 204
    assert await agenda(client, mid) == [("1", "C")]
    database.expire_all()
    assert len(database.exec(select(AgendaItem)).all()) == 1
    kept = database.exec(select(Document)).one()
    assert kept.item_id is None
    loose = (await client.get(f"/api/meetings/{mid}")).json()["documents"]
    assert [d["title"] for d in loose] == ["Tờ trình"]


async def test_unknown_item_is_a_404(client, secretary):
    assert (await client.patch("/api/items/999", json={"title": "x"})).status_code == 404
    assert (await client.delete("/api/items/999")).status_code == 404
