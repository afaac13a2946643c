"""A secretary publishes the agenda book: one PDF with a cover, a table of contents whose
lines lead to the documents, every document in agenda order, bookmarks, page labels and a
footer stamp, that a delegate can read on a tablet or print."""

from __future__ import annotations

import datetime
import json
import pickle
import re
import time
from pathlib import Path

import pymupdf
import pytest

from agenda.book import BookCover, BookDocument, BookError, BookItem, BookLayout, build_book
from agenda.demo_papers import demo_session

COUNCIL = "Hội đồng nhân dân phường Ba Đình"
MEETING = "Kỳ họp thứ tư, Hội đồng nhân dân phường Ba Đình khóa I"
COVER = BookCover(
    body=COUNCIL,
    meeting=MEETING,
    when="08:00, ngày 08 tháng 12 năm 2026",
    place="Hội trường Ủy ban nhân dân phường Ba Đình",
    version=3,
)
STAMP_BAND = 26  # the stamp sits in this many points at the bottom of a page


@pytest.fixture(scope="module")
def items(tmp_path_factory: pytest.TempPathFactory) -> list[BookItem]:
    """The demo session's agenda with its papers written to disk."""
    folder = tmp_path_factory.mktemp("papers")
    agenda = demo_session(COUNCIL, "Hà Nội", datetime.date(2026, 12, 8))
    result = []
    for item in agenda:
        documents = []
        for paper in item.papers:
            path = folder / paper.filename
            path.write_bytes(paper.pdf)
            documents.append(BookDocument(paper.title, path))
        result.append(BookItem(item.number, item.title, tuple(documents), item.number.count(".")))
    return result


@pytest.fixture(scope="module")
def published(
    items: list[BookItem], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, BookLayout, list[tuple[int, int, str]]]:
    out = tmp_path_factory.mktemp("book") / "tap-tai-lieu.pdf"
    calls: list[tuple[int, int, str]] = []
    layout = build_book(COVER, items, out, progress=lambda *call: calls.append(call))
    return out, layout, calls


@pytest.fixture(scope="module")
def book(published) -> pymupdf.Document:
    return pymupdf.open(published[0])


@pytest.fixture(scope="module")
def layout(published) -> BookLayout:
    return published[1]


def _documents(items: list[BookItem]) -> list[BookDocument]:
    return [document for item in items for document in item.documents]


def _page_count(path: Path) -> int:
    with pymupdf.open(path) as document:
        return document.page_count


def _front_pages(layout: BookLayout) -> int:
    """Cover and contents: everything before the first document."""
    return next(e["page"] for e in layout.entries if e["kind"] == "document") - 1


def _stamp(page: pymupdf.Page) -> str:
    band = pymupdf.Rect(0, page.rect.height - STAMP_BAND, page.rect.width, page.rect.height)
    return " ".join(page.get_text(clip=band).split())


def _contents(book: pymupdf.Document, front: int) -> str:
    """The table of contents as one line, without dot leaders and stamps."""
    text = ""
    for page in book.pages(1, front):
        text += page.get_text(clip=page.rect + (0, 0, 0, -STAMP_BAND))
    return _one_line(text)


def _links(book: pymupdf.Document, front: int) -> list[tuple[str, dict]]:
    """Each link of the table of contents with the text it covers."""
    found = []
    for page in book.pages(1, front):
        words = page.get_text("words")
        for link in page.get_links():
            covered = [w[4] for w in words if _middle(w) in link["from"]]
            found.append((_one_line(" ".join(covered)), link))
    return found


def _middle(word: tuple) -> pymupdf.Point:
    return pymupdf.Point((word[0] + word[2]) / 2, (word[1] + word[3]) / 2)


def _one_line(text: str) -> str:
    """TOC text without dot leaders, on one line."""
    return " ".join(re.sub(r"\.{3,}", " ", text).split())


def _pdf(path: Path, pages: list[tuple[float, float, int]], text: str = "Trang") -> Path:
    """A small PDF with pages of (width, height, rotation)."""
    with pymupdf.open() as document:
        for number, (width, height, rotation) in enumerate(pages, start=1):
            page = document.new_page(width=width, height=height)
            page.insert_text((72, 100), f"{text} {number}", fontsize=14)
            page.set_rotation(rotation)
        document.save(path)
    return path


def test_book_has_cover_toc_and_every_document_in_agenda_order(
    items: list[BookItem], book: pymupdf.Document, layout: BookLayout
):
    front = _front_pages(layout)
    sizes = [_page_count(document.path) for document in _documents(items)]
    assert book.page_count == layout.page_count == front + sum(sizes)
    assert front >= 2
    cover = " ".join(book[0].get_text().split())
    for text in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        COUNCIL.upper(),
        "TÀI LIỆU KỲ HỌP",
        MEETING,
        COVER.when,
        COVER.place,
        "Phiên bản 3",
    ):
        assert text in cover
    assert "MỤC LỤC" in book[1].get_text()

    start = front
    for document, size in zip(_documents(items), sizes, strict=True):
        with pymupdf.open(document.path) as source:
            for number in range(size):
                first_line = source[number].get_text().split("\n")[0]
                assert first_line in book[start + number].get_text()
                assert book[start + number].rect == source[number].rect
        start += size


def test_layout_has_an_entry_per_item_and_document_in_reading_order(
    items: list[BookItem], layout: BookLayout
):
    expected = []
    for item in items:
        expected.append(("item", item.number, item.title, item.depth))
        expected += [("document", item.number, d.title, item.depth + 1) for d in item.documents]
    assert [(e["kind"], e["number"], e["title"], e["depth"]) for e in layout.entries] == expected
    assert json.loads(json.dumps(layout.entries)) == layout.entries

    page = _front_pages(layout) + 1
    for entry in (e for e in layout.entries if e["kind"] == "document"):
        assert entry["page"] == page
        page += entry["pages"]
    assert page - 1 == layout.page_count


def test_bookmarks_nest_documents_under_their_items(
    items: list[BookItem], book: pymupdf.Document, layout: BookLayout
):
    pages = {(e["kind"], e["number"], e["title"]): e["page"] for e in layout.entries}
    expected = []
    for item in items:
        expected.append(
            [item.depth + 1, f"{item.number}. {item.title}", pages["item", item.number, item.title]]
        )
        expected += [
            [item.depth + 2, d.title, pages["document", item.number, d.title]]
            for d in item.documents
        ]
    assert book.get_toc() == expected
    budget = next(mark for mark in book.get_toc() if mark[1].startswith("3. "))
    assert budget[2] == pages["document", "3.1", items[3].documents[0].title]


def test_a_documents_own_bookmarks_nest_under_it(tmp_path: Path):
    report = _pdf(tmp_path / "bao-cao.pdf", [(595, 842, 0)] * 3)
    with pymupdf.open(report) as document:
        document.set_toc([[1, "I. Kết quả", 1], [2, "1. Thu ngân sách", 2], [1, "II. Nhiệm vụ", 3]])
        document.saveIncr()
    items = [BookItem("1", "Báo cáo năm", (BookDocument("Báo cáo kinh tế - xã hội", report),))]
    out = tmp_path / "book.pdf"
    layout = build_book(COVER, items, out)

    start = layout.entries[1]["page"]
    with pymupdf.open(out) as book:
        assert book.get_toc() == [
            [1, "1. Báo cáo năm", start],
            [2, "Báo cáo kinh tế - xã hội", start],
            [3, "I. Kết quả", start],
            [4, "1. Thu ngân sách", start + 1],
            [3, "II. Nhiệm vụ", start + 2],
        ]


def test_contents_lists_every_document_with_its_page_and_a_working_link(
    items: list[BookItem], book: pymupdf.Document, layout: BookLayout
):
    front = _front_pages(layout)
    links = _links(book, front)
    linked = {text: link["page"] for text, link in links}
    assert all(link["kind"] == pymupdf.LINK_GOTO for _, link in links)

    for entry in (e for e in layout.entries if e["kind"] == "document"):
        shown = entry["page"] - front
        line = f"{entry['title']} {shown}"
        assert linked[line] == entry["page"] - 1, line

    contents = _contents(book, front)
    for document in _documents(items):
        assert document.title in contents


def test_item_without_documents_is_listed_without_page_number(
    book: pymupdf.Document, layout: BookLayout
):
    front = _front_pages(layout)
    contents = _contents(book, front)
    assert "1. Khai mạc kỳ họp; thông qua chương trình kỳ họp 2." in contents
    assert contents.endswith("8. Thông qua các nghị quyết; bế mạc kỳ họp")
    linked = [text for text, _ in _links(book, front)]
    assert not any("Khai mạc" in text for text in linked)
    assert any(text.startswith("3. Các nội dung về ngân sách") for text in linked)


def test_page_labels_are_roman_on_front_matter_then_count_from_one(
    book: pymupdf.Document, layout: BookLayout
):
    front = _front_pages(layout)
    labels = [page.get_label() for page in book]
    assert labels[:front] == ["i", "ii", "iii", "iv"][:front]
    assert labels[front:] == [str(n) for n in range(1, book.page_count - front + 1)]


def test_every_page_after_the_cover_carries_the_meeting_stamp(
    book: pymupdf.Document, layout: BookLayout
):
    front = _front_pages(layout)
    content = book.page_count - front
    assert "Tài liệu kỳ họp" not in book[0].get_text()
    for page in book.pages(1):
        stamp = _stamp(page)
        number = page.get_label()
        if page.number >= front:
            number += f"/{content}"
        assert stamp.endswith(f"Tài liệu kỳ họp {MEETING} — Trang {number}"), stamp


def test_progress_reports_each_document_then_the_end(items: list[BookItem], published):
    calls = published[2]
    titles = [document.title for document in _documents(items)]
    total = len(titles) + 1
    assert calls == [(n, total, t) for n, t in enumerate(titles, 1)] + [(total, total, "")]


def test_book_is_compact_and_quick_to_build(items: list[BookItem], tmp_path: Path, published):
    out = tmp_path / "book.pdf"
    started = time.perf_counter()
    build_book(COVER, items, out)
    assert time.perf_counter() - started < 2
    inputs = sum(document.path.stat().st_size for document in _documents(items))
    assert out.stat().st_size < inputs


@pytest.mark.parametrize("damage", ["missing", "corrupt", "empty"])
def test_unreadable_document_is_named_and_nothing_is_written(
    items: list[BookItem], tmp_path: Path, damage: str
):
    broken = tmp_path / "hu-hong.pdf"
    if damage == "corrupt":
        broken.write_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 100)
    elif damage == "empty":
        broken.write_bytes(b"")
    bad = BookItem("9", "Nội dung khác", (BookDocument("Tờ trình bị hỏng", broken),))
    out = tmp_path / "out" / "book.pdf"
    out.parent.mkdir()

    with pytest.raises(BookError) as raised:
        build_book(COVER, [*items[:2], bad, *items[2:]], out)

    assert raised.value.document == "Tờ trình bị hỏng"
    assert "Tờ trình bị hỏng" in str(raised.value)
    assert list(out.parent.iterdir()) == []


def test_failed_rebuild_keeps_the_published_book(items: list[BookItem], tmp_path: Path):
    out = tmp_path / "book.pdf"
    out.write_bytes(b"the published book")
    bad = BookItem("9", "Nội dung khác", (BookDocument("Báo cáo", tmp_path / "none.pdf"),))
    with pytest.raises(BookError):
        build_book(COVER, [bad], out)
    assert out.read_bytes() == b"the published book"
    assert [path.name for path in tmp_path.iterdir()] == ["book.pdf"]


def test_book_error_comes_back_whole_from_a_worker_process():
    error = pickle.loads(pickle.dumps(BookError("Tờ trình", "cannot open the file")))
    assert (error.document, error.reason) == ("Tờ trình", "cannot open the file")


def test_very_long_meeting_title_still_fits(items: list[BookItem], tmp_path: Path):
    meeting = (
        "Kỳ họp chuyên đề thông qua các nghị quyết về ngân sách, đầu tư công, quy hoạch và đất đai "
    ) * 5
    meeting = meeting[:300]
    cover = BookCover(COUNCIL, meeting, COVER.when, COVER.place, 1)
    out = tmp_path / "book.pdf"
    build_book(cover, items[:2], out)

    with pymupdf.open(out) as book:
        for page in book:
            for word in page.get_text("words"):
                assert page.rect.contains(pymupdf.Rect(word[:4])), word
        stamp = _stamp(book[3])
        assert stamp.startswith("Tài liệu kỳ họp Kỳ họp chuyên đề")
        assert "…" in stamp
        assert stamp.endswith(f"Trang 2/{book.page_count - 2}")
        words = book[3].get_text("words", clip=(0, book[3].rect.height - STAMP_BAND, 1e4, 1e4))
        assert min(w[0] for w in words) >= 30
        assert max(w[2] for w in words) <= book[3].rect.width - 30


def test_large_and_turned_pages_keep_their_size_and_get_an_upright_stamp(tmp_path: Path):
    a3, a4 = pymupdf.paper_rect("a3"), pymupdf.paper_rect("a4")
    plan = _pdf(tmp_path / "ban-do.pdf", [(a3.width, a3.height, 0), (a4.width, a4.height, 90)])
    items = [BookItem("1", "Quy hoạch", (BookDocument("Bản đồ quy hoạch", plan),))]
    out = tmp_path / "book.pdf"
    build_book(COVER, items, out)

    with pymupdf.open(out) as book:
        large, turned = book[-2], book[-1]
        assert large.rect == a3
        assert turned.rotation == 90
        assert turned.rect == pymupdf.Rect(0, 0, a4.height, a4.width)
        for page in (large, turned):
            words = [pymupdf.Rect(w[:4]) * page.rotation_matrix for w in page.get_text("words")]
            stamp = [w for w in words if w.y0 > page.rect.height - STAMP_BAND]
            assert len(stamp) > 5
            middle = (min(w.x0 for w in stamp) + max(w.x1 for w in stamp)) / 2
            assert abs(middle - page.rect.width / 2) < 2
            assert all(w.height < 12 for w in stamp)  # a horizontal line, not a column


def test_stamp_stays_at_the_foot_when_a_document_leaves_its_drawing_state_open(
    tmp_path: Path,
):
    sloppy = _pdf(tmp_path / "cau-tha.pdf", [(595, 842, 0)])
    with pymupdf.open(sloppy) as document:
        page = document[0]
        page.clean_contents()  # one content stream
        (xref,) = page.get_contents()
        # scaled, red, and one "q" never closed: all of it would leak into a later stream
        document.update_stream(xref, b"2 0 0 2 0 0 cm 1 0 0 rg q " + document.xref_stream(xref))
        document.saveIncr()
    items = [BookItem("1", "Báo cáo", (BookDocument("Báo cáo cẩu thả", sloppy),))]
    out = tmp_path / "book.pdf"
    build_book(COVER, items, out)

    with pymupdf.open(out) as book:
        page = book[-1]
        spans = [
            span
            for block in page.get_text("dict")["blocks"]
            for line in block["lines"]
            for span in line["spans"]
            if "Tài liệu kỳ họp" in span["text"]
        ]
        assert len(spans) == 1
        assert spans[0]["size"] == pytest.approx(7.5)
        assert spans[0]["bbox"][3] > page.rect.height - STAMP_BAND
        assert pymupdf.sRGB_to_rgb(spans[0]["color"])[0] < 200  # grey, not red


def test_long_agenda_runs_contents_over_several_pages(tmp_path: Path):
    paper = _pdf(tmp_path / "giay.pdf", [(595, 842, 0)])
    items = [
        BookItem(str(n), f"Nội dung thứ {n} của kỳ họp", (BookDocument(f"Tờ trình số {n}", paper),))
        for n in range(1, 41)
    ]
    out = tmp_path / "book.pdf"
    layout = build_book(COVER, items, out)

    front = _front_pages(layout)
    assert front >= 3
    assert layout.page_count == front + 40
    with pymupdf.open(out) as book:
        romans = ["i", "ii", "iii", "iv", "v"]
        assert [page.get_label() for page in book][: front + 1] == [*romans[:front], "1"]
        links = _links(book, front)
        assert len(links) == 80
        for text, link in links:
            assert link["page"] == front + int(text.split()[-1]) - 1, text
        assert _stamp(book[front - 1]).endswith(f"Trang {book[front - 1].get_label()}")


def test_agenda_without_documents_still_gives_cover_and_contents(tmp_path: Path):
    items = [BookItem("1", "Khai mạc", ()), BookItem("1.1", "Điểm danh", (), depth=1)]
    out = tmp_path / "book.pdf"
    layout = build_book(COVER, items, out)

    assert layout.page_count == 2
    assert [(e["kind"], e["page"]) for e in layout.entries] == [("item", 2), ("item", 2)]
    with pymupdf.open(out) as book:
        assert [page.get_label() for page in book] == ["i", "ii"]
        assert "1.1. Điểm danh" in _contents(book, 2)
        assert book[1].get_links() == []
        assert [mark[:2] for mark in book.get_toc()] == [[1, "1. Khai mạc"], [2, "1.1. Điểm danh"]]


def test_book_replaces_the_previous_version(items: list[BookItem], tmp_path: Path):
    out = tmp_path / "book.pdf"
    out.write_bytes(b"old version")
    layout = build_book(COVER, items[:2], out)
    assert _page_count(out) == layout.page_count
    assert [path.name for path in tmp_path.iterdir()] == ["book.pdf"]
