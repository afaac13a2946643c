"""The secretary publishes the agenda book; every version stays readable and is journaled."""

from __future__ import annotations

import asyncio
import uuid

import pymupdf
import pytest
from sqlmodel import select

from server.models import Annotation, Document, DocumentPage, JournalEvent, Meeting
from tests.test_documents import papers, upload


@pytest.fixture
async def agenda(client, accounts):
    """A meeting with papers under two items and a sub-item; the secretary signed in."""
    accounts.user("thuky", "secretary", accounts.body())
    await client.login("thuky")
    created = await client.post(
        "/api/meetings", json={"title": "Kỳ họp thứ ba", "starts_at": "2026-12-15T08:00:00+07:00"}
    )
    mid = created.json()["id"]

    async def item(title, parent=None):
        body = {"title": title, "parent_id": parent}
        return (await client.post(f"/api/meetings/{mid}/items", json=body)).json()["id"]

    opening = await item("Khai mạc")
    budget = await item("Ngân sách")
    estimate = await item("Dự toán 2027", parent=budget)
    uploads = [(budget, papers()[0]), (estimate, papers()[3]), (estimate, papers()[4])]
    titles = []
    for item_id, paper in uploads:
        response = await upload(client, item_id, paper.pdf, title=paper.title)
        assert response.status_code == 201, response.text
        titles.append(paper.title)
    return {"id": mid, "titles": titles, "opening": opening}


async def finished(client, meeting_id) -> dict:
    """Polls the build like the editor does, until it is done or failed."""
    for _ in range(300):
        status = (await client.get(f"/api/meetings/{meeting_id}/publish")).json()
        if status["state"] != "running":
            return status
        await asyncio.sleep(0.1)
    raise AssertionError("the book was not built in 30 s")


async def publish(client, meeting_id):
    started = await client.post(f"/api/meetings/{meeting_id}/publish")
    assert started.status_code == 202, started.text
    return await finished(client, meeting_id)


async def test_publishing_builds_a_book_with_contents_bookmarks_and_stamps(
    client, agenda, settings, database
):
    status = await publish(client, agenda["id"])
    assert status["state"] == "done", status
    assert status["message"] == "Đã phát hành phiên bản 1."
    [book] = (await client.get(f"/api/meetings/{agenda['id']}/books")).json()
    assert book["version"] == 1
    info = (await client.get(f"/api/documents/{book['document_id']}")).json()
    blob = settings.blobs_dir / book["sha256"][:2] / f"{book['sha256']}.pdf"
    with pymupdf.open(blob) as pdf:
        assert pdf.page_count == info["page_count"] == book["page_count"]
        toc = pdf.get_toc()
        text = [page.get_text() for page in pdf]
    bookmarked = [title for _, title, _ in toc]
    for title in agenda["titles"]:
        assert title in bookmarked
    assert any(level == 3 for level, _, _ in toc)  # a document under a sub-item
    content_pages = sum(1 for t in text if "Trang" in t and "/" in t)
    assert content_pages >= book["page_count"] - 3
    assert all("Tài liệu kỳ họp" in t for t in text[1:])
    assert "MỤC LỤC" in "".join(text[1:3])
    entries = {e["title"]: e for e in book["entries"]}
    assert entries[agenda["titles"][0]]["kind"] == "document"
    event = database.exec(select(JournalEvent).where(JournalEvent.type == "agenda.published")).one()
    assert event.payload["version"] == 1 and event.payload["document_id"] == book["document_id"]
    assert database.get(Meeting, agenda["id"]).status == "published"


async def test_publishing_again_makes_a_new_version_and_the_old_stays_readable(client, agenda):
    await publish(client, agenda["id"])
    await upload(client, agenda["opening"], papers()[5].pdf, title="Chương trình kỳ họp")
    second = await publish(client, agenda["id"])
    assert second["state"] == "done" and second["version"] == 2
    versions = (await client.get(f"/api/meetings/{agenda['id']}/books")).json()
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[0]["page_count"] > versions[1]["page_count"]
    old = await client.get(f"/api/documents/{versions[1]['document_id']}/pages/1?w=320")
    assert old.status_code == 200


async def test_publishing_without_documents_says_what_is_missing(client, accounts):
    accounts.user("thuky", "secretary", accounts.body())
    await client.login("thuky")
    created = await client.post(
        "/api/meetings", json={"title": "Trống", "starts_at": "2026-12-15T08:00:00+07:00"}
    )
    status = await publish(client, created.json()["id"])
    assert status["state"] == "failed"
    assert status["message"] == "Hãy đính kèm ít nhất một tài liệu trước khi phát hành."


async def test_a_broken_blob_fails_the_build_and_names_the_document(client, agenda, settings):
    for blob in settings.blobs_dir.rglob("*.pdf"):
        blob.write_bytes(b"%PDF-1.7 broken")
        break
    status = await publish(client, agenda["id"])
    assert status["state"] == "failed"
    assert any(title in status["message"] for title in agenda["titles"])
    assert (await client.get(f"/api/meetings/{agenda['id']}/books")).json() == []


async def test_a_delegate_cannot_publish(client, agenda, accounts, new_client):
    accounts.user("daibieu01")
    await client.post(
        f"/api/meetings/{agenda['id']}/participants",
        json={"username": "daibieu01", "role": "delegate"},
    )
    delegate = await new_client()
    await delegate.login("daibieu01")
    assert (await delegate.post(f"/api/meetings/{agenda['id']}/publish")).status_code == 403


async def test_the_editor_shows_progress_then_the_result(client, agenda):
    fragment = await client.post(
        f"/meetings/{agenda['id']}/publish", headers={"HX-Request": "true"}
    )
    assert fragment.status_code in (200, 201)
    assert 'id="publish-status"' in fragment.text
    await finished(client, agenda["id"])
    done = await client.get(f"/meetings/{agenda['id']}/publish", headers={"HX-Request": "true"})
    assert "Đã phát hành phiên bản 1." in done.text and "every 1s" not in done.text


async def test_book_pages_share_content_keys_with_the_papers_they_show(client, agenda, database):
    await publish(client, agenda["id"])
    [book] = (await client.get(f"/api/meetings/{agenda['id']}/books")).json()
    pages = database.exec(select(DocumentPage)).all()
    paper_keys = {p.content_key for p in pages if p.document_id != book["document_id"]}
    book_keys = [p.content_key for p in pages if p.document_id == book["document_id"]]
    assert book_keys[0] == ""  # the cover shows no paper
    shown = [key for key in book_keys if key]
    assert set(shown) == paper_keys and len(shown) == len(paper_keys)


async def test_marks_on_the_book_follow_their_page_or_are_set_aside(
    client, agenda, database, accounts
):
    await publish(client, agenda["id"])
    [first] = (await client.get(f"/api/meetings/{agenda['id']}/books")).json()
    pages = database.exec(
        select(DocumentPage)
        .where(DocumentPage.document_id == first["document_id"], DocumentPage.content_key != "")
        .order_by(DocumentPage.page)
    ).all()
    owner = accounts.user("daibieu01")
    kept_page, lost_page = pages[0], pages[-1]
    marks = [
        Annotation(
            id=uuid.uuid4(),
            owner_id=owner.id,
            document_id=first["document_id"],
            page=p.page,
            kind="note",
            data={"x": 0.5, "y": 0.5, "text": "x"},
            content_key=p.content_key,
        )
        for p in (kept_page, lost_page)
    ]
    database.add_all(marks)
    database.commit()
    last_paper = database.exec(
        select(Document).where(Document.kind == "paper").order_by(Document.id.desc())
    ).first()
    await client.delete(f"/api/items/{last_paper.item_id}")  # its pages leave the next book
    await upload(client, agenda["opening"], papers()[5].pdf, title="Chương trình")  # pages shift
    assert (await publish(client, agenda["id"]))["state"] == "done"
    second = (await client.get(f"/api/meetings/{agenda['id']}/books")).json()[0]
    database.rollback()  # leave the old read snapshot behind
    database.expire_all()
    moved, aside = (database.get(Annotation, m.id) for m in marks)
    assert moved.document_id == second["document_id"] and not moved.set_aside
    new_page = database.exec(
        select(DocumentPage).where(
            DocumentPage.document_id == second["document_id"], DocumentPage.page == moved.page
        )
    ).one()
    assert new_page.content_key == kept_page.content_key and moved.page != kept_page.page
    assert aside.set_aside and not aside.deleted and aside.document_id == first["document_id"]
