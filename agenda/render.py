"""Page images and page text: what a tablet shows and what search and highlighting read.

Functions here run in worker processes; they take paths and return bytes or plain data.
"""

from __future__ import annotations

import io
import unicodedata
from collections import OrderedDict
from pathlib import Path

import pymupdf
from PIL import Image

from agenda import fonts

# Widths a tablet may ask for; a request is served at the next bucket up, so the cache stays small.
WIDTHS = (320, 640, 960, 1280, 1600, 2048)
_OPEN_DOCUMENTS = 8
_MAX_PIXELS = 24_000_000  # a very tall narrow page must not ask for a gigabyte of pixels

_documents: OrderedDict[str, pymupdf.Document] = OrderedDict()


def width_bucket(width: int | None) -> int:
    """The smallest bucket at least `width` wide (the largest for anything bigger)."""
    if not width:
        return 1280
    return next((w for w in WIDTHS if w >= width), WIDTHS[-1])


def _open(path: Path) -> pymupdf.Document:
    """A document kept open per worker: parsing a big PDF once beats parsing it per page."""
    key = str(path)
    document = _documents.pop(key, None) or pymupdf.open(key)
    _documents[key] = document
    while len(_documents) > _OPEN_DOCUMENTS:
        _documents.popitem(last=False)[1].close()
    return document


def render_page(path: Path, page: int, width: int, watermark: str = "") -> bytes:
    """Page `page` (1-based) as a lossless WebP `width` pixels wide, with `watermark` across it."""
    pdf_page = _open(path)[page - 1]
    area = pdf_page.rect.width * pdf_page.rect.height
    zoom = min(width / pdf_page.rect.width, (_MAX_PIXELS / area) ** 0.5)
    pixmap = pdf_page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), alpha=False)
    if watermark:
        pixmap = _watermarked(pdf_page, zoom, watermark)
    image = Image.frombuffer(
        "RGB", (pixmap.width, pixmap.height), pixmap.samples_mv, "raw", "RGB", pixmap.stride, 1
    )
    out = io.BytesIO()
    # Lossless keeps text crisp; method 1 is the fast end of WebP's size/speed trade-off.
    image.save(out, "WEBP", lossless=True, quality=0, method=1)
    return out.getvalue()


def _watermarked(pdf_page: pymupdf.Page, zoom: float, text: str) -> pymupdf.Pixmap:
    """Renders the page with the reader's name repeated diagonally over it."""
    overlay = pymupdf.open()
    page = overlay.new_page(width=pdf_page.rect.width, height=pdf_page.rect.height)
    page.show_pdf_page(page.rect, pdf_page.parent, pdf_page.number)
    writer = pymupdf.TextWriter(page.rect, opacity=0.18, color=(0.7, 0.1, 0.1))
    size = max(12.0, page.rect.width / 28)
    step_y = size * 6
    y = step_y
    while y < page.rect.height + step_y:
        writer.append((size, y), text, font=fonts.font(bold=True), fontsize=size)
        y += step_y
    writer.write_text(
        page,
        morph=(page.rect.tl + (page.rect.width / 2, page.rect.height / 2), pymupdf.Matrix(-30)),
    )
    pixmap = page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), alpha=False)
    overlay.close()
    return pixmap


def page_words(path: Path, page: int) -> list[list[float | str]]:
    """Words of page `page` (1-based) as [x0, y0, x1, y1, text], normalized 0..1 to the page
    as displayed (rotation applied, y from the top), in reading order."""
    pdf_page = _open(path)[page - 1]
    width, height = pdf_page.rect.width, pdf_page.rect.height
    words = []
    for x0, y0, x1, y1, word, *_ in pdf_page.get_text("words", sort=True):
        box = pymupdf.Rect(x0, y0, x1, y1) * pdf_page.rotation_matrix
        words.append(
            [
                round(box.x0 / width, 5),
                round(box.y0 / height, 5),
                round(box.x1 / width, 5),
                round(box.y1 / height, 5),
                word,
            ]
        )
    return words


def page_facts(pdf: bytes) -> list[tuple[float, float, str]]:
    """(width, height, text) of every page in order; sizes in points, text NFC-normalized."""
    with pymupdf.open(stream=pdf, filetype="pdf") as document:
        return [
            (
                page.rect.width,
                page.rect.height,
                unicodedata.normalize("NFC", page.get_text("text", sort=True)),
            )
            for page in document
        ]


def fold(text: str) -> str:
    """Lowercase, without diacritics (đ → d), one character for one: "Ngân sách" → "ngan sach".

    Keeping the length lets a match in the folded text cut a snippet from the original.
    """
    return "".join(_fold_char(c) for c in text)


def _fold_char(char: str) -> str:
    if char in "đĐ":
        return "d"
    base = unicodedata.normalize("NFD", char)[0]
    lowered = base.lower()
    return lowered if len(lowered) == 1 else base
