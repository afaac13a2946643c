"""The agenda book (tập tài liệu kỳ họp): one PDF a delegate can read or print.

The secretary publishes it from the meeting's agenda: a cover page, a table of contents
("MỤC LỤC") with working links, then every item's documents in agenda order, with
bookmarks, page labels and a small footer stamp on every page after the cover. A
confidential document is read on tablets only: the book lists it by title and holds one
notice page in its place, and never opens its file.

Page numbers a reader sees agree everywhere: the table of contents, the footer stamp and
the page labels all count the content pages 1..n; the cover and the table of contents
are labelled i, ii, ... The :class:`BookLayout` the server stores as its page map uses
physical page numbers (1 = the cover), which is what a page index on a tablet needs.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import tempfile
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import pymupdf

from agenda import fonts

# ---------------------------------------------------------------------------
# What the caller gives and gets


@dataclass(frozen=True)
class BookDocument:
    """One document of an agenda item, already sanitized and stored as a PDF file."""

    title: str
    path: Path
    confidential: bool = False
    """Read on tablets only: the book holds a notice page in its place and never opens `path`."""


@dataclass(frozen=True)
class BookItem:
    """One line of the agenda with its documents; sub-items follow their parent."""

    number: str
    """As printed, e.g. "1", "2", "3.1"."""
    title: str
    documents: tuple[BookDocument, ...]
    depth: int = 0
    """0 for a top-level item, 1 for a sub-item, and so on."""


@dataclass(frozen=True)
class BookCover:
    """What the cover page says."""

    body: str
    """The council, e.g. "Hội đồng nhân dân phường Ba Đình"."""
    meeting: str
    when: str
    """Already formatted, e.g. "08:00, ngày 15 tháng 12 năm 2026"."""
    place: str
    version: int


@dataclass(frozen=True)
class BookLayout:
    """Where everything landed in the book.

    ``entries`` holds one dict per item and per document in reading order:
    ``{"kind": "item" | "document", "number", "title", "page", "depth"}`` plus ``"pages"``
    and ``"confidential"`` for documents. ``page`` is the 1-based physical page (1 = the
    cover); a document's ``number`` is its item's number and its ``depth`` is one more than
    its item's. A confidential document has ``"pages": 1``, its notice page.
    """

    page_count: int
    entries: list[dict] = field(default_factory=list)


class BookError(Exception):
    """Building failed because of one document; `document` names it (title)."""

    def __init__(self, document: str, reason: str):
        # both go to Exception so the error survives pickling back from a worker process
        super().__init__(document, reason)
        self.document = document
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.document}: {self.reason}"


Progress = Callable[[int, int, str], None]


def build_book(
    cover: BookCover,
    items: Sequence[BookItem],
    out: Path,
    progress: Progress | None = None,
) -> BookLayout:
    """Writes the book to `out` and returns where everything landed.

    The table of contents lists every item and every document. An item shows a page
    number and links to its first document, or, when it has none of its own, to the first
    document of its sub-items; an item with no document below it at all is listed without
    page number or link, and its bookmark and layout entry point at the page where the
    next document starts (the last page when none follows).

    ``progress(done, total, label)`` is called after each document is added, with the
    document's title as label, and once more as ``(total, total, "")`` when the file is in
    place; ``total`` is the number of documents plus that last step.

    Raises :class:`BookError` naming the document that cannot be opened or inserted;
    then `out` is left as it was and no temporary file stays behind. All arguments are
    plain picklable data, so a worker process can run this.
    """
    total = sum(len(item.documents) for item in items) + 1
    report = _reporter(progress, total)
    with pymupdf.open() as book:
        _draw_cover(book, cover)
        inserted = [
            _draw_notice(book, item, document, report)
            if document.confidential
            else _insert_document(book, document, report)
            for item in items
            for document in item.documents
        ]
        entries = _entries(items, inserted)
        contents = _TableOfContents(_toc_rows(entries))
        front_pages = 1 + contents.page_count
        contents.draw(book, first_page=1, content_start=front_pages)
        book.set_toc(_bookmarks(entries, inserted, front_pages, book.page_count))
        book.set_page_labels(_page_labels(front_pages, book.page_count))
        _stamp_pages(book, cover.meeting, front_pages)
        book.subset_fonts()
        _save_atomically(book, out)
        page_count = book.page_count
    if progress:
        progress(total, total, "")
    return BookLayout(page_count, [entry.as_dict(front_pages, page_count) for entry in entries])


def _reporter(progress: Progress | None, total: int) -> Callable[[str], None]:
    done = 0

    def report(label: str) -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, total, label)

    return report


# ---------------------------------------------------------------------------
# Documents


@dataclass(frozen=True)
class _Inserted:
    pages: int
    outline: list[list]
    """The document's own bookmarks as ``[level, title, page]`` (page 1-based in it)."""
    confidential: bool = False


def _insert_document(
    book: pymupdf.Document, document: BookDocument, report: Callable[[str], None]
) -> _Inserted:
    try:
        source = pymupdf.open(document.path, filetype="pdf")
    except (OSError, RuntimeError, ValueError) as error:
        raise BookError(document.title, f"cannot open the file: {error}") from error
    with source:
        if source.needs_pass:
            raise BookError(document.title, "the file is password protected")
        if source.page_count == 0:
            raise BookError(document.title, "the file has no pages")
        try:
            book.insert_pdf(source)
        except (RuntimeError, ValueError) as error:
            raise BookError(document.title, f"cannot copy the pages: {error}") from error
        inserted = _Inserted(source.page_count, source.get_toc(simple=True))
    report(document.title)
    return inserted


# ---------------------------------------------------------------------------
# Entries: items and documents in reading order


@dataclass(frozen=True)
class _Entry:
    kind: str
    number: str
    title: str
    depth: int
    offset: int
    """0-based content page where the entry starts (for an item: where the next
    document starts)."""
    pages: int = 0
    listed: bool = True
    """Whether the table of contents shows a page number and a link."""
    confidential: bool = False

    def page_index(self, front_pages: int, page_count: int) -> int:
        """0-based physical page in the book."""
        return min(front_pages + self.offset, page_count - 1)

    def as_dict(self, front_pages: int, page_count: int) -> dict:
        entry = {
            "kind": self.kind,
            "number": self.number,
            "title": self.title,
            "page": self.page_index(front_pages, page_count) + 1,
            "depth": self.depth,
        }
        if self.kind == "document":
            entry["pages"] = self.pages
            entry["confidential"] = self.confidential
        return entry


def _entries(items: Sequence[BookItem], inserted: Sequence[_Inserted]) -> list[_Entry]:
    pending = iter(inserted)
    entries: list[_Entry] = []
    offset = 0
    for item in items:
        number, depth = _clean(item.number), max(0, item.depth)
        entries.append(_Entry("item", number, _clean(item.title), depth, offset))
        for document in item.documents:
            placed = next(pending)
            title = _clean(document.title)
            entries.append(
                _Entry(
                    "document",
                    number,
                    title,
                    depth + 1,
                    offset,
                    placed.pages,
                    confidential=placed.confidential,
                )
            )
            offset += placed.pages
    return [
        replace(entry, listed=_has_document_below(entries, i)) if entry.kind == "item" else entry
        for i, entry in enumerate(entries)
    ]


def _has_document_below(entries: Sequence[_Entry], index: int) -> bool:
    depth = entries[index].depth
    for entry in entries[index + 1 :]:
        if entry.kind == "item" and entry.depth <= depth:
            return False
        if entry.kind == "document":
            return True
    return False


def _item_label(entry: _Entry) -> str:
    return f"{entry.number}. {entry.title}" if entry.number else entry.title


def _bookmarks(
    entries: Sequence[_Entry], inserted: Sequence[_Inserted], front_pages: int, page_count: int
) -> list[list]:
    outlines = iter(inserted)
    marks: list[list] = []
    for entry in entries:
        page = entry.page_index(front_pages, page_count) + 1
        if entry.kind == "item":
            marks.append([entry.depth + 1, _item_label(entry), page])
            continue
        marks.append([entry.depth + 1, entry.title, page])
        for level, title, inner_page in next(outlines).outline:
            if inner_page >= 1:
                marks.append([entry.depth + 1 + level, title, page + inner_page - 1])
    return _even_levels(marks)


def _even_levels(marks: list[list]) -> list[list]:
    """Bookmark levels may go down only one step at a time, starting at 1."""
    previous = 0
    for mark in marks:
        mark[0] = max(1, min(mark[0], previous + 1))
        previous = mark[0]
    return marks


def _page_labels(front_pages: int, page_count: int) -> list[dict]:
    """The PDF's /PageLabels, as :func:`page_label` names each page."""
    labels = [{"startpage": 0, "prefix": "", "style": "r", "firstpagenum": 1}]
    if page_count > front_pages:
        labels.append({"startpage": front_pages, "prefix": "", "style": "D", "firstpagenum": 1})
    return labels


# ---------------------------------------------------------------------------
# Page labels: the numbers people say aloud


def page_label(page: int, front_pages: int) -> str:
    """The printed number of physical page `page` (1 = the cover) of a book whose first
    `front_pages` pages are cover and contents: "i", "ii", … then "1", "2", …"""
    return _roman(page) if page <= front_pages else str(page - front_pages)


def front_pages_of(entries: Sequence[dict], page_count: int) -> int:
    """How many pages come before the first content page, from a :class:`BookLayout`'s
    entries (the server's page map): the first entry starts on the first content page."""
    first = min((entry["page"] for entry in entries), default=page_count + 1)
    return max(0, min(first - 1, page_count))


def book_page_labels(entries: Sequence[dict], page_count: int) -> list[str]:
    """Every page's printed number, from the page map alone (no need to open the PDF)."""
    front = front_pages_of(entries, page_count)
    return [page_label(page, front) for page in range(1, page_count + 1)]


def book_page_papers(entries: Sequence[dict], page_count: int) -> list[str]:
    """For every page, the title of the document it shows ("" on the cover and contents)."""
    titles = [""] * page_count
    for entry in entries:
        if entry["kind"] == "document":
            first = entry["page"] - 1
            titles[first : first + entry["pages"]] = [entry["title"]] * entry["pages"]
    return titles[:page_count]


def printed_labels(path: Path) -> list[str]:
    """The page labels a PDF file defines (/PageLabels), or "1".."n" when it has none."""
    with pymupdf.open(path, filetype="pdf") as document:
        labels = [page.get_label() for page in document]
    if not all(labels) or len(set(labels)) < len(labels):
        return [str(n) for n in range(1, len(labels) + 1)]
    return labels


# ---------------------------------------------------------------------------
# Text measuring shared by cover, contents and stamp

_A4 = pymupdf.paper_rect("a4")
_ELLIPSIS = "…"


def _clean(text: str) -> str:
    """One line of composed characters: the fonts draw precomposed Vietnamese letters."""
    return unicodedata.normalize("NFC", " ".join(text.split()))


def _width(text: str, size: float, bold: bool = False, italic: bool = False) -> float:
    return size * sum(_advance(char, bold, italic) for char in text)


@functools.cache
def _advance(char: str, bold: bool, italic: bool) -> float:
    # Font.text_length walks the string in Python; caching per character is much faster
    return fonts.font(bold, italic).text_length(char, 1)


def _wrap(
    text: str, width: float, size: float, bold: bool = False, italic: bool = False
) -> list[str]:
    """Greedy word wrap; a word wider than the line is cut where it has to be."""
    lines = [""]
    for word in text.split():
        candidate = f"{lines[-1]} {word}" if lines[-1] else word
        if _width(candidate, size, bold, italic) <= width:
            lines[-1] = candidate
            continue
        if lines[-1]:
            lines.append("")
        while _width(word, size, bold, italic) > width:
            cut = _longest_prefix(word, width, size, bold, italic)
            lines[-1] = word[:cut]
            lines.append("")
            word = word[cut:]
        lines[-1] = word
    return lines


def _longest_prefix(
    text: str, width: float, size: float, bold: bool, italic: bool = False, tail: str = ""
) -> int:
    """How many leading characters of `text` (followed by `tail`) fit in `width`; at least 1."""
    low, high = 1, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if _width(text[:middle] + tail, size, bold, italic) <= width:
            low = middle
        else:
            high = middle - 1
    return low


def _shorten(text: str, width: float, size: float, bold: bool = False, italic: bool = False) -> str:
    """`text`, or as much of it as fits in `width` followed by an ellipsis."""
    if _width(text, size, bold, italic) <= width:
        return text
    cut = _longest_prefix(text, width, size, bold, italic, tail=_ELLIPSIS)
    kept = text[:cut]
    if " " in kept[len(kept) // 2 :]:
        kept = kept.rsplit(" ", 1)[0]
    return kept.rstrip(" ,;:-—") + _ELLIPSIS


# ---------------------------------------------------------------------------
# Cover

_BLACK = (0.0, 0.0, 0.0)
_GREY = (0.4, 0.4, 0.4)
_COVER_TEXT_WIDTH = 430.0
_COVER_FRAME_INSETS = ((28.0, 1.6), (33.0, 0.5))  # (inset, line width): a double frame


@dataclass(frozen=True)
class _Line:
    text: str
    size: float
    bold: bool = False
    italic: bool = False


class _CoverWriter:
    """Draws centred lines down a page (the cover, a notice), keeping track of the baseline."""

    def __init__(self, page: pymupdf.Page) -> None:
        self.page = page
        self.writers: dict[tuple[float, float, float], pymupdf.TextWriter] = {}
        self.y = 0.0

    def line(self, line: _Line, baseline: float, colour: tuple = _BLACK) -> float:
        """Draw one centred line; returns its width."""
        width = _width(line.text, line.size, line.bold, line.italic)
        writer = self.writers.get(colour)
        if writer is None:
            writer = self.writers[colour] = pymupdf.TextWriter(self.page.rect, color=colour)
        origin = ((self.page.rect.width - width) / 2, baseline)
        writer.append(
            origin, line.text, font=fonts.font(line.bold, line.italic), fontsize=line.size
        )
        self.y = baseline
        return width

    def block(
        self,
        lines: Sequence[_Line],
        first_baseline: float,
        leading: float,
        colour: tuple = _BLACK,
    ) -> None:
        for i, line in enumerate(lines):
            self.line(line, first_baseline + i * leading * line.size, colour)

    def rule(self, width: float, y: float, thickness: float = 0.6) -> None:
        middle = self.page.rect.width / 2
        self.page.draw_line((middle - width / 2, y), (middle + width / 2, y), width=thickness)

    def finish(self) -> None:
        for writer in self.writers.values():
            writer.write_text(self.page)


def _draw_cover(book: pymupdf.Document, cover: BookCover) -> None:
    page = book.new_page(width=_A4.width, height=_A4.height)
    for inset, thickness in _COVER_FRAME_INSETS:
        page.draw_rect(page.rect + (inset, inset, -inset, -inset), width=thickness)
    draw = _CoverWriter(page)

    draw.line(_Line("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 13, bold=True), 100)
    motto = draw.line(_Line("Độc lập - Tự do - Hạnh phúc", 13.5, bold=True), 119)
    draw.rule(motto, 126)

    body = _fit(_clean(cover.body).upper(), 15, bold=True, max_lines=3)
    draw.block(body, 215, leading=1.35)
    draw.rule(70, draw.y + 12)

    draw.line(_Line("TÀI LIỆU KỲ HỌP", 30, bold=True), 370)
    meeting = _fit(_clean(cover.meeting), 17, bold=True, max_lines=7)
    draw.block(meeting, 412, leading=1.35)

    details = [
        _Line(_shorten(f"{label}: {value}", _COVER_TEXT_WIDTH, 13, italic=True), 13, italic=True)
        for label, value in (("Thời gian", _clean(cover.when)), ("Địa điểm", _clean(cover.place)))
        if value
    ]
    draw.block(details, max(draw.y + 55, 600), leading=1.6)

    draw.line(_Line(f"Phiên bản {cover.version}", 9), _A4.height - 62, _GREY)
    draw.finish()


def _fit(text: str, size: float, bold: bool, max_lines: int) -> list[_Line]:
    """Wrap `text` to the cover width, shrinking the size (down to 60 %) to stay within
    `max_lines`; what still does not fit ends in an ellipsis."""
    smallest = size * 0.6
    while True:
        lines = _wrap(text, _COVER_TEXT_WIDTH, size, bold)
        if len(lines) <= max_lines or size <= smallest:
            break
        size = max(smallest, size - 1)
    if len(lines) > max_lines:
        rest = " ".join(lines[max_lines - 1 :])
        lines = [*lines[: max_lines - 1], _shorten(rest, _COVER_TEXT_WIDTH, size, bold)]
    return [_Line(line, size, bold) for line in lines]


# ---------------------------------------------------------------------------
# Notice page in place of a confidential document

NOTICE = "Tài liệu mật — đọc riêng trên máy tính bảng"
"""What the notice page says in place of a confidential document."""
_NOTICE_EXPLAINED = (
    "Nội dung tài liệu này không in trong tập tài liệu kỳ họp. Người được phép đọc mở tài liệu "
    "trên máy tính bảng của mình; mỗi trang hiển thị đều ghi tên người đọc. Tài liệu mật không "
    "được tải về hoặc in ra."
)
_SECRET_RED = (0.7, 0.08, 0.08)
_TOC_MARK = "(Mật)"


def _draw_notice(
    book: pymupdf.Document, item: BookItem, document: BookDocument, report: Callable[[str], None]
) -> _Inserted:
    """One A4 page naming the item and the document and saying where to read it."""
    page = book.new_page(width=_A4.width, height=_A4.height)
    draw = _CoverWriter(page)

    number, heading = _clean(item.number), _clean(item.title)
    heading = f"Mục {number}. {heading}" if number else heading
    heading = _shorten(heading, _COVER_TEXT_WIDTH, 12, italic=True)
    draw.line(_Line(heading, 12, italic=True), 190, _GREY)
    title = _fit(_clean(document.title), 17, bold=True, max_lines=5)
    draw.block(title, 232, leading=1.35)
    draw.rule(70, draw.y + 14)

    top = draw.y + 52
    box_width = _width(NOTICE, 15, bold=True) + 72
    left = (page.rect.width - box_width) / 2
    box = pymupdf.Rect(left, top, left + box_width, top + 112)
    page.draw_rect(box, color=_SECRET_RED, width=1.6)
    page.draw_rect(box + (4, 4, -4, -4), color=_SECRET_RED, width=0.5)
    draw.line(_Line("MẬT", 30, bold=True), top + 52, _SECRET_RED)
    draw.line(_Line(NOTICE, 15, bold=True), top + 86)

    explained = _wrap(_NOTICE_EXPLAINED, 400, 12, italic=True)
    draw.block([_Line(line, 12, italic=True) for line in explained], box.y1 + 44, leading=1.55)
    draw.finish()
    report(document.title)
    return _Inserted(1, [], confidential=True)


# ---------------------------------------------------------------------------
# Table of contents

_TOC_LEFT, _TOC_RIGHT = 72.0, _A4.width - 60.0
_TOC_TOP, _TOC_BOTTOM = 72.0, _A4.height - 64.0
_TOC_FIRST_ROW = 150.0
_NUMBER_COLUMN = 34.0  # room kept at the right for the page number
_DEPTH_INDENT = 20.0
_DEEPEST_INDENT = 4  # deeper sub-items line up with this depth
_ITEM_SIZE, _DOCUMENT_SIZE = 11.0, 10.5
_LEADING = 1.4
_LEADER_SIZE = 10.0


@dataclass(frozen=True)
class _Row:
    entry: _Entry
    number: str
    """The item number drawn in its own column ("3.1."); empty for documents."""
    number_x: float
    text_x: float
    lines: tuple[str, ...]
    bold: bool
    size: float

    @property
    def gap_before(self) -> float:
        return 9.0 if self.bold else 3.0

    @property
    def line_height(self) -> float:
        return self.size * _LEADING

    @property
    def height(self) -> float:
        return self.gap_before + len(self.lines) * self.line_height


def _toc_rows(entries: Sequence[_Entry]) -> list[_Row]:
    rows = []
    text_x = _TOC_LEFT
    for entry in entries:
        if entry.kind == "document":
            rows.append(_row(entry, "", text_x, text_x, bold=False, size=_DOCUMENT_SIZE))
            continue
        number_x = _TOC_LEFT + min(entry.depth, _DEEPEST_INDENT) * _DEPTH_INDENT
        number = f"{entry.number}." if entry.number else ""
        text_x = number_x + (max(26.0, _width(number, _ITEM_SIZE, True) + 6) if number else 0)
        rows.append(_row(entry, number, number_x, text_x, bold=True, size=_ITEM_SIZE))
    return rows


def _row(
    entry: _Entry, number: str, number_x: float, text_x: float, bold: bool, size: float
) -> _Row:
    width = _TOC_RIGHT - _NUMBER_COLUMN - text_x
    title = f"{entry.title} {_TOC_MARK}" if entry.confidential else entry.title
    lines = tuple(_wrap(title, width, size, bold))
    return _Row(entry, number, number_x, text_x, lines, bold, size)


class _TableOfContents:
    """The "MỤC LỤC" pages: rows laid out on as many A4 pages as they need."""

    def __init__(self, rows: Sequence[_Row]) -> None:
        self.pages = _paginate(rows)

    @property
    def page_count(self) -> int:
        return len(self.pages)

    def draw(self, book: pymupdf.Document, first_page: int, content_start: int) -> None:
        """Insert the pages before `first_page` and draw them; links go to content pages,
        which start at physical page index `content_start`."""
        for _ in self.pages:
            book.new_page(pno=first_page, width=_A4.width, height=_A4.height)
        for index, placed in enumerate(self.pages):
            page = book[first_page + index]
            _draw_toc_page(page, placed, heading=index == 0, content_start=content_start)


def _paginate(rows: Sequence[_Row]) -> list[list[tuple[_Row, float]]]:
    """Rows with their first baseline, page by page; an item heading is kept with the
    first line of the row after it."""
    pages: list[list[tuple[_Row, float]]] = [[]]
    y = _rows_top(heading=True)
    for i, row in enumerate(rows):
        after = rows[i + 1] if i + 1 < len(rows) and row.bold else None
        needed = row.height + (after.gap_before + after.line_height if after else 0)
        if pages[-1] and y + needed > _TOC_BOTTOM:
            pages.append([])
            y = _rows_top(heading=False)
        gap = row.gap_before if pages[-1] else 0
        baseline = y + gap + row.size
        pages[-1].append((row, baseline))
        y += gap + len(row.lines) * row.line_height
    return pages


def _rows_top(heading: bool) -> float:
    """Where the first row starts: below the "MỤC LỤC" heading on the first page."""
    return _TOC_FIRST_ROW if heading else _TOC_TOP + 14


def _draw_toc_page(
    page: pymupdf.Page, placed: Sequence[tuple[_Row, float]], heading: bool, content_start: int
) -> None:
    writer = pymupdf.TextWriter(page.rect)
    if heading:
        title = "MỤC LỤC"
        x = (page.rect.width - _width(title, 16, bold=True)) / 2
        writer.append((x, _TOC_TOP + 16), title, font=fonts.font(bold=True), fontsize=16)
    column = "Trang"
    column_y = _rows_top(heading) - 6
    writer.append(
        (_TOC_RIGHT - _width(column, 9, italic=True), column_y),
        column,
        font=fonts.font(italic=True),
        fontsize=9,
    )
    for row, baseline in placed:
        _draw_row(writer, row, baseline)
        if row.entry.listed:
            page.insert_link(
                {
                    "kind": pymupdf.LINK_GOTO,
                    "from": _row_rect(row, baseline),
                    "page": content_start + row.entry.offset,
                    "to": pymupdf.Point(0, 0),
                }
            )
    writer.write_text(page)


def _draw_row(writer: pymupdf.TextWriter, row: _Row, baseline: float) -> None:
    font = fonts.font(row.bold)
    if row.number:
        writer.append((row.number_x, baseline), row.number, font=font, fontsize=row.size)
    for i, line in enumerate(row.lines):
        writer.append(
            (row.text_x, baseline + i * row.line_height), line, font=font, fontsize=row.size
        )
    if not row.entry.listed:
        return
    last = baseline + (len(row.lines) - 1) * row.line_height
    label = str(row.entry.offset + 1)
    label_x = _TOC_RIGHT - _width(label, row.size, row.bold)
    writer.append((label_x, last), label, font=font, fontsize=row.size)
    text_end = row.text_x + _width(row.lines[-1], row.size, row.bold)
    leader = _leader(text_end + 3, label_x - 3)
    if leader:
        x, dots = leader
        writer.append((x, last), dots, font=fonts.font(), fontsize=_LEADER_SIZE)


def _leader(start: float, end: float) -> tuple[float, str] | None:
    """Dot leader between `start` and `end`: where it begins and its dots."""
    step = _width(".", _LEADER_SIZE)
    # the dots sit on a grid from the left margin so they line up from row to row
    first = _TOC_LEFT + step * math.ceil((start - _TOC_LEFT) / step)
    count = int((end - first) // step)
    if count < 3:
        return None
    return first, "." * count


def _row_rect(row: _Row, baseline: float) -> pymupdf.Rect:
    last = baseline + (len(row.lines) - 1) * row.line_height
    return pymupdf.Rect(row.number_x, baseline - row.size, _TOC_RIGHT, last + row.size * 0.35)


# ---------------------------------------------------------------------------
# Footer stamp

_STAMP_SIZE = 7.5
_STAMP_FROM_BOTTOM = 14.0
_STAMP_SIDE_MARGIN = 36.0


def _stamp_pages(book: pymupdf.Document, meeting: str, front_pages: int) -> None:
    """Stamp every page after the cover: the roman label on front matter, "x/y" over the
    content pages on the rest."""
    content_pages = book.page_count - front_pages
    fixed = _stamp_text("", f"{content_pages}/{content_pages}")
    narrowest = min((page.rect.width for page in book.pages(1)), default=_A4.width)
    room = narrowest - 2 * _STAMP_SIDE_MARGIN - _width(fixed, _STAMP_SIZE)
    meeting = _shorten(_clean(meeting), room, _STAMP_SIZE)
    for page in book.pages(1):
        number = page_label(page.number + 1, front_pages)
        if page.number >= front_pages:
            number = f"{number}/{content_pages}"
        _stamp(page, _stamp_text(meeting, number))


def _stamp_text(meeting: str, number: str) -> str:
    return f"Tài liệu kỳ họp {meeting} — Trang {number}"


def _stamp(page: pymupdf.Page, text: str) -> None:
    # MuPDF fences the page's own drawing with q/Q when it leaves a transform or colour set
    page.wrap_contents()
    shown = page.rect
    width = _width(text, _STAMP_SIZE)
    origin = pymupdf.Point((shown.width - width) / 2, shown.height - _STAMP_FROM_BOTTOM)
    origin = origin * page.derotation_matrix
    writer = pymupdf.TextWriter(page.rect, color=_GREY)
    writer.append(origin, text, font=fonts.font(), fontsize=_STAMP_SIZE)
    upright = (origin, pymupdf.Matrix(page.rotation)) if page.rotation else None
    writer.write_text(page, morph=upright)


def _roman(number: int) -> str:
    numerals = (
        (1000, "m"),
        (900, "cm"),
        (500, "d"),
        (400, "cd"),
        (100, "c"),
        (90, "xc"),
        (50, "l"),
        (40, "xl"),
        (10, "x"),
        (9, "ix"),
        (5, "v"),
        (4, "iv"),
        (1, "i"),
    )
    parts = []
    for value, numeral in numerals:
        count, number = divmod(number, value)
        parts.append(numeral * count)
    return "".join(parts)


# ---------------------------------------------------------------------------
# Writing the file


def _save_atomically(book: pymupdf.Document, out: Path) -> None:
    with _temporary_beside(out) as temporary:
        book.save(temporary, garbage=3, deflate=True, use_objstms=1)
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())
        os.replace(temporary, out)


@contextlib.contextmanager
def _temporary_beside(out: Path) -> Iterator[Path]:
    handle, name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
    finally:
        temporary.unlink(missing_ok=True)


def build_book_in_worker(
    cover: BookCover, items: Sequence[BookItem], out: Path, progress: Callable[[object], None]
) -> BookLayout:
    """`build_book` for `agenda.isolation.run_isolated`, whose progress takes one object."""
    return build_book(cover, items, out, lambda done, total, label: progress((done, total, label)))
