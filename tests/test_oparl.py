"""Open council data (issue 21, item 5): a public meeting's agenda, public papers and vote
results as OParl 1.1, walked from /system by a small crawler and checked against the vendored
OParl schema; a private meeting, a draft, a confidential paper and a paper not yet handed out
never appear, and their URLs answer 404 like unknown ones."""

from __future__ import annotations

import json
import re
from collections import deque
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from server.models import AdminChange, Meeting, Member
from tests.test_documents import papers, upload
from tests.test_publish import publish

BASE = "http://testserver.local"
API = BASE + "/oparl/v1.1"
SCHEMAS = Path(__file__).parent / "oparl_schema"
TYPE = "https://schema.oparl.org/1.1/"


async def meeting(client, title: str) -> int:
    response = await client.post(
        "/api/meetings",
        json={"title": title, "starts_at": "2026-12-15T08:00:00+07:00", "place": "Hội trường"},
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def item(client, meeting_id: int, title: str, parent: int | None = None) -> int:
    body = {"title": title, "parent_id": parent}
    response = await client.post(f"/api/meetings/{meeting_id}/items", json=body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def paper(client, item_id: int, n: int, **fields: Any) -> dict:
    source = papers()[n]
    response = await upload(
        client, item_id, source.pdf, title=fields.pop("title", source.title), **fields
    )
    assert response.status_code == 201, response.text
    return response.json()


async def hand_vote(client, meeting_id: int, item_id: int, title: str, counts: dict) -> dict:
    made = await client.post(
        f"/api/meetings/{meeting_id}/votes",
        json={"title": title, "method": "hands", "item_id": item_id},
    )
    assert made.status_code == 201, made.text
    vote_id = made.json()["id"]
    assert (await client.post(f"/api/votes/{vote_id}/open")).status_code == 200
    counted = await client.post(f"/api/votes/{vote_id}/count", json={"counts": counts})
    assert counted.status_code == 200, counted.text
    return counted.json()


@pytest.fixture
async def council(client, accounts, database):
    """A ward council with a public meeting (agenda, papers, one confidential, one uploaded
    after the book, two closed votes), a private published meeting and a public draft."""
    body = accounts.body()
    body.kind, body.term = "hdnd", "2026–2031"
    database.add(body)
    database.commit()
    secretary = accounts.user(
        "thuky", "secretary", body, full_name="Nguyễn Thị Thư", email="thuky@x.vn"
    )
    people = []
    for n in range(1, 6):
        user = accounts.user(
            f"daibieu{n:02d}", body=body, full_name=f"Đại Biểu Số {n}", email=f"db{n}@mat.vn"
        )
        group = "Tổ đại biểu số 1" if n <= 2 else ""
        database.add(
            Member(body_id=body.id, user_id=user.id, title="Đại biểu HĐND", group=group, position=n)
        )
        people.append(user)
    database.commit()
    await client.login("thuky")

    shown = await meeting(client, "Kỳ họp thứ ba HĐND phường")
    for user in people:
        accounts.join(user, shown)
    accounts.join(secretary, shown, "secretary")  # counts the show of hands
    opening = await item(client, shown, "Khai mạc kỳ họp")
    budget = await item(client, shown, "Dự toán ngân sách năm 2027")
    estimate = await item(client, shown, "Phân bổ dự toán", parent=budget)
    open_paper = await paper(client, budget, 0, title="Tờ trình dự toán ngân sách")
    sub_paper = await paper(client, estimate, 3, title="Báo cáo phân bổ chi tiết")
    secret = await paper(client, budget, 4, title="Báo cáo MẬT về nhân sự", confidential="on")
    assert (await publish(client, shown))["state"] == "done"
    late = await paper(client, opening, 5, title="Tài liệu bổ sung chưa phát hành")
    passed = await hand_vote(
        client, shown, budget, "Thông qua dự toán 2027", {"yes": 4, "no": 1, "abstain": 0}
    )
    failed = await hand_vote(
        client, shown, estimate, "Điều chỉnh phân bổ", {"yes": 1, "no": 3, "abstain": 1}
    )
    assert passed["result"]["passed"] and not failed["result"]["passed"]

    hidden = await meeting(client, "Phiên họp kín về nhân sự")
    hidden_item = await item(client, hidden, "Công tác cán bộ")
    hidden_paper = await paper(client, hidden_item, 1, title="Tờ trình phiên họp kín")
    assert (await publish(client, hidden))["state"] == "done"
    draft = await meeting(client, "Kỳ họp chuyên đề còn dự thảo")
    draft_item = await item(client, draft, "Chuẩn bị")

    for meeting_id in (shown, draft):
        response = await client.post(f"/meetings/{meeting_id}/public", data={"public": "on"})
        assert response.status_code == 200, response.text
    return {
        "body": body,
        "shown": shown,
        "items": (opening, budget, estimate),
        "open": [open_paper["id"], sub_paper["id"]],
        "secret": secret["id"],
        "late": late["id"],
        "hidden": hidden,
        "hidden_item": hidden_item,
        "hidden_paper": hidden_paper["id"],
        "draft": draft,
        "draft_item": draft_item,
        "people": people,
    }


def oparl_urls(value: Any) -> list[str]:
    """Every URL of the API the object points at, embedded objects included."""
    if isinstance(value, dict):
        return [url for v in value.values() for url in oparl_urls(v)]
    if isinstance(value, list):
        return [url for v in value for url in oparl_urls(v)]
    if isinstance(value, str) and value.startswith(API):
        return [value]
    return []


def objects(value: Any) -> list[dict]:
    """Every OParl object in an answer, embedded ones too."""
    found = []
    if isinstance(value, dict):
        if str(value.get("type", "")).startswith(TYPE):
            found.append(value)
        for v in value.values():
            found += objects(v)
    elif isinstance(value, list):
        for v in value:
            found += objects(v)
    return found


async def crawl(client) -> dict[str, Any]:
    """Fetches /system and every API URL reachable from it, once each, without cookies."""
    seen: dict[str, Any] = {}
    queue = deque([f"{API}/system"])
    while queue:
        url = queue.popleft()
        if url in seen:
            continue
        response = await client.get(url.removeprefix(BASE))
        assert response.status_code == 200, (url, response.text)
        assert response.headers["access-control-allow-origin"] == "*"
        assert response.headers["content-type"].startswith("application/json")
        assert "set-cookie" not in response.headers, url
        seen[url] = response.json()
        queue.extend(u.split("#")[0] for u in oparl_urls(seen[url]))
        assert len(seen) < 500, "the crawl does not end"
    return seen


def check_common(obj: dict, top: bool) -> None:
    """What every object must carry, even without jsonschema: the spec's type URI and the
    schema's required fields, absolute ids, date-times with a time zone."""
    name = obj["type"].removeprefix(TYPE)
    schema = json.loads((SCHEMAS / f"{name}.json").read_text())
    missing = [key for key in schema["required"] if key not in obj]
    assert not missing, (name, missing, obj)
    assert obj["id"].startswith(API + "/"), obj["id"]
    for key in ("created", "modified"):
        if top or key in obj:
            assert datetime.fromisoformat(obj[key]).tzinfo is not None, (key, obj)
            assert len(obj[key]) == len("2026-12-15T08:00:00+07:00"), obj[key]
    assert None not in obj.values() and "" not in obj.values(), obj


async def anonymous(new_client):
    return await new_client()


async def test_the_open_data_graph_shows_the_public_meeting_and_nothing_private(
    client, new_client, council
):
    reader = await anonymous(new_client)
    seen = await crawl(reader)
    everything = json.dumps(seen, ensure_ascii=False)
    found = [obj for answer in seen.values() for obj in objects(answer)]
    for url, answer in seen.items():
        if "data" in answer and "pagination" in answer:
            assert answer["links"]["self"].startswith(url.split("?")[0])
            for obj in answer["data"]:
                check_common(obj, top=True)
        else:
            check_common(answer, top=True)
    for obj in found:
        check_common(obj, top=False)
    kinds = {obj["type"].removeprefix(TYPE) for obj in found}
    assert {"System", "Body", "Organization", "Person", "Membership", "Meeting"} <= kinds
    assert {"AgendaItem", "Paper", "File", "Consultation", "LegislativeTerm", "Location"} <= kinds

    meeting = seen[f"{API}/meeting/{council['shown']}"]
    assert meeting["name"] == "Kỳ họp thứ ba HĐND phường"
    assert meeting["start"] == "2026-12-15T08:00:00+07:00"
    items = {i["name"]: i for i in meeting["agendaItem"]}
    assert [i["number"] for i in meeting["agendaItem"]] == ["1", "2", "2.1"]
    budget = items["Dự toán ngân sách năm 2027"]
    assert budget["result"].startswith("Thông qua dự toán 2027: Thông qua.")
    assert "Tán thành 4" in budget["result"] and "Không tán thành 1" in budget["result"]
    assert "Quá 1/2" in budget["result"]
    assert "Không thông qua" in items["Phân bổ dự toán"]["result"]
    assert [f["name"] for f in budget["auxiliaryFile"]] == ["Tờ trình dự toán ngân sách"]
    assert "result" not in items["Khai mạc kỳ họp"]

    papers_seen = {obj["id"] for obj in found if obj["type"] == TYPE + "Paper"}
    assert papers_seen == {f"{API}/paper/{n}" for n in council["open"]}
    for secret in (
        "Phiên họp kín về nhân sự",
        "Tờ trình phiên họp kín",
        "Kỳ họp chuyên đề còn dự thảo",
        "Báo cáo MẬT về nhân sự",
        "Tài liệu bổ sung chưa phát hành",
        "daibieu01",
        "@mat.vn",
        "thuky",
    ):
        assert secret not in everything, secret
    for url in (
        f"/meeting/{council['hidden']}",
        f"/meeting/{council['draft']}",
        f"/agendaitem/{council['hidden_item']}",
        f"/agendaitem/{council['draft_item']}",
        f"/location/{council['hidden']}",
        f"/paper/{council['secret']}",
        f"/file/{council['secret']}",
        f"/consultation/{council['secret']}",
        f"/paper/{council['late']}",
        f"/file/{council['hidden_paper']}",
    ):
        assert f'"{API}{url}"' not in everything, url


async def test_private_and_unknown_things_answer_the_same_404(client, new_client, council):
    reader = await anonymous(new_client)
    unknown = await reader.get("/oparl/v1.1/meeting/999999")
    assert unknown.status_code == 404
    error = unknown.json()
    assert error["type"] == TYPE + "Error" and error["message"]
    for kind, key in (
        ("meeting", "hidden"),
        ("meeting", "draft"),
        ("agendaitem", "hidden_item"),
        ("paper", "secret"),
        ("file", "secret"),
        ("paper", "late"),
        ("paper", "hidden_paper"),
    ):
        response = await reader.get(f"/oparl/v1.1/{kind}/{council[key]}")
        assert response.status_code == 404, (kind, response.text)
        assert response.json()["type"] == TYPE + "Error"
    gone = await reader.get("/oparl/v1.1/paper/999999")
    assert (await reader.get(f"/oparl/v1.1/paper/{council['secret']}")).json()["message"] == (
        gone.json()["message"]
    )
    for path in (
        f"/public/meetings/{council['hidden']}",
        f"/public/meetings/{council['draft']}",
        f"/public/files/{council['secret']}/tai-lieu-{council['secret']}.pdf",
        f"/public/files/{council['late']}/tai-lieu-{council['late']}.pdf",
        f"/public/files/{council['hidden_paper']}/tai-lieu-{council['hidden_paper']}.pdf",
    ):
        assert (await reader.get(path)).status_code == 404, path


async def test_a_public_papers_file_downloads_as_the_stored_pdf(
    client, new_client, council, database
):
    reader = await anonymous(new_client)
    shown = council["open"][0]
    described = (await reader.get(f"/oparl/v1.1/file/{shown}")).json()
    response = await reader.get(described["accessUrl"].removeprefix(BASE))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF") and len(response.content) == described["size"]
    assert "inline" in response.headers["content-disposition"]
    saved = await reader.get(described["downloadUrl"].removeprefix(BASE))
    assert "attachment" in saved.headers["content-disposition"]
    again = await reader.get(
        described["accessUrl"].removeprefix(BASE),
        headers={"If-None-Match": response.headers["etag"]},
    )
    assert again.status_code == 304


async def test_only_the_resolution_of_an_adopted_item_is_public(client, new_client, council):
    _, budget, estimate = council["items"]  # the budget's vote passed, the estimate's failed
    adopted = await paper(client, budget, 1, title="Nghị quyết dự toán", kind="resolution")
    rejected = await paper(
        client, estimate, 2, title="Nghị quyết không thông qua", kind="resolution"
    )
    reader = await anonymous(new_client)
    page = (await reader.get(f"/public/meetings/{council['shown']}")).text
    assert "Nghị quyết dự toán" in page and "Nghị quyết không thông qua" not in page
    assert (await reader.get(f"/oparl/v1.1/file/{adopted['id']}")).status_code == 200
    for path in (f"/oparl/v1.1/file/{rejected['id']}", f"/oparl/v1.1/paper/{rejected['id']}"):
        assert (await reader.get(path)).status_code == 404, path


async def test_a_signed_in_reader_signs_out_from_a_public_page(client, council):
    """The form's own token, as a browser posts it (no X-CSRFToken header)."""
    page = (await client.get(f"/public/meetings/{council['shown']}")).text
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page)
    assert token, "the sign-out form carries a token"
    response = await client.raw.post("/logout", data={"_csrf_token": token.group(1)})
    assert response.status_code in (200, 302, 303), response.text


async def test_lists_are_paged_and_filtered(client, new_client, council):
    reader = await anonymous(new_client)
    body_id = council["body"].id
    whole = (await reader.get(f"/oparl/v1.1/body/{body_id}/people")).json()
    assert whole["pagination"]["totalElements"] == 5 and "next" not in whole["links"]
    names, url, pages = [], f"/oparl/v1.1/body/{body_id}/people?elementsPerPage=2", 0
    while url:
        page = (await reader.get(url.removeprefix(BASE))).json()
        pages += 1
        assert page["pagination"]["elementsPerPage"] == 2 and page["pagination"]["totalPages"] == 3
        names += [p["name"] for p in page["data"]]
        url = page["links"].get("next", "")
    assert pages == 3 and names == [p["name"] for p in whole["data"]]
    assert len(set(names)) == 5
    person = whole["data"][0]
    assert set(person) <= {
        "id",
        "type",
        "body",
        "name",
        "status",
        "membership",
        "created",
        "modified",
    }
    assert person["status"] == ["Đại biểu HĐND"]
    council_org, group_org = (m["organization"] for m in person["membership"])
    assert council_org == f"{API}/organization/{body_id}"
    assert group_org.startswith(f"{API}/organization/{body_id}/group/")

    huge = (await reader.get(f"/oparl/v1.1/body/{body_id}/papers?elementsPerPage=100000")).json()
    assert huge["pagination"]["elementsPerPage"] == 100
    later = (
        await reader.get(
            f"/oparl/v1.1/body/{body_id}/meetings",
            params={"modified_since": "2999-01-01T00:00:00+07:00"},
        )
    ).json()
    assert later["data"] == [] and later["pagination"]["totalElements"] == 0
    earlier = (
        await reader.get(
            f"/oparl/v1.1/body/{body_id}/meetings",
            params={"created_since": "2020-01-01T00:00:00+07:00"},
        )
    ).json()
    assert [m["id"] for m in earlier["data"]] == [f"{API}/meeting/{council['shown']}"]
    assert "created_since=" in earlier["links"]["self"]
    bad = await reader.get(f"/oparl/v1.1/body/{body_id}/meetings?modified_since=yesterday")
    assert bad.status_code == 400 and bad.json()["type"] == TYPE + "Error"
    for query in ("elementsPerPage=abc", "elementsPerPage=0", "page=-1", "page=x"):
        refused = await reader.get(f"/oparl/v1.1/body/{body_id}/meetings?{query}")
        assert refused.status_code == 400, query
        assert (
            refused.json()["type"] == TYPE + "Error"
            and "không phải là số" in refused.json()["message"]
        )
    past_end = await reader.get(f"/oparl/v1.1/body/{body_id}/meetings?page=2")
    assert past_end.status_code == 404


async def test_answers_are_cacheable(client, new_client, council):
    reader = await anonymous(new_client)
    first = await reader.get(f"/oparl/v1.1/meeting/{council['shown']}")
    assert "max-age" in first.headers["cache-control"]
    again = await reader.get(
        f"/oparl/v1.1/meeting/{council['shown']}", headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304 and again.content == b""


async def test_only_the_meetings_secretary_opens_or_closes_it(
    client, new_client, council, accounts, database
):
    delegate = await new_client()
    await delegate.login("daibieu01")
    refused = await delegate.post(f"/meetings/{council['hidden']}/public", data={"public": "on"})
    assert refused.status_code in (403, 404)
    database.expire_all()
    assert database.get(Meeting, council["hidden"]).public is False
    outsider_body = accounts.body("HĐND xã Bên Cạnh")
    accounts.user("thuky2", "secretary", outsider_body)
    other = await new_client()
    await other.login("thuky2")
    refused = await other.post(f"/meetings/{council['hidden']}/public", data={"public": "on"})
    assert refused.status_code in (403, 404)
    database.expire_all()
    assert database.get(Meeting, council["hidden"]).public is False

    odd = await client.post(f"/meetings/{council['shown']}/public", data={"public": "maybe"})
    assert odd.status_code == 400 and "Đánh dấu" in odd.text
    database.expire_all()
    assert database.get(Meeting, council["shown"]).public is True
    closed = await client.post(f"/meetings/{council['shown']}/public", data={})
    assert closed.status_code == 200
    reader = await anonymous(new_client)
    assert (await reader.get(f"/oparl/v1.1/meeting/{council['shown']}")).status_code == 404
    assert (await reader.get("/oparl/v1.1/bodies")).json()["data"] == []
    assert (await reader.get(f"/oparl/v1.1/body/{council['body'].id}")).status_code == 404
    database.rollback()  # a fresh read, past the snapshot of the checks above
    actions = database.exec(
        select(AdminChange.action).where(AdminChange.target.startswith("meeting:"))
    ).all()
    assert "meeting.public" in actions and "meeting.private" in actions


async def test_the_public_page_shows_agenda_papers_and_results_without_signing_in(
    client, new_client, council
):
    reader = await anonymous(new_client)
    page = await reader.get(f"/public/meetings/{council['shown']}", headers={"Accept": "text/html"})
    assert page.status_code == 200
    text = page.text
    for shown in (
        "Kỳ họp thứ ba HĐND phường",
        "Dự toán ngân sách năm 2027",
        "Tờ trình dự toán ngân sách",
        "Thông qua",
        "Không thông qua",
    ):
        assert shown in text, shown
    for hidden in (
        "Báo cáo MẬT về nhân sự",
        "Tài liệu bổ sung chưa phát hành",
        "daibieu",
        "@mat.vn",
    ):
        assert hidden not in text, hidden
    assert (
        page.headers["cache-control"] == "public, max-age=60" and page.headers["vary"] == "Cookie"
    )
    assert "set-cookie" not in page.headers
    mine = await client.get(f"/public/meetings/{council['shown']}", headers={"Accept": "text/html"})
    assert mine.headers["cache-control"] == "private, no-store"  # the secretary's name is on it
    listing = await reader.get("/public", headers={"Accept": "text/html"})
    assert "Kỳ họp thứ ba HĐND phường" in listing.text
    assert "Phiên họp kín" not in listing.text and "còn dự thảo" not in listing.text


def test_the_vendored_schema_is_oparl_1_1():
    for name in (
        "System",
        "Body",
        "Organization",
        "Person",
        "Meeting",
        "AgendaItem",
        "Paper",
        "File",
    ):
        schema = json.loads((SCHEMAS / f"{name}.json").read_text())
        assert schema["properties"]["type"]["pattern"].endswith(f"1\\.1\\/{name}$")
    assert (SCHEMAS / "LICENSE").read_text().startswith("Attribution-ShareAlike 4.0")


async def test_every_object_validates_against_the_oparl_schema(client, new_client, council):
    jsonschema = pytest.importorskip(
        "jsonschema", reason="jsonschema is not installed: the OParl schema check cannot run"
    )
    reader = await anonymous(new_client)
    seen = await crawl(reader)
    checker = jsonschema.FormatChecker()

    @checker.checks("url")
    def is_url(value: object) -> bool:
        return isinstance(value, str) and value.startswith(("http://", "https://"))

    @checker.checks("date-time", raises=ValueError)
    def is_date_time(value: object) -> bool:
        return not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is not None

    @checker.checks("date", raises=ValueError)
    def is_date(value: object) -> bool:
        return not isinstance(value, str) or bool(datetime.strptime(value, "%Y-%m-%d"))

    validated = 0
    for answer in seen.values():
        for obj in objects(answer):
            name = obj["type"].removeprefix(TYPE)
            schema = json.loads((SCHEMAS / f"{name}.json").read_text())
            jsonschema.Draft7Validator(schema, format_checker=checker).validate(obj)
            validated += 1
    assert validated > 20


async def test_the_public_list_is_paged(client, new_client, council, monkeypatch):
    from server import public

    await client.post(f"/meetings/{council['hidden']}/public", data={"public": "on"})
    monkeypatch.setattr(public, "PAGE_SIZE", 1)
    reader = await anonymous(new_client)
    first = (await reader.get("/public", headers={"Accept": "text/html"})).text
    second = (await reader.get("/public?page=2", headers={"Accept": "text/html"})).text
    assert "Trang 1/2" in first and 'href="/public?page=2"' in first
    titles = ("Kỳ họp thứ ba HĐND phường", "Phiên họp kín về nhân sự")
    assert [t in first for t in titles].count(True) == 1
    assert [t in second for t in titles].count(True) == 1
    assert {t for t in titles if t in first} != {t for t in titles if t in second}
    assert "còn dự thảo" not in first + second
