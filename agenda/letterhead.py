"""The form of a Vietnamese administrative document, shared by the minutes and the demo
papers: the A4 page and its margins (those of Decree 30/2020/NĐ-CP), the letterhead on the
first page (issuer, national motto, number and date line), page numbers, the DỰ THẢO mark,
and the CSS of what both put in the body (bordered tables, signatures).

A :class:`Form` says in which typeface and sizes: :data:`PLAIN` (Noto Sans, 12 pt, "Trang
x/y" at the foot) for the demo papers, :data:`DECREE_30` (a Times-compatible serif at the
decree's sizes, numbers in the top margin from page 2) for the minutes.
"""

from __future__ import annotations

import html
import io
from collections.abc import Iterable
from dataclasses import dataclass, replace

import pymupdf

from agenda import fonts

PAGE = pymupdf.paper_rect("a4")
_LEFT, _RIGHT, _TOP, _BOTTOM = 85.0, 57.0, 57.0, 64.0
BODY = pymupdf.Rect(_LEFT, _TOP, PAGE.width - _RIGHT, PAGE.height - _BOTTOM)
"""The text area: the page less its margins."""
CELL_PADDING, CELL_BORDER = 4.0, 0.6
"""Left and right padding and border width of a table cell, in points."""

_PAGE_NUMBER_SIZE = 9.0


@dataclass(frozen=True)
class Form:
    """The typeface and sizes (in points) of a document's letterhead and page furniture."""

    face: fonts.Typeface = fonts.SANS
    issuer: float = 12.0
    """Issuer lines (tên cơ quan)."""
    motto: float = 12.0
    """CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM."""
    slogan: float = 12.0
    """Độc lập - Tự do - Hạnh phúc."""
    number: float = 12.0
    """Số: ..."""
    dateline: float = 12.0
    """Place and date, in italics."""
    issuer_width: float = 180.0
    """Width of the issuer's column at the left of the text area; the motto's is the rest."""
    page_number: float = _PAGE_NUMBER_SIZE

    @property
    def split(self) -> float:
        return _LEFT + self.issuer_width

    def step(self, size: float) -> float:
        """Baseline to baseline for single-spaced lines of ``size``."""
        return size * 1.25


PLAIN = Form()
DECREE_30 = Form(
    fonts.SERIF,
    issuer=13,
    motto=13,
    slogan=14,
    number=13,
    dateline=14,
    issuer_width=170,
    page_number=13,
)
"""Appendix I of Decree 30/2020/NĐ-CP: issuer and national motto 12–13 pt bold, slogan 13–14
pt bold, number 13 pt, place and date 13–14 pt italic, page numbers 13–14 pt."""


def _shared_css(face: fonts.Typeface) -> str:
    return f"* {{font-family: {face.css_family};}}\n" + _CSS


_CSS = f"""
table.grid th, table.grid td {{border: {CELL_BORDER}pt solid black; padding: 2pt {CELL_PADDING}pt;
         font-size: 10.5pt; line-height: 1.2; vertical-align: top;}}
table.grid th {{font-weight: bold; text-align: center; vertical-align: middle;}}
td.center {{text-align: center;}}
p.sign {{text-indent: 0; text-align: center; font-weight: bold; margin: 0;}}
p.signer {{text-indent: 0; text-align: center; font-weight: bold; margin: 58pt 0 0 0;}}
table.sign {{width: 100%; margin-top: 12pt;}}
table.sign td {{vertical-align: top;}}
p.recipients-head {{text-indent: 0; font-weight: bold; font-style: italic; font-size: 12pt;
         margin: 0;}}
p.recipient {{text-indent: 0; text-align: left; font-size: 11pt; margin: 0; line-height: 1.2;}}
"""


def signature_html(
    recipients: Iterable[str], titles: Iterable[str], signer: str, under_recipients: str = ""
) -> str:
    """The foot of a letter: "Nơi nhận:" and its lines (already written as the decree has
    them) at the left, over ``under_recipients`` (HTML); the signer's titles and name at the
    right (CSS classes sign and signer)."""
    lines = "".join(f'<p class="recipient">{_esc(line)}</p>' for line in recipients)
    heads = "".join(f'<p class="sign">{_esc(line)}</p>' for line in titles)
    return (
        '<table class="sign"><tr>'
        f'<td style="width: 45%"><p class="recipients-head">Nơi nhận:</p>{lines}'
        f"{under_recipients}</td>"
        f'<td style="width: 55%">{heads}<p class="signer">{_esc(signer)}</p></td>'
        "</tr></table>"
    )


def _esc(text: str) -> str:
    return html.escape(str(text), quote=False)


def body_story(
    html: str, css: str, form: Form = PLAIN, files: dict[str, bytes] | None = None
) -> pymupdf.Story:
    """A story of ``html`` in the form's embedded typeface, styled by the shared CSS, then
    ``css``; ``files`` (name: bytes) are what its ``<img src=...>`` name."""
    user_css = form.face.css() + _shared_css(form.face) + css
    archive = form.face.archive()
    for name, data in (files or {}).items():
        archive.add(data, name)
    return pymupdf.Story(html=html, user_css=user_css, archive=archive)


MAX_PAGES = 200
"""A guard against content that never finishes flowing."""


def flow(story: pymupdf.Story, top: float, max_pages: int = MAX_PAGES) -> bytes:
    """A PDF of ``story`` flowed over as many A4 pages as it needs, the first from ``top``
    (below its letterhead), the others over the whole text area."""
    buffer = io.BytesIO()
    writer = pymupdf.DocumentWriter(buffer)
    area = pymupdf.Rect(BODY.x0, top, BODY.x1, BODY.y1)
    more, pages = True, 0
    while more:
        if pages == max_pages:
            raise ValueError(f"the document does not fit in {max_pages} pages")
        device = writer.begin_page(PAGE)
        more, _ = story.place(area)
        story.draw(device)
        writer.end_page()
        area, pages = BODY, pages + 1
    writer.close()
    return buffer.getvalue()


@dataclass(frozen=True)
class _CenteredLine:
    text: str
    center_x: float
    baseline: float
    bold: bool = False
    italic: bool = False
    size: float = 12.0
    face: fonts.Typeface = fonts.SANS

    @property
    def width(self) -> float:
        return self.font.text_length(self.text, self.size)

    @property
    def font(self) -> pymupdf.Font:
        return self.face.font(self.bold, self.italic)


@dataclass(frozen=True)
class Letterhead:
    """The first-page block above the story: issuer, motto, number and date line."""

    lines: tuple[_CenteredLine, ...]
    rules: tuple[tuple[float, float, float], ...]
    """Horizontal lines as (x0, x1, y)."""
    boxes: tuple[pymupdf.Rect, ...]
    bottom: float
    """Where the block ends, a line below its last text."""

    def draw(self, page: pymupdf.Page) -> None:
        """Draw the block on the first page, before its story in reading order."""
        _draw_centered(page, self.lines, behind=True)
        for x0, x1, y in self.rules:
            page.draw_line((x0, y), (x1, y), width=0.6)
        for box in self.boxes:
            page.draw_rect(box, width=0.8)


def letterhead(
    issuer: Iterable[tuple[str, bool]],
    number: str,
    dateline: str,
    draft: bool = False,
    form: Form = PLAIN,
) -> Letterhead:
    """The letterhead: the ``issuer`` lines, given as (text, bold), over ``number`` on the
    left; the national motto over ``dateline`` on the right; ``draft`` adds "DỰ THẢO" in a
    box under the number (documents marked on every page use :func:`mark_draft` instead)."""
    left_x = (_LEFT + form.split) / 2
    right_x = (form.split + BODY.x1) / 2
    left = _issuer_lines(issuer, left_x, form)
    right = _motto_lines(right_x, form)
    rules = (_rule_under(left[-1], share=0.4), _rule_under(right[-1], share=1.0))
    row = max(left[-1].baseline, right[-1].baseline) + 2.2 * form.step(form.number)
    number_line = _CenteredLine(number, left_x, row, size=form.number, face=form.face)
    date_line = _CenteredLine(
        dateline, right_x, row, italic=True, size=form.dateline, face=form.face
    )
    lines = (*left, *right, number_line, date_line)
    below = row + form.step(form.dateline)
    if not draft:
        return Letterhead(lines, rules, (), below)
    mark = _CenteredLine(
        "DỰ THẢO", left_x, row + 1.6 * form.step(form.number), True, size=11, face=form.face
    )
    return Letterhead((*lines, mark), rules, (_box_around(mark),), mark.baseline + below - row)


def _issuer_lines(
    issuer: Iterable[tuple[str, bool]], center_x: float, form: Form
) -> list[_CenteredLine]:
    wrapped = [
        (piece, bold)
        for text, bold in issuer
        for piece in _wrap(text, form.issuer_width - 8, form.face.font(bold), form.issuer)
    ]
    first = _TOP + form.issuer
    return [
        _CenteredLine(
            text, center_x, first + i * form.step(form.issuer), bold, False, form.issuer, form.face
        )
        for i, (text, bold) in enumerate(wrapped)
    ]


def _motto_lines(center_x: float, form: Form) -> list[_CenteredLine]:
    first = _TOP + form.issuer
    return [
        _CenteredLine(
            "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
            center_x,
            first,
            True,
            False,
            form.motto,
            form.face,
        ),
        _CenteredLine(
            "Độc lập - Tự do - Hạnh phúc",
            center_x,
            first + form.step(form.slogan),
            True,
            False,
            form.slogan,
            form.face,
        ),
    ]


def _wrap(text: str, width: float, font: pymupdf.Font, size: float) -> list[str]:
    """Split a header line into lines no wider than ``width``."""
    lines = [""]
    for word in text.split():
        candidate = f"{lines[-1]} {word}".strip()
        if lines[-1] and font.text_length(candidate, size) > width:
            lines.append(word)
        else:
            lines[-1] = candidate
    return lines


def _rule_under(line: _CenteredLine, share: float) -> tuple[float, float, float]:
    half = line.width * share / 2
    return (line.center_x - half, line.center_x + half, line.baseline + line.size * 0.5)


def _box_around(line: _CenteredLine) -> pymupdf.Rect:
    half = line.width / 2 + 6
    return pymupdf.Rect(
        line.center_x - half,
        line.baseline - line.size - 2,
        line.center_x + half,
        line.baseline + line.size * 0.4,
    )


def number_pages(doc: pymupdf.Document) -> None:
    """Put "Trang x/y" at the foot of every page."""
    total = doc.page_count
    baseline = PAGE.height - _BOTTOM / 2
    for page in doc:
        text = f"Trang {page.number + 1}/{total}"
        label = _CenteredLine(text, PAGE.width / 2, baseline, size=_PAGE_NUMBER_SIZE)
        _draw_centered(page, [label])


def number_pages_on_top(doc: pymupdf.Document, form: Form = DECREE_30) -> None:
    """Put the page number centred in the top margin of every page but the first, as Decree
    30 has it."""
    baseline = _TOP - form.page_number - 2
    for page in list(doc)[1:]:
        label = _CenteredLine(
            str(page.number + 1), PAGE.width / 2, baseline, size=form.page_number, face=form.face
        )
        _draw_centered(page, [label])


def official_pdf(
    doc: pymupdf.Document, *, draft: bool, version: int, title: str, author: str, subject: str
) -> bytes:
    """A Decree 30 document finished: page numbers, DỰ THẢO on a draft or the frozen
    version's number, its metadata, fonts subset, and the same bytes for the same content."""
    number_pages_on_top(doc, DECREE_30)
    if draft:
        mark_draft(doc, DECREE_30)
    elif version:
        foot_note(doc, f"Phiên bản {version}", DECREE_30)
    doc.set_metadata(
        {
            "title": title,
            "author": author,
            "subject": subject,
            "creator": "phonghop",
            "producer": "PyMuPDF",
        }
    )
    doc.subset_fonts()
    return doc.tobytes(garbage=3, deflate=True, use_objstms=True, no_new_id=True)


def mark_draft(doc: pymupdf.Document, form: Form = DECREE_30) -> None:
    """Mark every page as a draft: "DỰ THẢO" boxed in the top margin at the right, and the
    same words across the page, light enough to read the text through them."""
    size = form.number
    for page in doc:
        line = _CenteredLine("DỰ THẢO", 0, _TOP - size - 2, True, size=size, face=form.face)
        line = replace(line, center_x=BODY.x1 - line.width / 2 - 6)
        _draw_centered(page, [line])
        page.draw_rect(_box_around(line), width=0.8)
        _watermark(page, "DỰ THẢO", form.face)


def _watermark(page: pymupdf.Page, text: str, face: fonts.Typeface) -> None:
    font = face.font(bold=True)
    size = 96.0
    centre = pymupdf.Point(PAGE.width / 2, PAGE.height / 2)
    origin = centre - (font.text_length(text, size) / 2, -size / 3)
    writer = pymupdf.TextWriter(page.rect)
    writer.append(origin, text, font=font, fontsize=size)
    turn = pymupdf.Matrix(45)
    writer.write_text(page, color=(0.6, 0.6, 0.6), opacity=0.18, morph=(centre, turn))


def foot_note(doc: pymupdf.Document, text: str, form: Form = DECREE_30) -> None:
    """A small line at the right of the bottom margin of every page, e.g. "Phiên bản 2"."""
    size = 9.0
    for page in doc:
        line = _CenteredLine(text, 0, PAGE.height - _BOTTOM / 2, size=size, face=form.face)
        _draw_centered(page, [replace(line, center_x=BODY.x1 - line.width / 2)])


def _draw_centered(
    page: pymupdf.Page, lines: Iterable[_CenteredLine], behind: bool = False
) -> None:
    """Draw single lines; ``behind`` puts them before the story in reading order."""
    # a TextWriter embeds the font without the glyph width table page.insert_font builds
    if not page.is_wrapped:
        page.wrap_contents()  # the story leaves its coordinate transform active
    writer = pymupdf.TextWriter(page.rect)
    for line in lines:
        origin = (line.center_x - line.width / 2, line.baseline)
        writer.append(origin, line.text, font=line.font, fontsize=line.size)
    writer.write_text(page, overlay=not behind)
