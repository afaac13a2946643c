"""The form of a Vietnamese administrative document, shared by the minutes and the demo
papers: the A4 page and its margins, the letterhead on the first page (issuer, national
motto, number and date line), "Trang x/y" at the foot of every page, and the CSS of what
both put in the body (bordered tables, signatures).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pymupdf

from agenda import fonts

PAGE = pymupdf.paper_rect("a4")
_LEFT, _RIGHT, _TOP, _BOTTOM = 85.0, 57.0, 57.0, 64.0
BODY = pymupdf.Rect(_LEFT, _TOP, PAGE.width - _RIGHT, PAGE.height - _BOTTOM)
"""The text area: the page less its margins."""
CELL_PADDING, CELL_BORDER = 4.0, 0.6
"""Left and right padding and border width of a table cell, in points."""

_HEADER_SPLIT = _LEFT + 180
_LINE_STEP = 15.0
_HEADER_SIZE = 12.0
_PAGE_NUMBER_SIZE = 9.0

_CSS = f"""
* {{font-family: {fonts.CSS_FAMILY};}}
table.grid th, table.grid td {{border: {CELL_BORDER}pt solid black; padding: 2pt {CELL_PADDING}pt;
         font-size: 10.5pt; line-height: 1.2; vertical-align: top;}}
table.grid th {{font-weight: bold; text-align: center; vertical-align: middle;}}
td.center {{text-align: center;}}
p.sign {{text-indent: 0; text-align: center; font-weight: bold; margin: 0;}}
p.signer {{text-indent: 0; text-align: center; font-weight: bold; margin: 58pt 0 0 0;}}
"""


def body_story(html: str, css: str) -> pymupdf.Story:
    """A story of ``html`` in the embedded font, styled by the shared CSS, then ``css``."""
    user_css = fonts.font_css() + _CSS + css
    return pymupdf.Story(html=html, user_css=user_css, archive=fonts.font_archive())


@dataclass(frozen=True)
class _CenteredLine:
    text: str
    center_x: float
    baseline: float
    bold: bool = False
    italic: bool = False
    size: float = _HEADER_SIZE

    @property
    def width(self) -> float:
        return fonts.font(self.bold, self.italic).text_length(self.text, self.size)


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
    issuer: Iterable[tuple[str, bool]], number: str, dateline: str, draft: bool = False
) -> Letterhead:
    """The letterhead: the ``issuer`` lines, given as (text, bold), over ``number`` on the
    left; the national motto over ``dateline`` on the right; ``draft`` adds "DỰ THẢO" in a
    box under the number."""
    left_x = (_LEFT + _HEADER_SPLIT) / 2
    right_x = (_HEADER_SPLIT + BODY.x1) / 2
    left = _issuer_lines(issuer, left_x)
    right = _motto_lines(right_x)
    rules = (_rule_under(left[-1], share=0.4), _rule_under(right[-1], share=1.0))
    row = max(left[-1].baseline, right[-1].baseline) + 2.2 * _LINE_STEP
    number_line = _CenteredLine(number, left_x, row)
    date_line = _CenteredLine(dateline, right_x, row, italic=True)
    lines = (*left, *right, number_line, date_line)
    if not draft:
        return Letterhead(lines, rules, (), row + _LINE_STEP)
    mark = _CenteredLine("DỰ THẢO", left_x, row + 1.6 * _LINE_STEP, bold=True, size=11)
    return Letterhead((*lines, mark), rules, (_box_around(mark),), mark.baseline + _LINE_STEP)


def _issuer_lines(issuer: Iterable[tuple[str, bool]], center_x: float) -> list[_CenteredLine]:
    wrapped = [
        (piece, bold)
        for text, bold in issuer
        for piece in _wrap(text, _HEADER_SPLIT - _LEFT - 8, bold)
    ]
    first = _TOP + _HEADER_SIZE
    return [
        _CenteredLine(text, center_x, first + i * _LINE_STEP, bold)
        for i, (text, bold) in enumerate(wrapped)
    ]


def _motto_lines(center_x: float) -> list[_CenteredLine]:
    first = _TOP + _HEADER_SIZE
    return [
        _CenteredLine("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", center_x, first, True),
        _CenteredLine("Độc lập - Tự do - Hạnh phúc", center_x, first + _LINE_STEP, True),
    ]


def _wrap(text: str, width: float, bold: bool) -> list[str]:
    """Split a header line into lines no wider than ``width`` at the header size."""
    measure = fonts.font(bold).text_length
    lines = [""]
    for word in text.split():
        candidate = f"{lines[-1]} {word}".strip()
        if lines[-1] and measure(candidate, _HEADER_SIZE) > width:
            lines.append(word)
        else:
            lines[-1] = candidate
    return lines


def _rule_under(line: _CenteredLine, share: float) -> tuple[float, float, float]:
    half = line.width * share / 2
    return (line.center_x - half, line.center_x + half, line.baseline + 5)


def _box_around(line: _CenteredLine) -> pymupdf.Rect:
    half = line.width / 2 + 6
    return pymupdf.Rect(
        line.center_x - half, line.baseline - line.size - 2, line.center_x + half, line.baseline + 5
    )


def number_pages(doc: pymupdf.Document) -> None:
    """Put "Trang x/y" at the foot of every page."""
    total = doc.page_count
    baseline = PAGE.height - _BOTTOM / 2
    for page in doc:
        text = f"Trang {page.number + 1}/{total}"
        label = _CenteredLine(text, PAGE.width / 2, baseline, size=_PAGE_NUMBER_SIZE)
        _draw_centered(page, [label])


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
        font = fonts.font(line.bold, line.italic)
        writer.append(origin, line.text, font=font, fontsize=line.size)
    writer.write_text(page, overlay=not behind)
