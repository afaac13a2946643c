"""A secretary uploads papers; tablets read pages, words and search; copies are traced."""

from __future__ import annotations

import asyncio
import io
from dataclasses import replace
from datetime import date
from functools import cache

import pymupdf
import pytest
from litestar.testing import AsyncTestClient
from PIL import Image
from sqlmodel import select

from agenda.demo_papers import demo_session
from agenda.ingest import office_program
from server.app import create_app
from server.models import Document, DocumentPage, JournalEvent
from tests.conftest import Client, need
from tests.test_ingest import _docx


@cache
def papers() -> list:
    session = demo_session("Hội đồng nhân dân phường Thử Nghiệm", "Hà Nội", date(2026, 12, 15))
    return [paper for item in session for paper in item.papers]


def budget_paper() -> bytes:
    return next(p.pdf for p in papers() if "dự toán thu, chi" in p.title)


@pytest.fixture
async def meeting(client, accounts):
    """A meeting with one agenda item, the secretary signed in on `client`."""
    body = accounts.body()
    accounts.user("thuky", "secretary", body)
    await client.login("thuky")
    created = await client.post(
        "/api/meetings", json={"title": "Kỳ họp", "starts_at": "2026-12-15T08:00:00+07:00"}
    )
    mid = created.json()["id"]
    item = await client.post(f"/api/meetings/{mid}/items", json={"title": "Ngân sách"})
    return {"id": mid, "item": item.json()["id"]}


async def upload(client, item_id, data: bytes, name="to-trinh.pdf", **fields):
    return await client.post(
        f"/api/items/{item_id}/documents",
        files={"file": (name, data, "application/pdf")},
        data=fields,
    )


def kept_files(settings) -> list:
    roots = [settings.blobs_dir, settings.data_dir / "cache"]
    return [p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()]


async def test_secretary_uploads_a_paper_and_it_is_kept_clean(client, meeting, database, settings):
    response = await upload(client, meeting["item"], budget_paper(), title="Tờ trình dự toán")
    assert response.status_code == 201, response.text
    document = response.json()
    assert document["title"] == "Tờ trình dự toán" and document["page_count"] >= 2
    blob = settings.blobs_dir / document["sha256"][:2] / f"{document['sha256']}.pdf"
    assert pymupdf.open(blob).page_count == document["page_count"]
    pages = database.exec(select(DocumentPage).order_by(DocumentPage.page)).all()
    assert [p.page for p in pages] == list(range(1, document["page_count"] + 1))
    assert "ngan sach" in pages[0].folded


BAD_FILES = {
    "random bytes named .pdf": (b"\x00\x01garbage" * 200, "not_pdf"),
    "a web page named .pdf": (b"<!doctype html><html><body>hi</body></html>", "not_pdf"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
async def test_a_file_that_is_not_a_pdf_is_refused_and_nothing_kept(
    client, meeting, database, settings, case
):
    data, code = BAD_FILES[case]
    response = await upload(client, meeting["item"], data)
    assert response.status_code == 422
    assert response.json()["code"] == code
    assert "PDF" in response.json()["message"] and "không" in response.json()["message"].lower()
    assert database.exec(select(Document)).all() == []
    assert kept_files(settings) == []


async def test_a_password_protected_pdf_is_refused(client, meeting, database, settings):
    with pymupdf.open(stream=budget_paper()) as doc:
        locked = doc.tobytes(encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="mk", owner_pw="mk2")
    response = await upload(client, meeting["item"], locked)
    assert response.status_code == 422 and response.json()["code"] == "encrypted"
    assert "mật khẩu" in response.json()["message"]
    assert database.exec(select(Document)).all() == [] and kept_files(settings) == []


async def test_a_truncated_pdf_is_refused(client, meeting, database, settings):
    data = budget_paper()
    response = await upload(client, meeting["item"], data[: len(data) // 2])
    assert response.status_code == 422 and response.json()["code"] == "damaged"
    assert database.exec(select(Document)).all() == [] and kept_files(settings) == []


async def test_an_empty_file_is_refused(client, meeting, database):
    response = await upload(client, meeting["item"], b"")
    assert response.status_code == 422
    assert database.exec(select(Document)).all() == []


async def test_an_upload_over_the_size_limit_is_refused_with_413(settings, database, accounts):
    small = replace(settings, max_upload_mb=1)
    accounts.user("thuky", "secretary", accounts.body())
    async with AsyncTestClient(app=create_app(small), base_url="http://testserver.local") as raw:
        client = Client(raw)
        await client.login("thuky")
        created = await client.post(
            "/api/meetings", json={"title": "K", "starts_at": "2026-12-15T08:00:00+07:00"}
        )
        item = await client.post(f"/api/meetings/{created.json()['id']}/items", json={"title": "A"})
        response = await upload(client, item.json()["id"], b"%PDF-1.7\n" + b"0" * (2 << 20))
    assert response.status_code == 413
    assert database.exec(select(Document)).all() == [] and kept_files(settings) == []


async def test_a_scanned_picture_becomes_a_pdf_page(client, meeting):
    picture = Image.new("RGB", (1240, 1754), "white")
    out = io.BytesIO()
    picture.save(out, "PNG")
    response = await upload(client, meeting["item"], out.getvalue(), name="ban-scan.png")
    assert response.status_code == 201, response.text
    assert response.json()["page_count"] == 1


async def test_a_delegate_cannot_upload(client, meeting, accounts, new_client):
    accounts.user("daibieu01")
    await client.post(
        f"/api/meetings/{meeting['id']}/participants",
        json={"username": "daibieu01", "role": "delegate"},
    )
    delegate = await new_client()
    await delegate.login("daibieu01")
    response = await upload(delegate, meeting["item"], budget_paper())
    assert response.status_code == 403


async def test_page_image_is_cached_and_immutable(client, meeting, settings):
    document = (await upload(client, meeting["item"], budget_paper())).json()
    url = f"/api/documents/{document['id']}/pages/1?w=1000"
    first = await client.get(url)
    assert first.status_code == 200 and first.headers["content-type"] == "image/webp"
    assert "immutable" in first.headers["cache-control"]
    assert Image.open(io.BytesIO(first.content)).width == 1280  # the bucket at or above 1000
    again = await client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert (await client.get(url)).content == first.content
    assert (await client.get(f"/api/documents/{document['id']}/pages/99")).status_code == 404


async def test_many_tablets_asking_for_a_new_page_render_it_once(app, client, meeting):
    document = (await upload(client, meeting["item"], budget_paper())).json()
    renderer = app.state.renderer
    renders = 0
    real_run = renderer.run

    async def counting_run(function, *args):
        nonlocal renders
        renders += 1
        return await real_run(function, *args)

    renderer.run = counting_run
    url = f"/api/documents/{document['id']}/pages/2?w=640"
    responses = await asyncio.gather(*(client.get(url) for _ in range(20)))
    assert {r.status_code for r in responses} == {200}
    assert len({r.content for r in responses}) == 1
    assert renders == 1


async def test_word_boxes_are_normalized(client, meeting):
    document = (await upload(client, meeting["item"], budget_paper())).json()
    words = (await client.get(f"/api/documents/{document['id']}/pages/1/words")).json()["words"]
    assert any(w[4] == "TỜ" for w in words)
    assert all(0 <= v <= 1 for w in words for v in w[:4])


async def test_search_ignores_diacritics_and_stays_in_the_meeting(client, meeting):
    document = (await upload(client, meeting["item"], budget_paper())).json()
    other = await client.post(
        "/api/meetings", json={"title": "Khác", "starts_at": "2026-12-20T08:00:00+07:00"}
    )
    other_item = await client.post(f"/api/meetings/{other.json()['id']}/items", json={"title": "X"})
    await upload(client, other_item.json()["id"], budget_paper())
    found = (
        await client.get(f"/api/meetings/{meeting['id']}/search", params={"q": "ngan sach"})
    ).json()
    assert found["results"], found
    hit = found["results"][0]
    assert hit["document_id"] == document["id"]
    assert hit["parts"][1].lower() == "ngân sách"
    assert hit["parts"][1] in hit["snippet"]
    none = (await client.get(f"/api/meetings/{meeting['id']}/search", params={"q": "xyzzy"})).json()
    assert none["results"] == []


async def test_download_is_stamped_and_the_copy_is_journaled(client, meeting, database):
    document = (await upload(client, meeting["item"], budget_paper())).json()
    response = await client.get(f"/api/documents/{document['id']}/download")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    with pymupdf.open(stream=response.content) as pdf:
        first_page = pdf[0].get_text()
    assert "Thuky (thuky)" in first_page and "Mã bản sao" in first_page
    event = database.exec(select(JournalEvent).where(JournalEvent.type == "document.copied")).one()
    assert event.payload["copy_id"] in first_page
    assert event.seq == 1


async def test_a_confidential_paper_is_read_on_screen_only_with_the_readers_mark(
    client, meeting, accounts, new_client
):
    document = (await upload(client, meeting["item"], budget_paper(), confidential="1")).json()
    assert document["confidential"] is True
    refused = await client.get(f"/api/documents/{document['id']}/download")
    assert refused.status_code == 403 and refused.json()["code"] == "confidential"
    for username, role in (("daibieu01", "delegate"), ("khach", "observer")):
        accounts.user(username)
        await client.post(
            f"/api/meetings/{meeting['id']}/participants", json={"username": username, "role": role}
        )
    delegate = await new_client()
    await delegate.login("daibieu01")
    marked = await delegate.get(f"/api/documents/{document['id']}/pages/1?w=640")
    plain = await client.get(f"/api/documents/{document['id']}/pages/1?w=640")
    assert marked.status_code == 200 and marked.content != plain.content
    observer = await new_client()
    await observer.login("khach")
    assert (await observer.get(f"/api/documents/{document['id']}")).status_code == 404
    found = await observer.get(f"/api/meetings/{meeting['id']}/search", params={"q": "ngan sach"})
    assert found.json()["results"] == []


async def test_a_word_file_is_converted_when_libreoffice_is_installed(client, meeting, database):
    need(office_program() is not None, "LibreOffice (soffice) is not installed")
    response = await upload(client, meeting["item"], _docx("Tờ trình về dự toán"), name="tt.docx")
    assert response.status_code == 201, response.text
    page = database.exec(select(DocumentPage)).one()
    assert "dự toán" in page.text
