"""Putting one signature on a PDF: where its block goes on the page, what the block shows,
and the incremental PAdES signature itself (pyHanko). Nothing here touches the database.

The block lands over the space the form leaves for the signature: the signer's name is
found on the last page (PyMuPDF's text search) and the block fills the 80 points above it,
where the printed form leaves room for a hand signature. The seal's block sits over the
left edge of the chair's, as a seal overlaps the signature (Decree 30).
"""

from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pymupdf
import segno
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.signers.pdf_cms import Signer
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.stamp import StaticStampStyle
from pyhanko_certvalidator import ValidationContext

from agenda.fonts import SANS

GAP = 80.0  # the room the forms leave above a signer's name (p.signer's top margin)
BLOCK_WIDTH = 180.0
SEAL_SIZE = 76.0
SEAL_OVERLAP = 22.0  # how far the seal reaches into the chair's block
INK = (0.75, 0.05, 0.05)  # signature blocks are drawn in red, as Vietnamese signed PDFs are
SEAL_HEADING = "CON DẤU"
_LINE = f"font-family: {SANS.css_family}; font-size: 7.5pt; color: #bf0d0d; margin: 0 0 2pt 0;"


class PlacementError(Exception):
    """The signer's place is not on the document's last pages."""


@dataclass(frozen=True)
class Place:
    page: int  # 0-based
    box: tuple[float, float, float, float]  # PyMuPDF coordinates: x0, top, x1, bottom

    def pdf_box(self, height: float) -> tuple[int, int, int, int]:
        """The same box in PDF user space (origin at the bottom left), as pyHanko takes it."""
        x0, top, x1, bottom = self.box
        return (round(x0), round(height - bottom), round(x1), round(height - top))


@dataclass(frozen=True)
class Block:
    """What a signature's block shows."""

    heading: str  # the role as the form names it: CHỦ TỌA, THƯ KÝ, CON DẤU
    title: str  # the signer's office
    name: str
    signed_at: datetime  # on the council's clock
    url: str  # /verify/{code}, the QR code's target
    seal_image: str = ""  # a PNG; for the seal's block


def _hits(page: pymupdf.Page, text: str) -> list[pymupdf.Rect]:
    return list(page.search_for(text)) if text.strip() else []


def find_place(pdf: bytes, name: str, heading: str) -> Place:
    """The signature space of the signer named `name` under `heading`: the name's last
    appearance on the last page that has it (searching back from the end), and the room
    above it."""
    with pymupdf.open(stream=pdf, filetype="pdf") as doc:
        for index in range(doc.page_count - 1, max(-1, doc.page_count - 3), -1):
            page = doc[index]
            names = _hits(page, name)
            if names:
                anchor = max(names, key=lambda r: r.y0)
                top = anchor.y0 - GAP + 2
            else:
                headings = _hits(page, heading)
                if not headings:
                    continue
                anchor = max(headings, key=lambda r: r.y1)
                top = anchor.y1 + 4
            middle = (anchor.x0 + anchor.x1) / 2
            x0 = max(10.0, middle - BLOCK_WIDTH / 2)
            x1 = min(page.rect.width - 10, x0 + BLOCK_WIDTH)
            return Place(index, (x0, top, x1, top + GAP - 6))
    raise PlacementError(f"no {heading!r} / {name!r} on the last pages")


def bottom_right_place(pdf: bytes, margin: float = 56.0) -> Place:
    """Where Decree 30 puts the signature when the form's name is not found: the bottom
    right of the last page, over the right-hand column the signer's block takes."""
    with pymupdf.open(stream=pdf, filetype="pdf") as doc:
        index = doc.page_count - 1
        rect = doc[index].rect
    x1 = rect.width - margin
    bottom = rect.height - margin
    return Place(index, (x1 - BLOCK_WIDTH, bottom - GAP + 6, x1, bottom))


def signed_place(pdf: bytes, field_name: str) -> Place:
    """Where an earlier signature's block is: the seal goes over the chair's block wherever
    it went, even where it went because the form's name was not found."""
    with pymupdf.open(stream=pdf, filetype="pdf") as doc:
        for index in range(doc.page_count - 1, -1, -1):
            for widget in doc[index].widgets() or []:
                if widget.field_name == field_name:
                    r = widget.rect
                    return Place(index, (r.x0, r.y0, r.x1, r.y1))
    raise PlacementError(f"no signature {field_name!r}")


def seal_place(chair: Place) -> Place:
    """Over the left edge of the chair's block (the margin its lines leave free), as a seal
    overlaps the signature at its left. The seal has no QR code of its own: the chair's and
    the secretary's lead to the same document."""
    x0, top, _, bottom = chair.box
    middle = (top + bottom) / 2
    image_x0 = x0 - SEAL_SIZE + SEAL_OVERLAP
    return Place(
        chair.page,
        (image_x0, middle - SEAL_SIZE / 2, image_x0 + SEAL_SIZE, middle + SEAL_SIZE / 2),
    )


def _qr_png(url: str) -> bytes:
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=4, border=1)
    return out.getvalue()


def block_pdf(block: Block, width: float, height: float) -> bytes:
    """The block as a one-page PDF the size of its box. A person's: their lines at the left
    (after a margin the seal may cover), the QR code at the right. The seal's: the seal
    image, or a drawn ring with the council's name."""
    doc = pymupdf.open()
    page = doc.new_page(width=width, height=height)
    if block.heading == SEAL_HEADING:
        square = pymupdf.Rect(width - height, 0, width, height)
        if block.seal_image and Path(block.seal_image).is_file():
            page.insert_image(square, filename=block.seal_image, keep_proportion=True)
        else:
            centre = pymupdf.Point((square.x0 + square.x1) / 2, (square.y0 + square.y1) / 2)
            page.draw_circle(centre, height / 2 - 2, color=INK, width=2)
            page.insert_htmlbox(
                square + (8, 22, -8, -22),
                f'<p style="{_LINE} text-align: center">{_esc(block.name)}</p>',
                css=SANS.css(),
                archive=SANS.archive(),
            )
    else:
        qr = min(58.0, height - 4)
        page.draw_rect(pymupdf.Rect(0.5, 0.5, width - 0.5, height - 0.5), color=INK, width=0.8)
        page.insert_image(
            pymupdf.Rect(width - qr - 3, (height - qr) / 2, width - 3, (height + qr) / 2),
            stream=_qr_png(block.url),
        )
        when = block.signed_at.strftime("%H:%M %d/%m/%Y")
        lines = [
            ("Ký số bởi:", block.name),
            ("Chức vụ:", block.title or block.heading.capitalize()),
            ("Thời gian:", when),
        ]
        html = "".join(f"<p><b>{_esc(label)}</b> {_esc(value)}</p>" for label, value in lines)
        css = SANS.css() + f" p {{{_LINE}}}"
        text = pymupdf.Rect(SEAL_OVERLAP + 4, 6, width - qr - 6, height - 2)
        page.insert_htmlbox(text, html, css=css, archive=SANS.archive())
    data = doc.tobytes(garbage=3, deflate=True)
    doc.close()
    return data


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def sign_pdf(
    pdf: bytes,
    signer: Signer,
    field_name: str,
    place: Place,
    block: Block,
    tsa_url: str = "",
) -> bytes:
    """`pdf` with one more signature, added as an incremental update (what was signed
    before stays byte for byte)."""
    with pymupdf.open(stream=pdf, filetype="pdf") as doc:
        page_height = doc[place.page].rect.height
    x0, top, x1, bottom = place.box
    appearance = block_pdf(block, x1 - x0, bottom - top)
    with tempfile.NamedTemporaryFile(suffix=".pdf") as stamp:
        stamp.write(appearance)
        stamp.flush()
        style = StaticStampStyle.from_pdf_file(stamp.name, border_width=0)
        meta = signers.PdfSignatureMetadata(
            field_name=field_name,
            subfilter=fields.SigSeedSubFilter.PADES,
            md_algorithm="sha256",
            use_pades_lta=False,
        )
        pdf_signer = signers.PdfSigner(
            meta,
            signer=signer,
            timestamper=timestamps.HTTPTimeStamper(tsa_url) if tsa_url else None,
            stamp_style=style,
            new_field_spec=fields.SigFieldSpec(
                field_name, on_page=place.page, box=place.pdf_box(page_height)
            ),
        )
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        out = pdf_signer.sign_pdf(writer)
    return bytes(out.getvalue())


def signatures_of(pdf: bytes, trust_roots: list[Any] | None = None) -> list[dict[str, Any]]:
    """Each embedded signature: its field, whether the bytes it covers are intact and its
    signature valid, and how the document changed after it."""
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    found = []
    for embedded in reader.embedded_signatures:
        context = ValidationContext(trust_roots=trust_roots or [], allow_fetching=False)
        status = validate_pdf_signature(embedded, context)
        found.append(
            {
                "field": embedded.field_name,
                "intact": status.intact,
                "valid": status.valid,
                "trusted": status.trusted,
                "modification": status.modification_level.name if status.modification_level else "",
                "docmdp_ok": status.docmdp_ok,
                "timestamped": status.timestamp_validity is not None,
                "bottom_line": status.bottom_line,
            }
        )
    return found
