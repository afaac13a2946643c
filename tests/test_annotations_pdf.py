"""Burning delegates' annotations into a PDF: what the tablet drew is where the PDF shows it."""

from __future__ import annotations

from pathlib import Path

import pymupdf
import pytest

from agenda import fonts
from agenda.annotations import PageMark, burn_in

NOTE_TEXT = "Đề nghị làm rõ số liệu"
AUTHOR = "Đại biểu Nguyễn Thị Hoà"
PAGE_1_LINE = "Tổng thu ngân sách năm 2025 tăng mạnh"
PAGE_2_LINE = "Bảng số liệu kiến nghị của cử tri"


def _paper() -> bytes:
    """Three A4 pages; page 2 is turned 90° and its text reads left to right on screen."""
    with pymupdf.open() as document:
        for number in (1, 2, 3):
            page = document.new_page(width=595, height=842)
            name = fonts.insert_font(page)
            if number == 2:
                page.set_rotation(90)
                at = pymupdf.Point(72, 100) * page.derotation_matrix
                page.insert_text(at, PAGE_2_LINE, fontname=name, fontsize=16, rotate=90)
            else:
                page.insert_text((72, 100), PAGE_1_LINE, fontname=name, fontsize=16)
                page.insert_text((72, 130), f"Trang {number}", fontname=name, fontsize=12)
        return document.tobytes()


@pytest.fixture(scope="module")
def paper() -> bytes:
    return _paper()


def _word(document: pymupdf.Document, page_number: int, word: str) -> pymupdf.Rect:
    page = document[page_number - 1]
    rects = [pymupdf.Rect(w[:4]) for w in page.get_text("words") if w[4] == word]
    assert len(rects) == 1, (word, page.get_text("words"))
    return rects[0]


def _normalized(page: pymupdf.Page, unrotated: pymupdf.Rect) -> list[float]:
    """What the tablet sends for a word box: the rect on the displayed page, in 0..1."""
    shown = unrotated * page.rotation_matrix
    width, height = page.rect.width, page.rect.height
    return [shown.x0 / width, shown.y0 / height, shown.x1 / width, shown.y1 / height]


def _shown(page: pymupdf.Page, x: float, y: float) -> pymupdf.Point:
    """A point of the unrotated page as the reader sees it, in 0..1."""
    point = pymupdf.Point(x, y) * page.rotation_matrix
    return pymupdf.Point(point.x / page.rect.width, point.y / page.rect.height)


class _Reopened(dict[int, list[pymupdf.Annot]]):
    """Annotations per 1-based page of a reopened PDF; holds the document and pages, since
    an annotation whose page is gone can no longer be read."""

    def __init__(self, data: bytes) -> None:
        self.document = pymupdf.open(stream=data, filetype="pdf")
        self.pages = list(self.document)
        super().__init__((page.number + 1, list(page.annots())) for page in self.pages)


def _near(actual: tuple[float, ...] | list[float], expected: tuple[float, ...], tol: float) -> bool:
    return len(actual) == len(expected) and all(
        abs(a - e) <= tol for a, e in zip(actual, expected, strict=True)
    )


def test_ink_stroke_lands_on_the_points_drawn(paper: bytes) -> None:
    points = [[0.1, 0.2, 0.5], [0.3, 0.25, 0.5], [0.5, 0.2]]
    mark = PageMark(1, "ink", {"points": points, "width": 0.004, "color": "#cc0000"}, AUTHOR)

    annots = _Reopened(burn_in(paper, [mark]))

    (ink,) = annots[1]

    assert ink.type[1] == "Ink"
    (stroke,) = ink.vertices
    expected = [(x * 595, y * 842) for x, y, *_ in points]
    assert all(_near(v, e, 1.0) for v, e in zip(stroke, expected, strict=True))
    assert ink.border["width"] == pytest.approx(0.004 * 595, abs=0.01)
    assert _near(ink.colors["stroke"], (0.8, 0.0, 0.0), 0.01)
    assert ink.info["title"] == AUTHOR


def test_highlight_covers_the_word_the_delegate_marked(paper: bytes) -> None:
    with pymupdf.open(stream=paper, filetype="pdf") as document:
        word = _word(document, 1, "ngân")
        rect = _normalized(document[0], word)

    data = burn_in(paper, [PageMark(1, "highlight", {"rects": [rect]}, AUTHOR)])

    annots = _Reopened(data)

    (highlight,) = annots[1]
    assert highlight.type[1] == "Highlight"
    assert highlight.rect.contains(word)
    assert "ngân" in highlight.parent.get_text("text", clip=highlight.rect)
    assert _near(highlight.colors["stroke"], (1.0, 0xD4 / 255, 0.0), 0.01)
    assert highlight.info["title"] == AUTHOR


def test_highlight_on_a_turned_page_covers_the_word(paper: bytes) -> None:
    with pymupdf.open(stream=paper, filetype="pdf") as document:
        lines = [_word(document, 2, "kiến"), _word(document, 2, "cử")]
        rects = [_normalized(document[1], word) for word in lines]

    mark = PageMark(2, "highlight", {"rects": rects, "color": "#00ff00"}, AUTHOR)

    annots = _Reopened(burn_in(paper, [mark]))

    (highlight,) = annots[2]
    assert highlight.type[1] == "Highlight"
    assert len(highlight.vertices) == 8  # one quad per rect
    for word in lines:
        assert highlight.rect.contains(word)
    text = highlight.parent.get_text("text", clip=highlight.rect)
    assert "kiến" in text and "cử" in text
    assert _near(highlight.colors["stroke"], (0.0, 1.0, 0.0), 0.01)


def test_note_keeps_the_vietnamese_text_and_its_author(paper: bytes) -> None:
    mark = PageMark(3, "note", {"x": 0.5, "y": 0.4, "text": NOTE_TEXT, "color": "#ff8800"}, AUTHOR)

    annots = _Reopened(burn_in(paper, [mark]))

    (note,) = annots[3]

    assert note.type[1] == "Text"
    assert note.info["content"] == NOTE_TEXT
    assert note.info["title"] == AUTHOR
    assert _near(note.colors["stroke"], (1.0, 0x88 / 255, 0.0), 0.01)
    assert _near(tuple(note.rect.tl), (0.5 * 595, 0.4 * 842), 1.0)


def test_marks_on_a_turned_page_land_where_the_reader_saw_them(paper: bytes) -> None:
    marks = [
        PageMark(2, "ink", {"points": [[0.1, 0.1], [0.3, 0.1]], "width": 0.01, "color": "#ff0000"}),
        PageMark(2, "note", {"x": 0.8, "y": 0.7, "text": NOTE_TEXT}, AUTHOR),
    ]

    annots = _Reopened(burn_in(paper, marks))

    ink, note = annots[2]
    page = ink.parent

    assert [tuple(_shown(page, *v)) for v in ink.vertices[0]] == [
        pytest.approx((0.1, 0.1), abs=1 / 842),
        pytest.approx((0.3, 0.1), abs=1 / 842),
    ]
    assert ink.border["width"] == pytest.approx(0.01 * 842, abs=0.01)
    shown_note = note.rect * page.rotation_matrix
    assert _near(tuple(shown_note.tl), (0.8 * 842, 0.7 * 595), 1.0)

    # And on screen: red at the top left of the landscape page, nothing red far from it.
    pixmap = page.get_pixmap(matrix=pymupdf.Matrix(0.5, 0.5))
    assert (pixmap.width, pixmap.height) == (421, 298)

    def red(x: float, y: float) -> bool:
        r, g, b = pixmap.pixel(int(x * pixmap.width), int(y * pixmap.height))
        return r > 200 and g < 80 and b < 80

    assert red(0.1, 0.1) and red(0.2, 0.1) and red(0.3, 0.1)
    assert not red(0.1, 0.9) and not red(0.9, 0.1) and not red(0.2, 0.2)


def test_counts_per_page_and_the_text_stays_readable(paper: bytes, tmp_path: Path) -> None:
    source = tmp_path / "to-trinh.pdf"
    source.write_bytes(paper)
    marks = [
        PageMark(1, "ink", {"points": [[0.2, 0.5], [0.4, 0.6]]}),
        PageMark(1, "note", {"x": 0.1, "y": 0.1, "text": NOTE_TEXT}),
        PageMark(2, "ink", {"points": [[0.5, 0.5]]}),
        PageMark(2, "highlight", {"rects": [[0.1, 0.1, 0.3, 0.15]]}),
        PageMark(2, "note", {"x": 0.5, "y": 0.5, "text": ""}),
    ]

    data = burn_in(source, marks)

    annots = _Reopened(data)
    assert {number: len(found) for number, found in annots.items()} == {1: 2, 2: 3, 3: 0}
    assert [a.type[1] for a in annots[2]] == ["Ink", "Highlight", "Text"]
    with pymupdf.open(stream=data, filetype="pdf") as document:
        assert PAGE_1_LINE in document[0].get_text()
        assert PAGE_2_LINE in document[1].get_text()
        assert "Trang 3" in document[2].get_text()


def test_marks_off_the_document_or_without_geometry_are_skipped(paper: bytes) -> None:
    marks = [
        PageMark(99, "ink", {"points": [[0.1, 0.1]]}),
        PageMark(0, "note", {"x": 0.1, "y": 0.1, "text": "trang 0"}),
        PageMark(1, "ink", {"points": []}),
        PageMark(1, "ink", {"points": [[float("nan"), 0.1], ["x", "y"], [0.2]]}),
        PageMark(1, "ink", {}),
        PageMark(1, "highlight", {"rects": []}),
        PageMark(1, "highlight", {"rects": [[0.2, 0.2, 0.2, 0.3]]}),
        PageMark(1, "note", {"text": "không có vị trí"}),
        PageMark(1, "circle", {"x": 0.5, "y": 0.5}),
    ]

    annots = _Reopened(burn_in(paper, marks))

    assert all(found == [] for found in annots.values())


def test_odd_values_are_clamped_not_refused(paper: bytes) -> None:
    marks = [
        PageMark(1, "ink", {"points": [[-0.5, 2.0, 7]], "width": -1, "color": "đỏ"}),
        PageMark(1, "ink", {"points": [[0.5, 0.5, 1.0], [0.6, 0.5, 1.0]], "width": 0.004}),
        PageMark(1, "note", {"x": 1.0, "y": 1.0, "text": NOTE_TEXT, "color": "#abc"}),
        PageMark(2, "note", {"x": 5, "y": 1.0, "text": NOTE_TEXT}),
    ]

    annots = _Reopened(burn_in(paper, marks))

    dot, pressed, note = annots[1]
    assert dot.vertices == [[(0.0, 842.0)]]  # a single point is a dot, kept in the corner
    assert dot.border["width"] == pytest.approx(0.004 * 595 * 1.5, abs=0.01)
    assert _near(dot.colors["stroke"], (0x1F / 255, 0x5F / 255, 0xA8 / 255), 0.01)
    assert pressed.border["width"] == pytest.approx(0.004 * 595 * 1.5, abs=0.01)
    assert _near(note.colors["stroke"], (0xAA / 255, 0xBB / 255, 0xCC / 255), 0.01)
    assert note.parent.rect.contains(note.rect)
    (turned,) = annots[2]
    assert turned.parent.rect.contains(turned.rect * turned.parent.rotation_matrix)
