"""One page number, the printed one: the agenda book's front matter is i, ii, its content
pages count from 1 as the stamp prints them, and the reader, `page.presented` and the
document's metadata all name a page by that label."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pymupdf
import pytest
from sqlmodel import select

from agenda.book import (
    BookCover,
    BookDocument,
    BookItem,
    book_page_labels,
    book_page_papers,
    build_book,
    printed_labels,
)
from server import journal, presenting
from server.blobs import BlobStore
from server.documents.rules import content_key, page_label, page_rows
from server.models import AgendaBook, Document, Meeting
from tests.live import Tablet
from tests.test_publish import agenda, publish  # noqa: F401 - the fixture is used by name

COVER = BookCover("HĐND phường Thử Nghiệm", "Kỳ họp thứ ba", "08:00", "Hội trường", 1)


def numbered_pdf(path: Path, pages: int, word: str, labels: list[dict] | None = None) -> Path:
    """`pages` A4 pages, each saying `word` and its number."""
    with pymupdf.open() as pdf:
        for n in range(1, pages + 1):
            pdf.new_page().insert_text((72, 100), f"{word} {n}")
        if labels:
            pdf.set_page_labels(labels)
        pdf.save(path)
    return path


def two_paper_book(folder: Path) -> tuple[Path, list[dict], int]:
    """A book of two three-page papers: cover and one contents page, then six content pages."""
    items = [
        BookItem(
            "1", "Ngân sách", (BookDocument("Tờ trình A", numbered_pdf(folder / "a", 3, "A")),)
        ),
        BookItem("2", "Đất đai", (BookDocument("Tờ trình B", numbered_pdf(folder / "b", 3, "B")),)),
    ]
    out = folder / "book.pdf"
    layout = build_book(COVER, items, out)
    return out, layout.entries, layout.page_count


def test_book_labels_from_the_page_map_are_the_printed_numbers(tmp_path: Path):
    out, entries, page_count = two_paper_book(tmp_path)
    labels = book_page_labels(entries, page_count)
    assert page_count == 8
    assert labels[0] == "i" and labels[1] == "ii"  # physical 1 and 2: cover and contents
    assert labels[2] == "1"  # physical 3: the first content page
    assert labels == ["i", "ii", "1", "2", "3", "4", "5", "6"]
    with pymupdf.open(out) as book:
        assert labels == [page.get_label() for page in book]
        stamp = book[2].get_text()
    assert "Trang 1/6" in stamp  # the page prints the label people read on screen
    assert printed_labels(out) == labels
    papers = book_page_papers(entries, page_count)
    assert papers == ["", "", *["Tờ trình A"] * 3, *["Tờ trình B"] * 3]


def test_a_paper_without_labels_counts_from_one_and_its_own_labels_are_kept(tmp_path: Path):
    assert printed_labels(numbered_pdf(tmp_path / "plain", 3, "x")) == ["1", "2", "3"]
    own = [
        {"startpage": 0, "prefix": "", "style": "r", "firstpagenum": 1},
        {"startpage": 2, "prefix": "", "style": "D", "firstpagenum": 1},
    ]
    assert printed_labels(numbered_pdf(tmp_path / "own", 4, "x", own)) == ["i", "ii", "1", "2"]
    same = [{"startpage": 0, "prefix": "P", "style": "", "firstpagenum": 1}]
    assert printed_labels(numbered_pdf(tmp_path / "same", 3, "x", same)) == ["1", "2", "3"]


async def test_document_metadata_names_every_page_by_its_label(client, agenda, database):  # noqa: F811
    status = await publish(client, agenda["id"])
    assert status["state"] == "done", status
    [book] = (await client.get(f"/api/meetings/{agenda['id']}/books")).json()
    info = (await client.get(f"/api/documents/{book['document_id']}")).json()
    download = await client.get(f"/api/documents/{book['document_id']}/download")
    with pymupdf.open(stream=download.content) as pdf:
        printed = [page.get_label() for page in pdf]
    assert info["page_labels"] == printed
    front = printed.index("1")
    assert front >= 2 and printed[:2] == ["i", "ii"]
    assert info["printed_page_count"] == info["page_count"] - front
    for entry in book["entries"]:
        if entry["kind"] == "document":
            assert info["page_labels"][entry["page"] - 1] == str(entry["page"] - front)
    first = database.exec(select(Document).where(Document.kind == "paper")).first()
    paper = (await client.get(f"/api/documents/{first.id}")).json()
    assert paper["page_labels"] == [str(n) for n in range(1, paper["page_count"] + 1)]
    assert paper["printed_page_count"] == paper["page_count"]


async def test_a_paper_with_its_own_labels_is_named_by_them(client, agenda, tmp_path):  # noqa: F811
    own = [
        {"startpage": 0, "prefix": "", "style": "r", "firstpagenum": 1},
        {"startpage": 1, "prefix": "", "style": "D", "firstpagenum": 1},
    ]
    pdf = numbered_pdf(tmp_path / "own.pdf", 3, "Trang", own).read_bytes()
    uploaded = await client.post(
        f"/api/items/{agenda['opening']}/documents",
        files={"file": ("own.pdf", pdf, "application/pdf")},
    )
    assert uploaded.status_code == 201, uploaded.text
    info = (await client.get(f"/api/documents/{uploaded.json()['id']}")).json()
    assert info["page_labels"] == ["i", "1", "2"]
    assert info["printed_page_count"] == 2


# --- the chair presents a page: every tablet and the projector hear its label -------------


@pytest.fixture
def book_world(world, database, settings, tmp_path):
    """The live `world` with a published book of two three-page papers (two front pages)."""
    out, entries, page_count = two_paper_book(tmp_path)
    pdf = out.read_bytes()
    sha256 = BlobStore(settings.blobs_dir).put(pdf)
    meeting = database.get(Meeting, world["meeting"])
    book = Document(
        meeting_id=meeting.id, kind="book", title="Tài liệu kỳ họp — phiên bản 1",
        sha256=sha256, page_count=page_count,
    )  # fmt: skip
    database.add(book)
    database.commit()
    with pymupdf.open(out) as opened:
        facts = [(p.rect.width, p.rect.height, p.get_text()) for p in opened]
    database.add_all(page_rows(book.id, facts, [content_key(sha256, n) for n in range(1, 9)]))
    database.add(
        AgendaBook(
            meeting_id=meeting.id, version=1, document_id=book.id, sha256=sha256,
            page_count=page_count, page_map=entries, created_at=datetime.now(UTC),
        )
    )  # fmt: skip
    database.commit()
    return {**world, "book": book.id}


async def test_presented_page_carries_its_printed_label(served, book_world):
    chair = await (await Tablet(served, "chutoa").sign_in()).connect(book_world["meeting"])
    await chair.request("hello", since=None)
    delegate = await (await Tablet(served, "daibieu01").sign_in()).connect(book_world["meeting"])
    await delegate.request("hello", since=None)

    ack = await chair.request("page.present", document_id=book_world["book"], page=3)
    assert ack["type"] == "ack", ack
    event = await delegate.until(lambda m: m["type"] == "page.presented")
    assert (event["page"], event["label"]) == (3, "1")

    await chair.request("page.present", document_id=book_world["book"], page=1)
    event = await delegate.until(lambda m: m["type"] == "page.presented" and m["page"] == 1)
    assert event["label"] == "i"

    await chair.request("page.present", document_id=book_world["paper"], page=4)
    event = await delegate.until(lambda m: m["type"] == "page.presented" and m["page"] == 4)
    assert event["label"] == "4"  # a paper without labels of its own counts from one

    # a label sent by a client is not believed
    await chair.request("page.present", document_id=book_world["book"], page=7, label="99")
    event = await delegate.until(lambda m: m["type"] == "page.presented" and m["page"] == 7)
    assert event["label"] == "5"

    late = await (await Tablet(served, "daibieu02").sign_in()).connect(book_world["meeting"])
    await late.send("hello", since=None)
    snapshot = await late.until(lambda m: m["type"] == "snapshot")
    presented = snapshot["state"]["presented"]
    assert (presented["document_id"], presented["page"], presented["label"]) == (
        book_world["book"],
        7,
        "5",
    )
    for tablet in (chair, delegate, late):
        await tablet.close()


async def test_a_page_presented_before_pages_had_labels_gets_its_label_in_the_snapshot(
    app,
    client,
    agenda,  # noqa: F811
):
    assert (await publish(client, agenda["id"]))["state"] == "done"
    [book] = (await client.get(f"/api/meetings/{agenda['id']}/books")).json()
    front = next(e["page"] for e in book["entries"]) - 1
    old = {"document_id": book["document_id"], "page": front + 2, "by": None, "title": "Sách"}
    async with app.state.db() as db:
        await journal.append(db, agenda["id"], "page.presented", old, None)
        await db.commit()
    async with app.state.db() as db:
        shown = await presenting.presented(db, app.state, agenda["id"])
        assert (shown["page"], shown["label"]) == (front + 2, "2")
        assert await page_label(app.state, db, book["document_id"], 1) == "i"
        assert await page_label(app.state, db, book["document_id"], 10_000) == "10000"
