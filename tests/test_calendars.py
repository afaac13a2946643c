"""Calendar feeds (issue 19, item 5): a person's and a council's meetings at a secret-token
URL, updated when a meeting moves; a revoked or unknown token gives nothing of the feed."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from server.calendars import Event, escape, feed
from server.models import Meeting

FEED = re.compile(r"/calendar/feed/[A-Za-z0-9_-]+\.ics")


def unfold(text: str) -> list[str]:
    """Content lines, as a calendar app reads them back (RFC 5545 3.1)."""
    assert text.endswith("\r\n")
    lines: list[str] = []
    for raw in text.split("\r\n")[:-1]:
        assert len(raw.encode("utf-8")) <= 75, raw
        if raw.startswith(" "):
            lines[-1] += raw[1:]
        else:
            lines.append(raw)
    return lines


def unescape(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        if value[i] == "\\":
            nxt = value[i + 1]
            out.append("\n" if nxt in "nN" else nxt)
            i += 2
        else:
            assert value[i] not in ",;", value
            out.append(value[i])
            i += 1
    return "".join(out)


def events(text: str) -> dict[str, dict[str, str]]:
    """The VEVENTs by UID: each property's value (text unescaped)."""
    found: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in unfold(text):
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT":
            assert current is not None
            found[current["UID"]] = current
            current = None
        elif current is not None:
            key, _, value = line.partition(":")
            current[key] = (
                unescape(value) if key in {"SUMMARY", "LOCATION", "DESCRIPTION"} else value
            )
    return found


async def meeting(client, title: str, **fields) -> dict:
    response = await client.post(
        "/api/meetings",
        json={"title": title, "starts_at": "2026-12-15T08:00:00+07:00", **fields},
    )
    assert response.status_code == 201, response.text
    return response.json()


async def publish(database, meeting_id: int) -> None:
    row = database.get(Meeting, meeting_id)
    row.status = "published"
    database.add(row)
    database.commit()


async def make_link(client, **form) -> str:
    response = await client.post("/calendar/links", data={"kind": "person", **form})
    assert response.status_code == 303, response.text
    page = (await client.get("/calendar")).text
    found = FEED.findall(page)
    assert found, page
    return found[-1]


async def setup(client, new_client, accounts, database):
    body = accounts.body()
    other_body = accounts.body("HĐND xã Bên Cạnh")
    accounts.user("thuky", "secretary", body, full_name="Nguyễn Thị Hồng")
    accounts.user("thuky2", "secretary", other_body)
    an = accounts.user("daibieu01", body=body, full_name="Trần Văn An")
    accounts.user("daibieu02", body=body)
    await client.login("thuky")
    mine = await meeting(client, "Kỳ họp thứ ba, HĐND; phiên \\ sáng", place="Hội trường A")
    theirs = await meeting(client, "Kỳ họp chuyên đề")
    accounts.join(an, mine["id"])
    delegate = await new_client()
    await delegate.login("daibieu01")
    return body, other_body, mine, theirs, delegate


async def test_a_persons_feed_lists_their_meetings_and_not_others(
    client, new_client, accounts, database
):
    _, _, mine, theirs, delegate = await setup(client, new_client, accounts, database)
    url = await make_link(delegate)
    anonymous = await new_client()
    response = await anonymous.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    found = events(response.text)
    assert set(found) == {f"meeting-{mine['id']}@phonghop"}
    event = found[f"meeting-{mine['id']}@phonghop"]
    assert event["SUMMARY"] == "Kỳ họp thứ ba, HĐND; phiên \\ sáng"
    assert event["LOCATION"] == "Hội trường A"
    assert event["DTSTART"] == "20261215T010000Z"
    assert event["DTEND"] == "20261215T050000Z"
    assert "HĐND phường Thử Nghiệm" in event["DESCRIPTION"]
    assert f"/meetings/{mine['id']}" in event["DESCRIPTION"]
    assert theirs["title"] not in response.text


async def test_a_councils_feed_lists_its_published_meetings(client, new_client, accounts, database):
    body, other_body, mine, theirs, _ = await setup(client, new_client, accounts, database)
    await publish(database, mine["id"])
    await publish(database, theirs["id"])
    url = await make_link(client, kind="council", body_id=str(body.id))
    text = (await (await new_client()).get(url)).text
    assert set(events(text)) == {
        f"meeting-{mine['id']}@phonghop",
        f"meeting-{theirs['id']}@phonghop",
    }
    # a secretary of another council may not make this council's link
    other = await new_client()
    await other.login("thuky2")
    refused = await other.post("/calendar/links", data={"kind": "council", "body_id": body.id})
    assert refused.status_code == 403
    # a delegate may not either
    delegate = await new_client()
    await delegate.login("daibieu02")
    refused = await delegate.post("/calendar/links", data={"kind": "council", "body_id": body.id})
    assert refused.status_code == 403


async def test_moving_a_meeting_changes_its_start_and_raises_its_sequence(
    client, new_client, accounts, database
):
    _, _, mine, _, delegate = await setup(client, new_client, accounts, database)
    url = await make_link(delegate)
    uid = f"meeting-{mine['id']}@phonghop"
    before = events((await delegate.get(url)).text)[uid]
    moved = await client.patch(
        f"/api/meetings/{mine['id']}", json={"starts_at": "2026-12-16T14:00:00+07:00"}
    )
    assert moved.status_code == 200, moved.text
    after = events((await delegate.get(url)).text)[uid]
    assert after["DTSTART"] == "20261216T070000Z"
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])
    assert after["LAST-MODIFIED"] >= before["LAST-MODIFIED"]
    # a change of the description alone does not move the event
    await client.patch(f"/api/meetings/{mine['id']}", json={"description": "Chương trình"})
    again = events((await delegate.get(url)).text)[uid]
    assert again["SEQUENCE"] == after["SEQUENCE"]


async def test_a_revoked_or_unknown_token_gives_nothing_of_the_feed(
    client, new_client, accounts, database
):
    _, _, mine, _, delegate = await setup(client, new_client, accounts, database)
    url = await make_link(delegate)
    page = (await delegate.get("/calendar")).text
    link_id = re.search(r"/calendar/links/(\d+)/revoke", page).group(1)
    # someone else cannot revoke it
    other = await new_client()
    await other.login("daibieu02")
    refused = await other.post(f"/calendar/links/{link_id}/revoke")
    assert refused.status_code == 404
    assert (await delegate.get(url)).status_code == 200
    # its owner can
    revoked = await delegate.post(f"/calendar/links/{link_id}/revoke")
    assert revoked.status_code == 303
    response = await (await new_client()).get(url)
    assert response.status_code == 410
    assert "BEGIN:VCALENDAR" not in response.text
    assert mine["title"] not in response.text
    assert response.json()["code"] == "calendar_revoked"
    assert "thu hồi" in response.json()["message"]  # said in Vietnamese first
    assert url not in (await delegate.get("/calendar")).text
    unknown = await (await new_client()).get("/calendar/feed/not-a-token.ics")
    assert unknown.status_code == 404
    assert "BEGIN:VCALENDAR" not in unknown.text


def test_escaping_and_folding_with_vietnamese_text_read_back_unchanged():
    title = "Kỳ họp thứ mười hai, HĐND phường; bàn về ngân sách\\đầu tư công " * 3
    description = "Hội đồng nhân dân phường Thử Nghiệm\nhttps://phonghop.example/meetings/7"
    start = datetime(2026, 12, 15, 1, tzinfo=UTC)
    text = feed(
        "Lịch họp của Trần Văn Ấn",
        [
            Event(
                uid="meeting-7@phonghop",
                starts_at=start,
                ends_at=start + timedelta(hours=4),
                summary=title,
                location="Hội trường, tầng 2; số 1",
                description=description,
                sequence=3,
            )
        ],
    )
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    raw = text.split("\r\n")
    assert any(line.startswith(" ") for line in raw)  # the long summary was folded
    for line in raw:
        line.encode("utf-8").decode("utf-8")  # no character was split
        assert len(line.encode("utf-8")) <= 75
    event = events(text)["meeting-7@phonghop"]
    assert event["SUMMARY"] == title
    assert event["LOCATION"] == "Hội trường, tầng 2; số 1"
    assert event["DESCRIPTION"] == description
    assert event["SEQUENCE"] == "3"
    assert escape("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
