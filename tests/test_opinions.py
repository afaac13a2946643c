"""Opinions on drafts (issue 19, item 3): before a deadline, participants comment on a
passage of a page of a paper; the drafting body sees them by paper and page and takes them
away as a report (PDF and Word) saying who said what where. A refusal keeps nothing."""

from __future__ import annotations

import asyncio
import io
import shutil
import subprocess
import zipfile
from datetime import timedelta
from pathlib import Path

import pymupdf
import pytest
from sqlmodel import select

from server.models import Consultation, Opinion, Reminder, utcnow
from tests.conftest import Client
from tests.test_confidential import confidential_pdf
from tests.test_documents import budget_paper, upload

# on page 1 of the budget paper, across a line break; and on page 2
ON_PAGE_1 = "Dự toán được xây dựng trên cơ sở Luật Ngân sách nhà nước và các văn bản hướng dẫn"
ON_PAGE_2 = "Chi thường xuyên được phân bổ theo định mức cho từng đơn vị"


@pytest.fixture
async def draft(client: Client, accounts, new_client):
    """A meeting with a budget paper open for opinions for two days and a confidential paper;
    the secretary on `client`, delegates, an observer and an outsider on their own tablets."""
    body = accounts.body()
    accounts.user("thuky", "secretary", body, full_name="Trần Thị Thu")
    await client.login("thuky")
    created = await client.post(
        "/api/meetings", json={"title": "Kỳ họp thứ năm", "starts_at": "2026-12-15T08:00:00+07:00"}
    )
    mid = created.json()["id"]
    item = (await client.post(f"/api/meetings/{mid}/items", json={"title": "Ngân sách"})).json()
    paper = await upload(client, item["id"], budget_paper(), title="Tờ trình dự toán 2027")
    secret = await upload(
        client, item["id"], confidential_pdf(), name="nhan-su.pdf", confidential="true"
    )
    assert paper.status_code == 201 and secret.status_code == 201, paper.text + secret.text
    tablets = {}
    people = (
        ("daibieu01", "delegate", "Nguyễn Văn An", "Đại biểu HĐND phường"),
        ("daibieu02", "delegate", "Lê Thị Bình", ""),
        ("khach", "observer", "Phạm Khách", ""),
    )
    for username, role, name, title in people:
        accounts.user(username, full_name=name, title=title)
        joined = await client.post(
            f"/api/meetings/{mid}/participants", json={"username": username, "role": role}
        )
        assert joined.status_code == 201, joined.text
        tablets[username] = await new_client()
        await tablets[username].login(username)
    accounts.user("nguoila")
    tablets["nguoila"] = await new_client()
    await tablets["nguoila"].login("nguoila")
    deadline = (utcnow() + timedelta(days=2)).isoformat()
    for document in (paper.json(), secret.json()):
        opened = await client.request(
            "PUT",
            f"/api/documents/{document['id']}/consultation",
            json={"deadline": deadline, "note": "Xin ý kiến về dự toán"},
        )
        assert opened.status_code == 200, opened.text
        assert opened.json()["open"] is True
    return {
        "meeting": mid,
        "paper": paper.json()["id"],
        "secret": secret.json()["id"],
        "tablets": tablets,
    }


async def comment(tablet: Client, document_id: int, **fields):
    body = {"page": 1, "passage": ON_PAGE_1, "text": "Đề nghị nêu rõ căn cứ.", **fields}
    return await tablet.post(f"/api/documents/{document_id}/opinions", json=body)


def kept(database) -> list[Opinion]:
    database.rollback()  # end the read snapshot: see what the server committed since
    return list(database.exec(select(Opinion)).all())


async def test_delegate_comments_on_a_passage_and_finds_it_among_their_own(draft, database):
    tablet = draft["tablets"]["daibieu01"]
    given = await comment(tablet, draft["paper"], passage=" \n".join(ON_PAGE_1.split()))
    assert given.status_code == 201, given.text
    assert given.json()["passage"] == ON_PAGE_1 and given.json()["label"] == "1"
    mine = (await tablet.get(f"/api/meetings/{draft['meeting']}/opinions/mine")).json()
    assert [(o["document_id"], o["page"], o["text"]) for o in mine] == [
        (draft["paper"], 1, "Đề nghị nêu rõ căn cứ.")
    ]
    other = await draft["tablets"]["daibieu02"].get(
        f"/api/meetings/{draft['meeting']}/opinions/mine"
    )
    assert other.json() == []  # nobody else's opinions are shown to a delegate
    listed = (await tablet.get(f"/api/meetings/{draft['meeting']}/consultations")).json()
    paper = next(c for c in listed if c["document_id"] == draft["paper"])
    assert (
        paper["open"] and len(paper["page_keys"]) == 2 and paper["note"] == "Xin ý kiến về dự toán"
    )


async def test_a_page_the_paper_does_not_have_is_refused_and_nothing_kept(draft, database):
    tablet = draft["tablets"]["daibieu01"]
    for page in (3, 0, -1, 10**6):
        refused = await comment(tablet, draft["paper"], page=page, passage="")
        assert refused.status_code == 400, refused.text
        assert refused.json()["code"] == "no_such_page"
    assert refused.json()["message"] == (
        "Dự thảo này chỉ có từ trang 1 đến trang 2, không có trang 1000000."
    )
    assert kept(database) == []


async def test_a_passage_that_is_not_on_the_page_is_refused(draft, database):
    tablet = draft["tablets"]["daibieu01"]
    for page, passage in ((1, ON_PAGE_2), (2, ON_PAGE_1), (1, "Điều này không có trong dự thảo")):
        refused = await comment(tablet, draft["paper"], page=page, passage=passage)
        assert refused.status_code == 400, refused.text
        assert refused.json()["code"] == "passage_not_on_page"
    assert "không có trên trang 1 của dự thảo" in refused.json()["message"]
    too_long = await comment(tablet, draft["paper"], passage="chữ " * 400)
    assert too_long.json()["code"] == "passage_too_long"
    for bad in ({"text": "   "}, {"text": "x" * 5001}, {"position": [[0, 0, 2, 1]]}):
        assert (await comment(tablet, draft["paper"], **bad)).status_code == 400
    assert kept(database) == []
    assert (await comment(tablet, draft["paper"], page=2, passage=ON_PAGE_2)).status_code == 201


async def test_after_the_deadline_nothing_is_kept_and_the_message_says_why(draft, database):
    tablet = draft["tablets"]["daibieu01"]
    given = (await comment(tablet, draft["paper"])).json()
    consultation = database.exec(
        select(Consultation).where(Consultation.document_id == draft["paper"])
    ).one()
    consultation.deadline = utcnow() - timedelta(minutes=1)
    database.add(consultation)
    database.commit()
    late = await comment(tablet, draft["paper"], text="Góp ý muộn")
    assert late.status_code == 409, late.text
    assert late.json()["code"] == "opinions_closed"
    assert late.json()["message"].startswith("Đã hết hạn góp ý dự thảo này (hạn chót ")
    assert "ý kiến của bạn chưa được ghi nhận" in late.json()["message"]
    changed = await tablet.patch(f"/api/opinions/{given['id']}", json={"text": "Sửa muộn"})
    withdrawn = await tablet.delete(f"/api/opinions/{given['id']}")
    assert changed.status_code == withdrawn.status_code == 409
    [row] = kept(database)
    assert row.text == "Đề nghị nêu rõ căn cứ." and not row.withdrawn
    mine = (await tablet.get(f"/api/meetings/{draft['meeting']}/opinions/mine")).json()
    assert mine[0]["open"] is False  # the reader shows it read-only


async def test_a_paper_not_open_for_opinions_takes_none(client, draft, database):
    closed = await client.post(f"/api/documents/{draft['paper']}/consultation/close")
    assert closed.status_code == 201 and closed.json()["open"] is False, closed.text
    refused = await comment(draft["tablets"]["daibieu01"], draft["paper"])
    assert refused.status_code == 409 and refused.json()["code"] == "opinions_closed"
    item = await client.post(f"/api/meetings/{draft['meeting']}/items", json={"title": "Khác"})
    other = await upload(client, item.json()["id"], budget_paper(), title="Chưa lấy ý kiến")
    refused = await comment(draft["tablets"]["daibieu01"], other.json()["id"])
    assert refused.status_code == 409 and refused.json()["code"] == "not_consulted"
    assert refused.json()["message"] == "Tài liệu này không được lấy ý kiến góp ý."
    assert kept(database) == []


async def test_someone_outside_the_meeting_cannot_comment_or_read(draft, database):
    outsider = draft["tablets"]["nguoila"]
    refused = await comment(outsider, draft["paper"])
    assert refused.status_code == 404, refused.text
    listed = await outsider.get(f"/api/meetings/{draft['meeting']}/consultations")
    assert listed.status_code == 404
    assert kept(database) == []


async def test_an_observer_cannot_comment_on_a_confidential_paper_nor_see_it(draft, database):
    observer = draft["tablets"]["khach"]
    refused = await comment(observer, draft["secret"], passage="")
    assert refused.status_code == 404, refused.text
    listed = (await observer.get(f"/api/meetings/{draft['meeting']}/consultations")).json()
    assert [c["document_id"] for c in listed] == [draft["paper"]]
    assert kept(database) == []
    # the public paper is theirs to comment on, as a guest of the council
    assert (await comment(observer, draft["paper"])).status_code == 201
    delegate = await comment(draft["tablets"]["daibieu01"], draft["secret"], passage="")
    assert delegate.status_code == 201, delegate.text


async def test_no_one_changes_or_withdraws_someone_elses_opinion(draft, database):
    given = (await comment(draft["tablets"]["daibieu01"], draft["paper"])).json()
    other = draft["tablets"]["daibieu02"]
    changed = await other.patch(f"/api/opinions/{given['id']}", json={"text": "Của tôi"})
    assert changed.status_code == 403 and changed.json()["code"] == "not_your_opinion"
    assert changed.json()["message"] == "Chỉ người góp ý mới được sửa hoặc rút ý kiến của mình."
    assert (await other.delete(f"/api/opinions/{given['id']}")).status_code == 403
    outsider = draft["tablets"]["nguoila"]
    assert (await outsider.delete(f"/api/opinions/{given['id']}")).status_code == 404
    [row] = kept(database)
    assert row.text == "Đề nghị nêu rõ căn cứ." and not row.withdrawn


async def test_the_author_changes_and_withdraws_before_the_deadline(client, draft, database):
    tablet = draft["tablets"]["daibieu01"]
    first = (await comment(tablet, draft["paper"])).json()
    second = (await comment(tablet, draft["paper"], page=2, passage=ON_PAGE_2)).json()
    changed = await tablet.patch(f"/api/opinions/{first['id']}", json={"text": "Bổ sung số liệu"})
    assert changed.status_code == 200 and changed.json()["edited"] is True, changed.text
    assert changed.json()["label"] == "1" and changed.json()["text"] == "Bổ sung số liệu"
    assert (
        await tablet.patch(f"/api/opinions/{first['id']}", json={"text": ""})
    ).status_code == 400
    assert (await tablet.delete(f"/api/opinions/{second['id']}")).status_code == 204
    assert (await tablet.delete(f"/api/opinions/{second['id']}")).status_code == 404
    mine = (await tablet.get(f"/api/meetings/{draft['meeting']}/opinions/mine")).json()
    assert [(o["page"], o["text"]) for o in mine] == [(1, "Bổ sung số liệu")]
    gathered = (await client.get(f"/api/meetings/{draft['meeting']}/opinions")).json()
    paper = next(g for g in gathered if g["document_id"] == draft["paper"])
    assert paper["count"] == 1  # a withdrawn opinion is not gathered


async def test_only_the_secretary_opens_a_paper_and_the_deadline_must_make_sense(
    client, draft, database
):
    delegate = draft["tablets"]["daibieu01"]
    url = f"/api/documents/{draft['paper']}/consultation"
    later = (utcnow() + timedelta(days=1)).isoformat()
    assert (await delegate.request("PUT", url, json={"deadline": later})).status_code == 403
    assert (await delegate.post(f"{url}/close")).status_code == 403
    for deadline, code in (
        ("2020-01-01T17:00", "deadline_past"),
        ("ngày mai", "bad_deadline"),
        ((utcnow() + timedelta(days=400)).isoformat(), "deadline_far"),
    ):
        refused = await client.request("PUT", url, json={"deadline": deadline})
        assert refused.status_code == 400 and refused.json()["code"] == code, refused.text
    assert (
        await client.request("PUT", url, json={"deadline": later, "note": "x" * 1001})
    ).status_code == 400
    row = database.exec(
        select(Consultation).where(Consultation.document_id == draft["paper"])
    ).one()
    database.refresh(row)
    assert row.note == "Xin ý kiến về dự toán"  # nothing changed by the refusals
    # a local time without an offset is the council's
    moved = await client.request("PUT", url, json={"deadline": "2099-12-10T17:00"})
    assert moved.status_code == 400  # more than a year ahead
    local = (utcnow() + timedelta(days=3)).astimezone().strftime("%Y-%m-%dT17:00")
    moved = await client.request("PUT", url, json={"deadline": local})
    assert moved.status_code == 200 and moved.json()["deadline_time"] == "17:00", moved.text


async def opinions_given(draft) -> None:
    """Three people on two pages, given out of page order."""
    t = draft["tablets"]
    for tablet, page, passage, text in (
        (t["daibieu02"], 2, ON_PAGE_2, "Đề nghị tăng định mức chi thường xuyên."),
        (t["daibieu01"], 1, ON_PAGE_1, "Đề nghị nêu rõ văn bản hướng dẫn nào."),
        (t["khach"], 1, "", "Khách mời: dự thảo rõ ràng."),
    ):
        given = await comment(tablet, draft["paper"], page=page, passage=passage, text=text)
        assert given.status_code == 201, given.text


async def test_the_drafting_body_sees_them_by_paper_then_page(client, draft, database):
    await opinions_given(draft)
    gathered = (await client.get(f"/api/meetings/{draft['meeting']}/opinions")).json()
    paper = next(g for g in gathered if g["document_id"] == draft["paper"])
    assert [p["label"] for p in paper["pages"]] == ["1", "2"]
    first = paper["pages"][0]["opinions"]
    assert [(o["author"], o["author_title"]) for o in first] == [
        ("Nguyễn Văn An", "Đại biểu HĐND phường"),
        ("Phạm Khách", "Khách mời"),
    ]
    assert paper["pages"][1]["opinions"][0]["author"] == "Lê Thị Bình"
    assert paper["pages"][1]["opinions"][0]["author_title"] == "Đại biểu"
    assert " ngày " in first[0]["when"]
    refused = await draft["tablets"]["daibieu01"].get(f"/api/meetings/{draft['meeting']}/opinions")
    assert refused.status_code == 403
    page = await client.get(f"/meetings/{draft['meeting']}/opinions")
    assert page.status_code == 200 and "Đề nghị tăng định mức chi thường xuyên." in page.text
    assert page.text.index("Trang 1") < page.text.index("Trang 2")
    delegate_page = await draft["tablets"]["daibieu01"].get(
        f"/meetings/{draft['meeting']}/opinions"
    )
    assert delegate_page.status_code == 403


async def test_the_report_pdf_says_who_said_what_where_in_page_order(client, draft, tmp_path):
    await opinions_given(draft)
    response = await client.get(f"/api/documents/{draft['paper']}/opinions.pdf")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    with pymupdf.open(stream=response.content) as pdf:
        text = " ".join(" ".join(page.get_text() for page in pdf).split())
    assert "BẢNG TỔNG HỢP Ý KIẾN GÓP Ý" in text and "Tờ trình dự toán 2027" in text
    assert "HỘI ĐỒNG NHÂN DÂN" in text and "Độc lập - Tự do - Hạnh phúc" in text
    order = [
        "Đề nghị nêu rõ văn bản hướng dẫn nào.",
        "Nguyễn Văn An – Đại biểu HĐND phường",
        "Khách mời: dự thảo rõ ràng.",
        "Phạm Khách – Khách mời",
        "Đề nghị tăng định mức chi thường xuyên.",
        "Lê Thị Bình – Đại biểu",
        "Trần Thị Thu",
    ]
    found = [text.find(words) for words in order]
    assert -1 not in found and found == sorted(found), (found, text)
    assert "Tổng hợp 3 ý kiến của 3 người góp ý" in text
    assert (
        await draft["tablets"]["daibieu01"].get(f"/api/documents/{draft['paper']}/opinions.pdf")
    ).status_code == 403


async def test_the_report_docx_opens_and_lists_them(client, draft, tmp_path: Path):
    await opinions_given(draft)
    response = await client.get(f"/api/documents/{draft['paper']}/opinions.docx")
    assert response.status_code == 200, response.text
    with zipfile.ZipFile(io.BytesIO(response.content)) as docx:
        assert docx.testzip() is None
        xml = docx.read("word/document.xml").decode()
    for words in ("BẢNG TỔNG HỢP Ý KIẾN GÓP Ý", "Nguyễn Văn An – Đại biểu HĐND phường"):
        assert words in xml
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None:
        pytest.skip("LibreOffice is not installed")
    source = tmp_path / "gop-y.docx"
    source.write_bytes(response.content)
    await asyncio.to_thread(
        subprocess.run,
        [office, "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(source)],
        check=True,
        capture_output=True,
        timeout=120,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    with pymupdf.open(tmp_path / "gop-y.pdf") as pdf:
        text = " ".join(" ".join(page.get_text() for page in pdf).split())
    found = [
        text.find(words)
        for words in (
            "Đề nghị nêu rõ văn bản hướng dẫn nào.",
            "Khách mời: dự thảo rõ ràng.",
            "Đề nghị tăng định mức chi thường xuyên.",
        )
    ]
    assert -1 not in found and found == sorted(found), text


async def test_a_reminder_is_set_before_the_deadline_and_dropped_when_closed(
    client, draft, database
):
    key = f"opinions:{draft['paper']}"
    reminder = database.exec(select(Reminder).where(Reminder.key == key)).one()
    consultation = database.exec(
        select(Consultation).where(Consultation.document_id == draft["paper"])
    ).one()
    day_before = consultation.deadline - timedelta(days=1)  # or halfway, a moment after
    assert abs(reminder.due_at - day_before) < timedelta(seconds=30)
    assert reminder.params["task"] == "opinion" and reminder.kind == "deadline.near"
    users = set(reminder.user_ids)
    assert len(users) == 3  # two delegates and the observer; not the secretary who opened it
    secret = database.exec(
        select(Reminder).where(Reminder.key == f"opinions:{draft['secret']}")
    ).one()
    assert len(secret.user_ids) == 2  # the observer may not read the confidential paper
    await client.post(f"/api/documents/{draft['paper']}/consultation/close")
    database.rollback()  # end the read snapshot: see what the server committed since
    assert database.exec(select(Reminder).where(Reminder.key == key)).first() is None
