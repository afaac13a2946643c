"""A confidential paper is read on a tablet only, as pages with the reader's name on them: the
agenda book lists it by title and holds a notice page in its place, and no book page, word,
search hit, annotated copy or export carries its text to anyone."""

from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path

import pymupdf
import pytest
from sqlmodel import select

from agenda import fonts
from agenda.book import BookCover, BookDocument, BookItem, build_book
from server.documents.rules import content_key
from server.models import Annotation, Document, DocumentPage, User
from tests.conftest import Client
from tests.test_documents import budget_paper, upload
from tests.test_publish import publish

SECRET = "Zelkova"  # a word that occurs only in the confidential paper
SECRET_TITLE = "Tờ trình về phương án nhân sự chủ chốt"
NOTICE = "Tài liệu mật — đọc riêng trên máy tính bảng"


def confidential_pdf() -> bytes:
    """Two pages of personnel plans that no one outside the council may read."""
    with pymupdf.open() as document:
        for n in (1, 2):
            page = document.new_page()
            name = fonts.insert_font(page)
            lines = [
                f"PHƯƠNG ÁN NHÂN SỰ {SECRET.upper()} — trang {n}",
                f"Điều động ông Trần Văn {SECRET} giữ chức Chủ tịch Ủy ban nhân dân phường.",
                f"Mã hồ sơ {SECRET}-{n}: chưa công bố.",
            ]
            for i, line in enumerate(lines):
                page.insert_text((72, 100 + 24 * i), line, fontname=name, fontsize=12)
        return document.tobytes()


def without_stamps(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
async def hall(client: Client, accounts, new_client):
    """A published meeting: a public budget paper, then a confidential personnel paper; the
    secretary on `client`, a delegate and an observer signed in on their own tablets."""
    accounts.user("thuky", "secretary", accounts.body())
    await client.login("thuky")
    created = await client.post(
        "/api/meetings", json={"title": "Kỳ họp thứ năm", "starts_at": "2026-12-15T08:00:00+07:00"}
    )
    mid = created.json()["id"]
    budget = await client.post(f"/api/meetings/{mid}/items", json={"title": "Ngân sách"})
    people = await client.post(f"/api/meetings/{mid}/items", json={"title": "Công tác cán bộ"})
    public = await upload(client, budget.json()["id"], budget_paper(), title="Tờ trình dự toán")
    secret = await upload(
        client,
        people.json()["id"],
        confidential_pdf(),
        name="nhan-su.pdf",
        title=SECRET_TITLE,
        confidential="true",
    )
    assert secret.status_code == 201 and secret.json()["confidential"] is True, secret.text
    tablets = {}
    for username, role in (("daibieu01", "delegate"), ("khach", "observer")):
        accounts.user(username)
        joined = await client.post(
            f"/api/meetings/{mid}/participants", json={"username": username, "role": role}
        )
        assert joined.status_code == 201, joined.text
        tablets[role] = await new_client()
        await tablets[role].login(username)
    status = await publish(client, mid)
    assert status["state"] == "done", status
    [book] = (await client.get(f"/api/meetings/{mid}/books")).json()
    return {
        "id": mid,
        "book": book,
        "public": public.json(),
        "secret": secret.json(),
        "secretary": client,
        **tablets,
    }


def _entry(book: dict, title: str) -> dict:
    return next(e for e in book["entries"] if e["kind"] == "document" and e["title"] == title)


async def test_the_book_lists_a_confidential_paper_by_title_with_a_notice_page_in_its_place(
    hall,
):
    book = hall["book"]
    entry = _entry(book, SECRET_TITLE)
    assert entry["pages"] == 1 and entry["confidential"] is True
    front = _entry(book, "Tờ trình dự toán")["page"] - 1  # cover and contents
    for reader in (hall["delegate"], hall["observer"]):
        response = await reader.get(f"/api/documents/{book['document_id']}/download")
        assert response.status_code == 200
        with pymupdf.open(stream=response.content) as pdf:
            text = [page.get_text() for page in pdf]
            toc = pdf.get_toc()
            labels = [page.get_label() for page in pdf]
            links = [link for page in pdf.pages(1, front) for link in page.get_links()]
        assert SECRET.lower() not in "".join(text).lower()
        notice = without_stamps(text[entry["page"] - 1])
        assert NOTICE in notice and SECRET_TITLE in notice
        contents = without_stamps("".join(text[1:front]))
        assert SECRET_TITLE in contents
        assert [2, SECRET_TITLE, entry["page"]] in toc  # under its item
        assert entry["page"] - 1 in [link["page"] for link in links]
        assert labels[entry["page"] - 1] == str(entry["page"] - front)
        assert len(text) == book["page_count"] == entry["page"]  # one page in its place


async def test_no_book_page_gives_words_or_search_text_of_the_confidential_paper(hall, database):
    book = hall["book"]
    rows = database.exec(
        select(DocumentPage).where(DocumentPage.document_id == book["document_id"])
    ).all()
    assert rows and not any(SECRET.lower() in row.folded for row in rows)
    secret = database.get(Document, hall["secret"]["id"])
    secret_keys = {content_key(secret.sha256, n) for n in range(1, secret.page_count + 1)}
    assert not secret_keys & {row.content_key for row in rows}
    for n in range(1, book["page_count"] + 1):
        words = await hall["observer"].get(f"/api/documents/{book['document_id']}/pages/{n}/words")
        assert words.status_code == 200
        assert SECRET.lower() not in words.text.lower()
    placeholder = await hall["observer"].get(
        f"/api/documents/{book['document_id']}/pages/{_entry(book, SECRET_TITLE)['page']}/words"
    )
    assert "máy tính bảng" in " ".join(w[4] for w in placeholder.json()["words"])


async def test_an_observer_finds_nothing_of_a_confidential_paper(hall):
    search = f"/api/meetings/{hall['id']}/search"
    for params in ({"q": SECRET}, {"q": SECRET, "document_id": hall["book"]["document_id"]}):
        found = await hall["observer"].get(search, params=params)
        assert found.status_code == 200 and found.json()["results"] == []
    found = (await hall["delegate"].get(search, params={"q": SECRET})).json()["results"]
    assert found and {hit["document_id"] for hit in found} == {hall["secret"]["id"]}


async def test_an_observer_gets_nothing_of_the_confidential_paper_itself(hall):
    paper = f"/api/documents/{hall['secret']['id']}"
    for path in ("", "/pages/1?w=320", "/pages/1/words", "/download", "/annotated.pdf"):
        response = await hall["observer"].get(paper + path)
        assert response.status_code == 404, path
        assert SECRET.lower() not in response.text.lower()


async def test_no_one_gets_a_confidential_paper_as_a_pdf(hall):
    paper = f"/api/documents/{hall['secret']['id']}"
    for reader in (hall["delegate"], hall["secretary"]):
        for path in ("/download", "/annotated.pdf"):
            refused = await reader.get(paper + path)
            assert refused.status_code == 403 and refused.json()["code"] == "confidential"
            assert refused.headers["content-type"].startswith("application/json")
        info = (await reader.get(paper)).json()
        assert info["downloadable"] is False


async def test_a_delegate_reads_the_confidential_paper_as_pages_with_their_name(hall):
    paper = f"/api/documents/{hall['secret']['id']}"
    marked = await hall["delegate"].get(paper + "/pages/1?w=640")
    other = await hall["secretary"].get(paper + "/pages/1?w=640")
    assert marked.status_code == 200 and marked.headers["content-type"] == "image/webp"
    assert marked.content != other.content  # each reader's own watermark
    assert marked.headers["etag"] != other.headers["etag"]
    assert "private" in marked.headers["cache-control"]


async def test_the_annotated_book_carries_nothing_of_the_confidential_paper(hall, database):
    book = hall["book"]
    delegate = database.exec(select(User).where(User.username == "daibieu01")).one()
    notice_page = _entry(book, SECRET_TITLE)["page"]
    database.add(
        Annotation(
            id=uuid.uuid4(),
            owner_id=delegate.id,
            document_id=book["document_id"],
            page=notice_page,
            kind="note",
            data={"x": 0.5, "y": 0.5, "text": "Hỏi thư ký"},
        )
    )
    database.commit()
    response = await hall["delegate"].get(f"/api/documents/{book['document_id']}/annotated.pdf")
    assert response.status_code == 200
    with pymupdf.open(stream=response.content) as pdf:
        text = "".join(page.get_text() for page in pdf)
        notes = [a.info["content"] for page in pdf for a in page.annots()]
    assert SECRET.lower() not in text.lower() and NOTICE in without_stamps(text)
    assert "Hỏi thư ký" in notes


async def test_minutes_and_the_votes_export_carry_nothing_of_a_confidential_paper(hall):
    secretary, mid = hall["secretary"], hall["id"]
    created = await secretary.post(
        f"/api/meetings/{mid}/votes",
        json={"title": "Thông qua phương án nhân sự", "item_id": hall["secret"]["item_id"]},
    )
    assert created.status_code == 201, created.text
    vote = created.json()["id"]
    assert (await secretary.post(f"/api/votes/{vote}/open")).status_code == 200
    cast = await hall["delegate"].post(f"/api/votes/{vote}/ballots", json={"option": "yes"})
    assert cast.status_code in (200, 201), cast.text
    assert (await secretary.post(f"/api/votes/{vote}/close")).status_code == 200
    assert (await secretary.post(f"/api/meetings/{mid}/session/start")).status_code == 200
    minutes = await secretary.get(f"/api/meetings/{mid}/minutes.pdf")
    with pymupdf.open(stream=minutes.content) as pdf:
        text = without_stamps("".join(page.get_text() for page in pdf))
    assert "Thông qua phương án nhân sự" in text and SECRET.lower() not in text.lower()
    exported = await secretary.get(f"/api/meetings/{mid}/votes.csv")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert any("Thông qua phương án nhân sự" in row for row in rows)
    assert SECRET.lower() not in exported.content.decode("utf-8-sig").lower()


def test_the_book_builder_draws_a_notice_page_and_never_copies_a_confidential_paper(
    tmp_path: Path,
):
    secret = tmp_path / "nhan-su.pdf"
    secret.write_bytes(confidential_pdf())
    public = tmp_path / "du-toan.pdf"
    public.write_bytes(budget_paper())
    items = [
        BookItem("1", "Ngân sách", (BookDocument("Tờ trình dự toán", public),)),
        BookItem("2", "Công tác cán bộ", (BookDocument(SECRET_TITLE, secret, confidential=True),)),
    ]
    cover = BookCover("HĐND phường Thử Nghiệm", "Kỳ họp thứ năm", "08:00", "Hội trường", 1)
    out = tmp_path / "book.pdf"
    layout = build_book(cover, items, out)
    entry = next(e for e in layout.entries if e["title"] == SECRET_TITLE)
    assert entry == {
        "kind": "document",
        "number": "2",
        "title": SECRET_TITLE,
        "page": layout.page_count,
        "depth": 1,
        "pages": 1,
        "confidential": True,
    }
    with pymupdf.open(out) as book:
        assert SECRET.lower() not in "".join(p.get_text() for p in book).lower()
        notice = without_stamps(book[-1].get_text())
        assert NOTICE in notice and SECRET_TITLE in notice
        assert book[-1].rect == pymupdf.paper_rect("a4")
    missing = [BookItem("1", "Nhân sự", (BookDocument("Mật", tmp_path / "gone.pdf", True),))]
    assert build_book(cover, missing, tmp_path / "other.pdf").page_count == 3  # never opened


# --- stored file names and the headers built from them ------------------------------------


def _multipart(filename: bytes, data: bytes, **fields: str) -> tuple[bytes, str]:
    """A form built by hand, so the file name carries raw bytes that httpx would escape."""
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="'.encode()
        + filename
        + b'"\r\nContent-Type: application/pdf\r\n\r\n'
        + data
        + b"\r\n"
    )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), boundary


async def test_control_characters_leave_stored_file_names_and_download_headers(hall, database):
    secretary = hall["secretary"]
    item = hall["public"]["item_id"]
    raw = "Tờ\x01trình\x1b\x7f\u0085\u202e số 5\x9f.pdf".encode()
    body, boundary = _multipart(raw, budget_paper(), title="")
    sent = await secretary.post(
        f"/api/items/{item}/documents",
        content=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert sent.status_code == 201, sent.text
    assert sent.json()["filename"] == "Tờtrình số 5.pdf"
    # httpx writes CR and LF as %0D%0A, which the form parser turns back into CR and LF
    broken = await upload(
        secretary,
        item,
        budget_paper(),
        name="to-trinh\r\nX-Injected: 1\r\n.pdf",
        title="Tờ trình\r\nX-Injected: 1\x00",
    )
    assert broken.status_code == 201, broken.text
    stored = database.get(Document, broken.json()["id"])
    assert stored.filename == "to-trinhX-Injected: 1.pdf"
    assert stored.title == "Tờ trình X-Injected: 1"
    download = await secretary.get(f"/api/documents/{stored.id}/download")
    assert download.status_code == 200 and "x-injected" not in download.headers
    disposition = download.headers["content-disposition"]
    assert disposition.isascii() and disposition.isprintable()
    assert disposition.startswith("attachment;")


async def test_many_confidential_hits_do_not_crowd_public_ones_out_of_an_observers_search(
    hall, database
):
    """Search stops at 200 hits: what an observer may not read is left out before that."""
    many = Document(
        meeting_id=hall["id"],
        item_id=hall["public"]["item_id"],
        position=-1,  # listed before the public paper
        title="Hồ sơ mật dài",
        sha256="c" * 64,
        page_count=250,
        confidential=True,
    )
    database.add(many)
    database.commit()
    database.add_all(
        DocumentPage(
            document_id=many.id,
            page=n,
            width=595,
            height=842,
            text="dự toán mật",
            folded="du toan mat",
        )
        for n in range(1, 251)
    )
    database.commit()
    search = f"/api/meetings/{hall['id']}/search"
    found = (await hall["observer"].get(search, params={"q": "dự toán"})).json()["results"]
    shown = {hit["document_id"] for hit in found}  # the book's contents name the public paper
    assert hall["public"]["id"] in shown and many.id not in shown
    assert shown <= {hall["public"]["id"], hall["book"]["document_id"]}
