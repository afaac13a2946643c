"""After the session the secretary finishes the record in the browser: a summary and a
conclusion per agenda item beside the journal's locked facts, "Chốt biên bản" freezes a
version that never changes again, Word copies for finishing touches, and a conclusion notice
(thông báo kết luận) made from the conclusions."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import subprocess
import zipfile
from dataclasses import replace
from pathlib import Path

import httpx
import pymupdf
import pytest
from litestar.testing import AsyncTestClient
from sqlmodel import Session, select

from server import db
from server.app import create_app
from server.blobs import BlobStore
from server.models import JournalEvent, MinutesDraft, MinutesNote, RecordVersion
from tests.conftest import Accounts, Client, have, need, throwaway_postgres

ITEMS = (
    "Báo cáo tình hình kinh tế - xã hội năm 2026",
    "Dự toán thu, chi ngân sách phường năm 2027",
)
SUMMARY = "Các đại biểu thống nhất với báo cáo; đề nghị làm rõ nguồn thu từ đất."
CONCLUSION = "Thông qua báo cáo; giao Ủy ban nhân dân phường bổ sung số liệu thu từ đất."
BUDGET_CONCLUSION = "Thống nhất dự toán; Ủy ban nhân dân phường hoàn thiện hồ sơ trình ký."


def canonical_sha256(content: dict) -> str:
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def pdf_text(data: bytes) -> str:
    with pymupdf.open(stream=data) as pdf:
        return " ".join(" ".join(page.get_text() for page in pdf).split())


def docx_text(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as docx:
        assert docx.testzip() is None
        xml = docx.read("word/document.xml").decode("utf-8")
    return xml


def fresh(database, query):  # type: ignore[no-untyped-def]
    """Rows as they are now: end the test session's read snapshot first."""
    database.rollback()
    return database.exec(query).all()


@pytest.fixture
async def council(client: Client, accounts, database, new_client):
    """A ward council's session with two agenda items, a chair and a delegate; the
    secretary signed in on `client`, the delegate on a tablet of their own."""
    return await make_council(client, accounts, database, new_client)


@pytest.fixture
async def council_on_postgres(settings):
    """The same session on a throwaway PostgreSQL database, where writers run at once."""
    with throwaway_postgres("phonghop_record") as url:
        db.upgrade(url)
        settings = replace(settings, database_url=url)
        engine = db.make_sync_engine(url)
        with Session(engine, expire_on_commit=False) as database:
            accounts = Accounts(database, settings)
            app = create_app(settings)
            async with AsyncTestClient(app=app, base_url="http://testserver.local") as raw:
                client = Client(raw)
                others: list[httpx.AsyncClient] = []

                async def new_client() -> Client:
                    transport = httpx.ASGITransport(app=app)
                    others.append(httpx.AsyncClient(transport=transport, base_url=raw.base_url))
                    return Client(others[-1])

                yield {**await make_council(client, accounts, database, new_client), "db": database}
                for other in others:
                    await other.aclose()
            accounts.passwords.close()
        engine.dispose()


async def make_council(client: Client, accounts, database, new_client) -> dict:  # type: ignore[no-untyped-def]
    body = accounts.body("Hội đồng nhân dân phường Thử Nghiệm")
    body.kind, body.place = "hdnd", "Hà Nội"
    database.add(body)
    database.commit()
    accounts.user("thuky", "secretary", body, full_name="Nguyễn Thị Hồng")
    accounts.user("chutoa", full_name="Trần Văn Bình", title="Chủ tịch HĐND phường")
    accounts.user("daibieu01", full_name="Lê Minh Cường")
    await client.login("thuky")
    created = await client.post(
        "/api/meetings",
        json={
            "title": "Kỳ họp thứ ba, HĐND phường Thử Nghiệm khóa I",
            "starts_at": "2026-12-15T08:00:00+07:00",
            "place": "Hội trường Ủy ban nhân dân phường",
        },
    )
    mid = created.json()["id"]
    items = []
    for title in ITEMS:
        added = await client.post(f"/api/meetings/{mid}/items", json={"title": title})
        items.append(added.json()["id"])
    for username, role in (("chutoa", "chair"), ("daibieu01", "delegate")):
        joined = await client.post(
            f"/api/meetings/{mid}/participants", json={"username": username, "role": role}
        )
        assert joined.status_code == 201, joined.text
    delegate = await new_client()
    await delegate.login("daibieu01")
    return {
        "id": mid,
        "items": items,
        "secretary": client,
        "delegate": delegate,
        "new_client": new_client,
    }


async def run_session(client: Client, mid: int, end: bool = True) -> None:
    assert (await client.post(f"/api/meetings/{mid}/session/start")).status_code == 200
    if end:
        assert (await client.post(f"/api/meetings/{mid}/session/end")).status_code == 200


async def write(client: Client, mid: int, **text):  # type: ignore[no-untyped-def]
    return await client.patch(f"/api/meetings/{mid}/minutes/text", json=text)


async def conclude(council: dict, summary: str = SUMMARY, conclusion: str = CONCLUSION) -> None:
    first = {"item_id": council["items"][0], "summary": summary, "conclusion": conclusion}
    saved = await write(council["secretary"], council["id"], items=[first])
    assert saved.status_code == 200, saved.text


async def freeze(client: Client, mid: int, kind: str = "minutes"):  # type: ignore[no-untyped-def]
    return await client.post(f"/api/meetings/{mid}/{kind}/versions")


def blob_files(settings) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    root = settings.blobs_dir
    return {str(p): p.read_bytes() for p in root.rglob("*") if p.is_file()} if root.exists() else {}


# ---------------------------------------------------------------------------
# Bad input first: refused with a clear error, and nothing changed


async def test_a_delegate_may_neither_read_nor_write_the_record(council):
    mid, delegate = council["id"], council["delegate"]
    for method, url, body in (
        ("GET", f"/api/meetings/{mid}/minutes", None),
        ("PATCH", f"/api/meetings/{mid}/minutes/text", {"opening": "Xin chào"}),
        ("POST", f"/api/meetings/{mid}/minutes/versions", None),
        ("GET", f"/api/meetings/{mid}/minutes.docx", None),
        ("GET", f"/api/meetings/{mid}/notice.pdf", None),
        ("POST", f"/api/meetings/{mid}/notice/versions", None),
        ("GET", f"/meetings/{mid}/minutes", None),
    ):
        response = await delegate.request(method, url, json=body)
        assert response.status_code == 403, (method, url, response.text)
    assert (await council["secretary"].get(f"/api/meetings/{mid}/minutes")).json()["text"][
        "opening"
    ] == ""
    chair = await council["new_client"]()
    await chair.login("chutoa")  # the chair presides: the record is theirs too
    assert (await chair.get(f"/api/meetings/{mid}/minutes")).status_code == 200


async def test_an_item_of_another_meeting_is_refused_and_nothing_is_saved(council, database):
    client, mid = council["secretary"], council["id"]
    other = await client.post(
        "/api/meetings", json={"title": "Kỳ họp khác", "starts_at": "2026-12-20T08:00:00+07:00"}
    )
    foreign = await client.post(f"/api/meetings/{other.json()['id']}/items", json={"title": "X"})
    response = await write(
        client,
        mid,
        opening="Khai mạc",
        items=[
            {"item_id": council["items"][0], "conclusion": CONCLUSION},
            {"item_id": foreign.json()["id"], "conclusion": "Lạc chỗ"},
        ],
    )
    assert response.status_code == 400 and response.json()["code"] == "bad_item"
    assert "chương trình" in response.json()["message"]
    assert fresh(database, select(MinutesNote)) == []
    assert fresh(database, select(MinutesDraft)) == []


async def test_text_past_its_bounds_is_refused_with_the_field_named(council, database):
    client, mid = council["secretary"], council["id"]
    too_long = await write(client, mid, opening="a" * 20_001)
    assert too_long.status_code == 400 and too_long.json()["code"] == "too_long"
    assert "20000" in too_long.json()["message"].replace(" ", "").replace(".", "")
    summary = await write(
        client, mid, items=[{"item_id": council["items"][0], "summary": "b" * 20_001}]
    )
    assert summary.status_code == 400 and summary.json()["code"] == "too_long"
    number = await write(client, mid, number="1" * 65)
    assert number.status_code == 400 and number.json()["code"] == "too_long"
    not_text = await write(client, mid, other=12)
    assert not_text.status_code == 400
    assert fresh(database, select(MinutesDraft)) == []
    assert fresh(database, select(MinutesNote)) == []


async def test_freezing_before_the_session_ends_is_refused_and_nothing_is_kept(
    council, database, settings
):
    client, mid = council["secretary"], council["id"]
    await conclude(council)
    before = blob_files(settings)
    never_started = await freeze(client, mid)
    assert never_started.status_code == 409 and never_started.json()["code"] == "meeting_not_ended"
    await run_session(client, mid, end=False)
    live = await freeze(client, mid)
    assert live.status_code == 409 and live.json()["code"] == "meeting_not_ended"
    notice = await freeze(client, mid, "notice")
    assert notice.status_code == 409 and notice.json()["code"] == "meeting_not_ended"
    assert fresh(database, select(RecordVersion)) == []
    assert blob_files(settings) == before
    types = [e.type for e in fresh(database, select(JournalEvent))]
    assert "minutes.frozen" not in types and "notice.frozen" not in types


async def test_a_notice_needs_a_conclusion(council, database):
    client, mid = council["secretary"], council["id"]
    await run_session(client, mid)
    await write(client, mid, items=[{"item_id": council["items"][0], "summary": SUMMARY}])
    for response in (
        await client.get(f"/api/meetings/{mid}/notice.pdf"),
        await client.get(f"/api/meetings/{mid}/notice.docx"),
        await freeze(client, mid, "notice"),
    ):
        assert response.status_code == 409 and response.json()["code"] == "no_conclusions"
        assert "kết luận" in response.json()["message"]
    assert fresh(database, select(RecordVersion)) == []


async def test_a_frozen_version_never_changes(council, database, settings):
    client, mid = council["secretary"], council["id"]
    await run_session(client, mid)
    await conclude(council)
    assert (await freeze(client, mid)).status_code == 201
    [row] = fresh(database, select(RecordVersion))
    kept = (row.content, row.sha256, row.pdf_sha256, row.journal_seq, row.frozen_at)
    blob = BlobStore(settings.blobs_dir).get(row.pdf_sha256)
    for method in ("PUT", "PATCH", "DELETE"):
        for url in (
            f"/api/meetings/{mid}/minutes/versions/1",
            f"/api/meetings/{mid}/minutes/versions/1.pdf",
            f"/api/meetings/{mid}/minutes/versions/1.docx",
        ):
            response = await client.request(method, url, json={"content": {"records": []}})
            assert response.status_code == 409, (method, url, response.text)
            assert response.json()["code"] == "version_frozen"
            assert "phiên bản mới" in response.json()["message"]
    missing = await client.request("PUT", f"/api/meetings/{mid}/minutes/versions/9", json={})
    assert missing.status_code == 404
    [after] = fresh(database, select(RecordVersion))
    assert (after.content, after.sha256, after.pdf_sha256, after.journal_seq) == kept[:4]
    assert after.frozen_at == kept[4]
    assert BlobStore(settings.blobs_dir).get(row.pdf_sha256) == blob


# ---------------------------------------------------------------------------
# The secretary's text, the draft and its exports


async def test_the_secretary_s_text_is_kept_and_shown_beside_the_facts(council):
    client, mid = council["secretary"], council["id"]
    await run_session(client, mid, end=False)
    saved = await write(
        client,
        mid,
        number="12/BB-HĐND",
        opening="Chủ tọa khai mạc kỳ họp.",
        recipients="Thường trực HĐND phường;\nLưu: VT.",
        items=[{"item_id": council["items"][0], "summary": SUMMARY}],
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["saved_at"]
    # a second save of one field keeps the others
    await write(client, mid, items=[{"item_id": council["items"][0], "conclusion": CONCLUSION}])
    draft = (await client.get(f"/api/meetings/{mid}/minutes")).json()
    assert draft["text"]["number"] == "12/BB-HĐND"
    assert draft["text"]["opening"] == "Chủ tọa khai mạc kỳ họp."
    assert draft["text"]["recipients"] == "Thường trực HĐND phường;\nLưu: VT."
    first, second = draft["text"]["items"]
    assert (first["item_id"], first["summary"], first["conclusion"]) == (
        council["items"][0],
        SUMMARY,
        CONCLUSION,
    )
    assert first["title"] == ITEMS[0] and first["number"] == "1"
    assert (second["summary"], second["conclusion"]) == ("", "")
    assert draft["facts"]["meeting"].startswith("Kỳ họp thứ ba")
    assert draft["facts"]["draft"] is True
    assert draft["ended"] is False and draft["versions"] == {"minutes": [], "notice": []}

    pdf = await client.get(f"/api/meetings/{mid}/minutes.pdf")
    assert pdf.status_code == 200
    text = pdf_text(pdf.content)
    for expected in (SUMMARY, CONCLUSION, "12/BB-HĐND", "Chủ tọa khai mạc kỳ họp."):
        assert expected in text, expected


async def test_the_draft_in_word_holds_the_text_and_says_it_is_a_draft(council):
    client, mid = council["secretary"], council["id"]
    await run_session(client, mid, end=False)
    await conclude(council)
    response = await client.get(f"/api/meetings/{mid}/minutes.docx")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    assert ".docx" in response.headers["content-disposition"]
    xml = docx_text(response.content)
    for expected in ("BIÊN BẢN", SUMMARY, CONCLUSION, "DỰ THẢO", "Times New Roman"):
        assert expected in xml or expected in _all_parts(response.content), expected


def _all_parts(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as docx:
        return "".join(docx.read(name).decode("utf-8") for name in docx.namelist())


# ---------------------------------------------------------------------------
# Freezing


async def test_freezing_after_the_end_keeps_version_1_as_it_was_made(council, database):
    client, mid = council["secretary"], council["id"]
    await run_session(client, mid)
    await conclude(council)
    frozen = await freeze(client, mid)
    assert frozen.status_code == 201, frozen.text
    version = frozen.json()
    assert version["version"] == 1 and version["frozen_by"] == "Nguyễn Thị Hồng"
    [row] = fresh(database, select(RecordVersion))
    assert row.kind == "minutes" and row.version == 1
    assert row.sha256 == canonical_sha256(row.content) == version["sha256"]
    assert row.content["draft"] is False and row.content["version"] == 1
    assert CONCLUSION in json.dumps(row.content, ensure_ascii=False)
    events = fresh(database, select(JournalEvent).where(JournalEvent.meeting_id == mid))
    [event] = [e for e in events if e.type == "minutes.frozen"]
    assert event.payload["version"] == 1 and event.payload["sha256"] == row.sha256
    assert row.journal_seq == event.seq - 1  # the journal's head the content was made from

    draft = await client.get(f"/api/meetings/{mid}/minutes/draft.pdf")
    assert draft.status_code == 200 and "DỰ THẢO" in pdf_text(draft.content)  # not frozen
    downloads = [
        (await client.get(f"/api/meetings/{mid}/minutes/versions/1.pdf")).content for _ in range(2)
    ]
    assert downloads[0] == downloads[1]
    assert hashlib.sha256(downloads[0]).hexdigest() == row.pdf_sha256
    text = pdf_text(downloads[0])
    assert CONCLUSION in text and "DỰ THẢO" not in text
    docx = await client.get(f"/api/meetings/{mid}/minutes/versions/1.docx")
    assert CONCLUSION in docx_text(docx.content) and "DỰ THẢO" not in _all_parts(docx.content)
    listed = (await client.get(f"/api/meetings/{mid}/minutes")).json()["versions"]["minutes"]
    assert [(v["version"], v["sha256"], v["journal_seq"]) for v in listed] == [
        (1, row.sha256, row.journal_seq)
    ]
    shown = (await client.get(f"/api/meetings/{mid}/minutes/versions/1")).json()
    assert shown["content"] == row.content and shown["sha256"] == row.sha256


async def test_a_correction_is_a_new_version_and_version_1_stays(council, database):
    client, mid = council["secretary"], council["id"]
    await run_session(client, mid)
    await conclude(council)
    assert (await freeze(client, mid)).status_code == 201
    first_pdf = (await client.get(f"/api/meetings/{mid}/minutes/versions/1.pdf")).content
    corrected = "Thông qua báo cáo có sửa đổi về số liệu thu từ đất."
    await conclude(council, conclusion=corrected)
    again = (await client.get(f"/api/meetings/{mid}/minutes/versions/1.pdf")).content
    assert again == first_pdf and corrected not in pdf_text(again)
    second = await freeze(client, mid)
    assert second.status_code == 201 and second.json()["version"] == 2
    second_pdf = (await client.get(f"/api/meetings/{mid}/minutes/versions/2.pdf")).content
    assert corrected in pdf_text(second_pdf)
    rows = fresh(database, select(RecordVersion).order_by(RecordVersion.version))
    assert [r.version for r in rows] == [1, 2]
    assert CONCLUSION in json.dumps(rows[0].content, ensure_ascii=False)
    assert corrected in json.dumps(rows[1].content, ensure_ascii=False)


async def test_two_freezes_at_once_get_versions_1_and_2(council, database):
    await freeze_at_once(council, database, 2)


@pytest.mark.postgres
async def test_freezes_at_once_on_postgresql_never_share_a_number(council_on_postgres):
    await freeze_at_once(council_on_postgres, council_on_postgres["db"], 4)


async def freeze_at_once(council: dict, database, count: int) -> None:  # type: ignore[no-untyped-def]
    client, mid = council["secretary"], council["id"]
    await run_session(client, mid)
    await conclude(council)
    answers = await asyncio.gather(*(freeze(client, mid) for _ in range(count)))
    assert [a.status_code for a in answers] == [201] * count, [a.text for a in answers]
    assert sorted(a.json()["version"] for a in answers) == list(range(1, count + 1))
    rows = fresh(database, select(RecordVersion))
    assert sorted(r.version for r in rows) == list(range(1, count + 1))
    assert all(r.sha256 == canonical_sha256(r.content) for r in rows)
    events = fresh(database, select(JournalEvent).where(JournalEvent.type == "minutes.frozen"))
    assert sorted(e.payload["version"] for e in events) == list(range(1, count + 1))


# ---------------------------------------------------------------------------
# The conclusion notice


async def test_the_notice_holds_each_conclusion_in_the_council_s_form(council):
    client, mid = council["secretary"], council["id"]
    await run_session(client, mid)
    await conclude(council)
    budget = {"item_id": council["items"][1], "conclusion": BUDGET_CONCLUSION}
    await write(client, mid, items=[budget])
    response = await client.get(f"/api/meetings/{mid}/notice.pdf")
    assert response.status_code == 200, response.text
    text = pdf_text(response.content)
    for expected in (
        "HỘI ĐỒNG NHÂN DÂN",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "/TB-HĐND",
        "THÔNG BÁO",
        "Kết luận của Chủ tọa",
        CONCLUSION,
        BUDGET_CONCLUSION,
        "TM. HỘI ĐỒNG NHÂN DÂN",
        "CHỦ TỊCH",
        "Trần Văn Bình",
        "Nơi nhận",
        "DỰ THẢO",
    ):
        assert expected in text, expected
    assert text.index(CONCLUSION) < text.index(BUDGET_CONCLUSION)
    assert SUMMARY not in text  # the notice carries conclusions, not the discussion
    docx = await client.get(f"/api/meetings/{mid}/notice.docx")
    assert docx.status_code == 200 and BUDGET_CONCLUSION in docx_text(docx.content)


async def test_the_notice_freezes_like_the_minutes_with_numbers_of_its_own(council, database):
    client, mid = council["secretary"], council["id"]
    await run_session(client, mid)
    await conclude(council)
    assert (await freeze(client, mid)).json()["version"] == 1
    notice = await freeze(client, mid, "notice")
    assert notice.status_code == 201 and notice.json()["version"] == 1
    rows = fresh(database, select(RecordVersion).where(RecordVersion.kind == "notice"))
    [row] = rows
    assert row.sha256 == canonical_sha256(row.content)
    pdf = (await client.get(f"/api/meetings/{mid}/notice/versions/1.pdf")).content
    assert hashlib.sha256(pdf).hexdigest() == row.pdf_sha256
    assert CONCLUSION in pdf_text(pdf) and "DỰ THẢO" not in pdf_text(pdf)
    refused = await client.request("DELETE", f"/api/meetings/{mid}/notice/versions/1")
    assert refused.status_code == 409 and refused.json()["code"] == "version_frozen"
    listed = (await client.get(f"/api/meetings/{mid}/minutes")).json()["versions"]
    assert [v["version"] for v in listed["notice"]] == [1]
    alone = (await client.get(f"/api/meetings/{mid}/notice/versions")).json()
    assert alone == listed["notice"]


# ---------------------------------------------------------------------------
# The page and Word


async def test_the_page_shows_the_locked_facts_and_a_box_per_item(council):
    client, mid = council["secretary"], council["id"]
    await run_session(client, mid, end=False)
    await conclude(council)
    page = await client.get(f"/meetings/{mid}/minutes", headers={"Accept": "text/html"})
    assert page.status_code == 200, page.text
    html = page.text
    assert "Từ nhật ký kỳ họp — không sửa được" in html
    for item_id in council["items"]:
        assert f'name="item:{item_id}:summary"' in html
        assert f'name="item:{item_id}:conclusion"' in html
    assert CONCLUSION in html and "Chốt biên bản" in html
    meeting = await client.get(f"/meetings/{mid}", headers={"Accept": "text/html"})
    assert f'href="/meetings/{mid}/minutes"' in meeting.text


async def test_libreoffice_opens_the_word_copy(council, tmp_path: Path):
    need(have("soffice"), "LibreOffice (soffice) is not installed")
    client, mid = council["secretary"], council["id"]
    await run_session(client, mid)
    await conclude(council)
    for name, url in (("bien-ban", "minutes.docx"), ("thong-bao", "notice.docx")):
        (tmp_path / f"{name}.docx").write_bytes(
            (await client.get(f"/api/meetings/{mid}/{url}")).content
        )
    converted = await asyncio.to_thread(
        subprocess.run,
        [
            "soffice",
            f"-env:UserInstallation=file://{tmp_path}/lo",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(tmp_path / "bien-ban.docx"),
            str(tmp_path / "thong-bao.docx"),
        ],
        capture_output=True,
        timeout=120,
    )
    assert converted.returncode == 0, converted.stderr
    minutes = pdf_text((tmp_path / "bien-ban.pdf").read_bytes())
    assert "BIÊN BẢN" in minutes and CONCLUSION in minutes and SUMMARY in minutes
    notice = pdf_text((tmp_path / "thong-bao.pdf").read_bytes())
    assert "THÔNG BÁO" in notice and CONCLUSION in notice and "Trần Văn Bình" in notice


# ---------------------------------------------------------------------------
# In a real browser


@pytest.mark.browser
def test_the_secretary_finishes_the_minutes_on_a_tablet_that_loses_the_wifi(
    browser, live_server, tmp_path: Path
):
    from playwright.sync_api import expect

    from tests.browser import sign_in, tablet

    context = tablet(browser, live_server)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    sign_in(page, "thuky")
    page.click("text=Kỳ họp thứ ba")
    # the page's script is running (a click before it would be lost on a busy machine)
    expect(page.locator("html")).to_have_attribute("data-live", "online")
    page.locator("#session-start").click()
    expect(page.locator("#session-state")).to_have_attribute("data-status", "live")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#session-end").click()
    expect(page.locator("#session-state")).to_have_attribute("data-status", "closed")
    page.get_by_role("link", name="Biên bản", exact=True).click()
    page.wait_for_url("**/minutes")
    expect(page.get_by_text("Từ nhật ký kỳ họp — không sửa được").first).to_be_visible()

    first = page.locator("textarea[name$=':conclusion']").first
    first.fill(CONCLUSION)
    expect(page.locator("#save-state")).to_contain_text("Đã lưu lúc")
    name = first.get_attribute("name")

    # The Wi-Fi drops mid-typing: the text stays on the tablet, and nothing says it is saved.
    context.set_offline(True)
    # and nothing typed now reaches the server, not even a request already on its way
    cut = "**/minutes/text"
    context.route(cut, lambda route: route.abort("internetdisconnected"))
    summary = page.locator("textarea[name$=':summary']").first
    summary.fill(SUMMARY)
    expect(page.locator("#save-state")).to_contain_text("Mất kết nối")
    kept = page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('phonghop:minutes:'))")
    assert len(kept) == 1 and kept[0].endswith(summary.get_attribute("name") or "")
    page.close()  # the tablet is switched off before the network comes back

    context.unroute(cut)
    context.set_offline(False)
    page = context.new_page()
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(live_server.url + "/meetings")
    page.click("text=Kỳ họp thứ ba")
    page.get_by_role("link", name="Biên bản", exact=True).click()
    expect(page.locator("#restored")).to_contain_text("Đã khôi phục và lưu lại 1 ô")
    expect(page.locator("#save-state")).to_contain_text("Đã lưu lúc")
    assert page.locator(f"textarea[name='{name}']").input_value() == CONCLUSION
    assert page.locator("textarea[name$=':summary']").first.input_value() == SUMMARY
    meeting_id = page.url.split("/")[-2]
    saved = page.request.get(f"{live_server.url}/api/meetings/{meeting_id}/minutes").json()
    assert [i["summary"] for i in saved["text"]["items"]][0] == SUMMARY
    page.set_viewport_size({"width": 1024, "height": 768})
    page.screenshot(path=tmp_path / "minutes-1024.png")
    page.set_viewport_size({"width": 800, "height": 1280})
    page.screenshot(path=tmp_path / "minutes-800.png")

    # Chốt biên bản: it asks first, then lists version 1.
    messages: list[str] = []

    def accept(dialog) -> None:  # type: ignore[no-untyped-def]
        messages.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    page.locator("#minutes-versions button.freeze").click()
    expect(page.locator("#minutes-versions tbody tr")).to_have_count(1)
    assert "không bao giờ thay đổi" in messages[0]
    page.locator("#notice-versions").scroll_into_view_if_needed()
    page.screenshot(path=tmp_path / "minutes-frozen-800.png", full_page=True)
    page.reload()
    expect(page.locator("#minutes-versions tbody tr")).to_have_count(1)
    assert page.evaluate("Object.keys(localStorage).length") == 0
    assert problems == []
    context.close()
