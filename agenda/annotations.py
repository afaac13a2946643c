"""Delegates' annotations burned into a PDF as real PDF annotations.

Tablets send marks in the coordinates of the page *as displayed*: x and y run from 0 to 1
across ``page.rect`` (the rotated, visible rectangle), y from the top edge. PyMuPDF places
annotations in the coordinates of the unrotated page, so every point goes through
``page.derotation_matrix`` after it is scaled to ``page.rect``.

Kinds and their ``data``:

* ``ink``: ``{"points": [[x, y, pressure], ...], "width": w, "color": "#rrggbb"}``, one
  stroke; ``w`` is the pen width as a fraction of the displayed page width. PDF ink has one
  width per stroke, so the stroke is drawn ``w × page width × (0.5 + mean pressure)`` points
  wide: a missing pressure counts as 0.5, which gives exactly ``w × page width``.
* ``highlight``: ``{"rects": [[x0, y0, x1, y1], ...], "color": "#rrggbb"}``, one rect per
  line of text, all in one Highlight annotation.
* ``note``: ``{"x": x, "y": y, "text": "...", "color": "#rrggbb"}``, a sticky note whose
  icon has its top-left corner at (x, y), moved inside the page when it would stick out.

The server validates marks before they get here; this module still never fails on odd
values: coordinates are clamped to 0..1, unknown kinds, empty strokes and pages that do not
exist are skipped, and bad colours fall back to the defaults.
"""

from __future__ import annotations

import math
import string
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pymupdf

DEFAULT_COLORS = {"ink": "#1f5fa8", "highlight": "#ffd400", "note": "#ffd400"}
"""Colour of each kind when a mark carries none (or one that is not ``#rrggbb``)."""

DEFAULT_INK_WIDTH = 0.004
"""Pen width, as a fraction of the page width, when a stroke carries none."""

_INK_WIDTH_RANGE = (0.0002, 0.1)
_DEFAULT_PRESSURE = 0.5


@dataclass(frozen=True)
class PageMark:
    """One annotation to burn in: a kind and its normalized geometry on a 1-based page."""

    page: int
    kind: str
    data: dict
    author: str = ""


def burn_in(pdf: Path | bytes, marks: Sequence[PageMark]) -> bytes:
    """The PDF with each mark added as a real PDF annotation.

    ink → one Ink annotation per stroke (line width from ``width`` × page width in points,
    colour); highlight → one Highlight annotation over the mark's rects (as quads); note →
    a Text (sticky note) annotation with the text as its Unicode content. Each annotation
    has ``author`` as its title. Marks are in the displayed page's coordinates, so page
    rotation is honoured. Marks on pages that do not exist, of unknown kinds or without
    geometry are skipped. Returns compact bytes (garbage collected, deflated).
    """
    if isinstance(pdf, bytes | bytearray):
        document = pymupdf.open(stream=bytes(pdf), filetype="pdf")
    else:
        document = pymupdf.open(Path(pdf))
    with document:
        for mark in marks:
            if not isinstance(mark.page, int) or not 1 <= mark.page <= document.page_count:
                continue
            draw = _DRAWERS.get(mark.kind)
            if draw is None or not isinstance(mark.data, dict):
                continue
            page = document[mark.page - 1]  # keep the page alive while its annotation is used
            annot = draw(page, mark.data)
            if annot is None:
                continue
            annot.set_info(title=str(mark.author or ""))
            annot.update()
        return document.tobytes(garbage=3, deflate=True)


def _add_ink(page: pymupdf.Page, data: dict) -> pymupdf.Annot | None:
    points: list[pymupdf.Point] = []
    pressures: list[float] = []
    raw_points = data.get("points")
    for raw in raw_points if isinstance(raw_points, list | tuple) else ():
        point = _page_point(page, raw)
        if point is None:
            continue
        points.append(point)
        pressures.append(_pressure(raw))
    if not points:
        return None
    width = _number(data.get("width"))
    if width is None or width <= 0:
        width = DEFAULT_INK_WIDTH
    width = min(max(width, _INK_WIDTH_RANGE[0]), _INK_WIDTH_RANGE[1])
    pressure = sum(pressures) / len(pressures)
    annot = page.add_ink_annot([[(p.x, p.y) for p in points]])
    annot.set_border(width=width * page.rect.width * (0.5 + pressure))
    annot.set_colors(stroke=_color(data.get("color"), "ink"))
    return annot


def _add_highlight(page: pymupdf.Page, data: dict) -> pymupdf.Annot | None:
    quads = []
    raw_rects = data.get("rects")
    for raw in raw_rects if isinstance(raw_rects, list | tuple) else ():
        if not isinstance(raw, list | tuple) or len(raw) < 4:
            continue
        corners = [c for v in raw[:4] if (c := _unit(v)) is not None]
        if len(corners) < 4:
            continue
        x0, y0, x1, y1 = corners
        shown = pymupdf.Rect(
            _scaled(page, min(x0, x1), min(y0, y1)), _scaled(page, max(x0, x1), max(y0, y1))
        )
        if shown.is_empty:
            continue
        # Transform the quad, not the rect, so its upper-left stays where the reader's is.
        quads.append(shown.quad * page.derotation_matrix)
    if not quads:
        return None
    annot = page.add_highlight_annot(quads=quads)
    annot.set_colors(stroke=_color(data.get("color"), "highlight"))
    return annot


def _add_note(page: pymupdf.Page, data: dict) -> pymupdf.Annot | None:
    x = _unit(data.get("x"))
    y = _unit(data.get("y"))
    if x is None or y is None:
        return None
    text = data.get("text")
    text = text if isinstance(text, str) else ""
    anchor = _scaled(page, x, y)
    annot = page.add_text_annot(anchor * page.derotation_matrix, text, icon="Note")
    # PyMuPDF puts the icon's displayed top-left at the anchor; keep the whole icon visible.
    shown = annot.rect * page.rotation_matrix
    shift = pymupdf.Point(min(0.0, page.rect.x1 - shown.x1), min(0.0, page.rect.y1 - shown.y1))
    if shift.x or shift.y:
        page.delete_annot(annot)
        annot = page.add_text_annot((anchor + shift) * page.derotation_matrix, text, icon="Note")
    annot.set_colors(stroke=_color(data.get("color"), "note"))
    return annot


_DRAWERS = {"ink": _add_ink, "highlight": _add_highlight, "note": _add_note}


def _page_point(page: pymupdf.Page, raw: Any) -> pymupdf.Point | None:
    """A normalized ``[x, y, ...]`` as a point of the unrotated page, or None when unusable."""
    if not isinstance(raw, list | tuple) or len(raw) < 2:
        return None
    x, y = _unit(raw[0]), _unit(raw[1])
    if x is None or y is None:
        return None
    return _scaled(page, x, y) * page.derotation_matrix


def _scaled(page: pymupdf.Page, x: float, y: float) -> pymupdf.Point:
    """Normalized (x, y) as a point of the displayed page (``page.rect`` starts at 0, 0)."""
    return pymupdf.Point(x * page.rect.width, y * page.rect.height)


def _pressure(raw: list | tuple) -> float:
    value = _unit(raw[2]) if len(raw) > 2 else None
    return _DEFAULT_PRESSURE if value is None else value


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _unit(value: Any) -> float | None:
    """``value`` clamped to 0..1, or None when it is not a finite number."""
    number = _number(value)
    return None if number is None else min(max(number, 0.0), 1.0)


def _color(value: Any, kind: str) -> tuple[float, float, float]:
    """``#rrggbb`` (or ``#rgb``) as PDF colour components, the kind's default otherwise."""
    for text in (value, DEFAULT_COLORS[kind]):
        if not isinstance(text, str):
            continue
        digits = text.strip().removeprefix("#")
        if len(digits) == 3:
            digits = "".join(c * 2 for c in digits)
        if len(digits) == 6 and all(c in string.hexdigits for c in digits):
            red, green, blue = (int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4))
            return red, green, blue
    raise AssertionError("default colours are valid")
