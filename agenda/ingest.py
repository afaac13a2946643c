"""Uploads become sanitized PDFs, or are refused with a reason a secretary understands.

The real type of a file is read from its first bytes, never from its name. PDFs are checked
(password, damage, page count, page size) and cleaned of everything that can act on a
reader's machine: scripts, launch and submit actions, links to other files, embedded and
attached files, XFA forms. What delegates read and use stays: text, pictures, web and page
links, comments, highlights, form values and bookmarks. JPEG and PNG pictures become a
one-page PDF; Word, Excel, PowerPoint and OpenDocument files are converted by LibreOffice
when the server has it, then checked and cleaned like any PDF.

Run :func:`ingest` through :func:`agenda.isolation.run_isolated`: a hostile file may still
make PyMuPDF or LibreOffice loop or eat memory, and only a worker process can be stopped.

Page sizes: a page up to 4A0 (1682 x 2378 mm, the largest paper size) is kept as it is; a
larger one, up to PDF's own limit of 200 inches (14400 pt) a side, is scaled down to fit
4A0 with everything on it; a page beyond PDF's limit is refused. So no page is ever larger
than 4A0, and no honest drawing is turned away.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import signal
import subprocess
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pymupdf
from pymupdf import mupdf

MAX_PAGES = 2000  # the refusal message says this number too
MAX_PAGE_PT = 14400.0  # PDF's own limit: 200 inches a side
LARGEST_PAPER_PT = (4768.0, 6741.0)  # 4A0, short side and long side
A4_PT = (595.0, 842.0)
MAX_IMAGE_PIXELS = 100_000_000  # 300-400 MB to decode; the refusal message says it too
OFFICE_TIMEOUT_S = 45.0  # keep it below the worker's time limit so soffice is always reaped
EOF_WINDOW = 2048  # a complete PDF ends with %%EOF within its last 2 KB
PROGRESS_EVERY = 100  # pages

Progress = Callable[..., None]


def N_(message: str) -> str:
    """Marks an English message for the translation catalog (see `server.i18n`)."""
    return message


class Refused(Exception):
    """Why an upload was refused.

    `code` is stable (for the API): "not_pdf" | "encrypted" | "damaged" | "empty" |
    "too_many_pages" | "page_too_large" | "office_unavailable" | "office_failed" |
    "unsupported" | "image_unreadable". `message` is a plain English sentence for a
    secretary, with no placeholders, and the msgid to translate it by. `params` holds the
    facts behind it (e.g. the page count) for callers that want to show them.
    """

    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.params = params

    def __reduce__(self) -> tuple[Any, ...]:
        return (_refused, (self.code, self.message, self.params))


def _refused(code: str, message: str, params: dict[str, Any]) -> Refused:
    return Refused(code, message, **params)


@dataclass(frozen=True)
class Ingested:
    """An upload that passed: a sanitized PDF and what was learnt on the way."""

    pdf: bytes
    page_count: int
    title: str  # from the PDF's metadata, else ""
    converted_from: str  # "pdf" | "image" | "office"


NOT_PDF_BY_NAME = N_("This file is not a PDF, even though its name ends in .pdf.")
NOT_PDF = N_("This file is not a PDF, a Word or OpenDocument file, or a JPEG or PNG picture.")
UNSUPPORTED = N_(
    "This kind of file cannot be used as a meeting document. "
    "Upload a PDF, a Word or OpenDocument file, or a JPEG or PNG picture."
)
MACROS = N_(
    "This document contains macros, which are not allowed. "
    "Save it as an ordinary Word document or as PDF and upload that."
)
EMPTY_FILE = N_("This file is empty. Upload it again.")
NO_PAGES = N_("This PDF has no pages. Check that you chose the right file.")
PDF_PASSWORD = N_("This PDF is protected by a password. Remove the password and upload it again.")
OFFICE_PASSWORD = N_(
    "This document is protected by a password. Remove the password and upload it again."
)
DAMAGED = N_(
    "This PDF is damaged or incomplete (perhaps the upload was cut short). "
    "Save it again from the original program and upload it again."
)
TOO_MANY_PAGES = N_(
    "This document has more than 2000 pages, too many for one meeting document. "
    "Split it into smaller files and upload them one by one."
)
PAGE_TOO_LARGE = N_(
    "A page of this document is more than 5 metres wide or high, which no paper is. "
    "Print it again to PDF on A4 or A3 paper and upload that."
)
IMAGE_TOO_LARGE = N_(
    "This picture is too large (more than 100 million pixels). "
    "Save it at a smaller size and upload it again."
)
IMAGE_UNREADABLE = N_(
    "This picture is damaged and cannot be read. Save it again and upload the new file."
)
OFFICE_UNAVAILABLE = N_(
    "Word and OpenDocument files need LibreOffice on the server; "
    "save the file as PDF and upload that."
)
OFFICE_FAILED = N_(
    "This document could not be turned into a PDF. "
    "Save it as PDF from Word or LibreOffice and upload that."
)


def ingest(data: bytes, filename: str, progress: Progress | None = None) -> Ingested:
    """Turns an upload into a sanitized PDF or raises :class:`Refused`.

    The type comes from the bytes (magic numbers); `filename` only picks the wording of a
    refusal. `progress`, if given, is called with ("opening",), ("checking pages", done,
    total) every 100 pages and at the end, then ("cleaning",).
    """
    report = progress or _ignore
    kind = detect_kind(data)
    if kind == "pdf":
        return _ingest_pdf(data, "pdf", report)
    if kind in ("png", "jpeg"):
        return _ingest_pdf(_picture_to_pdf(data), "image", report)
    if kind in OFFICE_KINDS:
        return _ingest_pdf(_office_to_pdf(data, kind), "office", report)
    raise _refusal_for(kind, filename)


def _ignore(*_: Any) -> None:
    pass


def _refusal_for(kind: str, filename: str) -> Refused:
    if kind == "empty":
        return Refused("empty", EMPTY_FILE)
    if kind == "office-encrypted":
        return Refused("encrypted", OFFICE_PASSWORD)
    if kind == "office-macros":
        return Refused("unsupported", MACROS)
    if kind == "unsupported":
        return Refused("unsupported", UNSUPPORTED)
    if filename.strip().lower().endswith(".pdf"):
        return Refused("not_pdf", NOT_PDF_BY_NAME)
    return Refused("not_pdf", NOT_PDF)


# ---------------------------------------------------------------------------
# What a file really is


OFFICE_KINDS = ("docx", "xlsx", "pptx", "odt", "ods", "odp", "doc", "xls", "ppt", "rtf")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OOXML_MAIN_TYPES = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": "xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": "pptx",
}
_OOXML_MACROS = re.compile(r"macroEnabled|vbaProject", re.IGNORECASE)
_ODF_TYPES = {
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.oasis.opendocument.presentation": "odp",
}
# Names of the main stream in the directory of an OLE (MS Office 97-2003) file, in UTF-16.
_OLE_STREAMS = {
    "WordDocument": "doc",
    "Workbook": "xls",
    "Book": "xls",
    "PowerPoint Document": "ppt",
}
_OTHER_KNOWN_MAGIC = (
    b"GIF8",  # GIF
    b"II*\x00",  # TIFF
    b"MM\x00*",  # TIFF
    b"Rar!",
    b"7z\xbc\xaf",
    b"\x1f\x8b",  # gzip
)
_MAX_ZIP_MEMBER = 4 * 1024 * 1024  # [Content_Types].xml and mimetype are tiny


def detect_kind(data: bytes) -> str:
    """What the bytes are: "pdf", "png", "jpeg", an office kind (see OFFICE_KINDS, also the
    extension LibreOffice gets), "office-encrypted", "office-macros", "empty",
    "unsupported" (a known file type we do not take) or "unknown"."""
    if not data:
        return "empty"
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    if data.startswith(_OLE_MAGIC):
        return _ole_kind(data)
    if data.startswith(b"{\\rtf"):
        return "rtf"
    if (data[:4] == b"RIFF" and data[8:12] == b"WEBP") or data.startswith(_OTHER_KNOWN_MAGIC):
        return "unsupported"
    return "unknown"


def _zip_kind(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            content_types = _small_member(archive, "[Content_Types].xml")
            mimetype = _small_member(archive, "mimetype")
    except (zipfile.BadZipFile, OSError, RuntimeError, ValueError, EOFError):
        return "unsupported"
    if content_types is not None:
        if _OOXML_MACROS.search(content_types):
            return "office-macros"
        for content_type, kind in _OOXML_MAIN_TYPES.items():
            if content_type in content_types:
                return kind
    if mimetype is not None:
        return _ODF_TYPES.get(mimetype.strip(), "unsupported")
    return "unsupported"


def _small_member(archive: zipfile.ZipFile, name: str) -> str | None:
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    if info.file_size > _MAX_ZIP_MEMBER:
        return None
    return archive.read(info).decode("utf-8", errors="replace")


def _ole_kind(data: bytes) -> str:
    if "EncryptedPackage".encode("utf-16-le") in data:
        return "office-encrypted"  # a password-protected .docx/.xlsx/.pptx
    for stream, kind in _OLE_STREAMS.items():
        if stream.encode("utf-16-le") + b"\0\0" in data:
            return kind
    return "unsupported"


# ---------------------------------------------------------------------------
# PDF: check, then clean


def _ingest_pdf(data: bytes, converted_from: str, report: Progress) -> Ingested:
    report("opening")
    with _open_pdf(data) as doc:
        _check_pages(doc, report)
        report("cleaning")
        pdf = _cleaned(doc)
        title = _title_of(doc)
        page_count = doc.page_count
    with _open_pdf(pdf) as reopened:
        if reopened.page_count != page_count:
            raise Refused("damaged", DAMAGED)
    return Ingested(pdf=pdf, page_count=page_count, title=title, converted_from=converted_from)


def _open_pdf(data: bytes) -> pymupdf.Document:
    """Opens a PDF that is whole, readable and not locked by a password."""
    if b"%%EOF" not in data[-EOF_WINDOW:]:
        raise Refused("damaged", DAMAGED)
    try:
        doc = pymupdf.open(stream=data, filetype="pdf")
    except Exception as error:
        raise _memory_or(error, Refused("damaged", DAMAGED)) from error
    if doc.needs_pass or doc.is_encrypted:
        doc.close()
        raise Refused("encrypted", PDF_PASSWORD)
    if doc.is_repaired:
        doc.close()
        raise Refused("damaged", DAMAGED)
    return doc


def _memory_or(error: Exception, refusal: Refused) -> Exception:
    """`refusal` for an error of MuPDF's, but MemoryError when it ran out of memory (MuPDF
    reports that as an error of its own; the worker must see MemoryError)."""
    if isinstance(error, MemoryError | Refused):
        return error
    text = str(error).lower()
    if "malloc" in text or "out of memory" in text:
        return MemoryError(str(error))
    return refusal


def _check_pages(doc: pymupdf.Document, report: Progress) -> None:
    total = doc.page_count
    if total == 0:
        raise Refused("empty", NO_PAGES)
    if total > MAX_PAGES:
        raise Refused("too_many_pages", TOO_MANY_PAGES, pages=total, limit=MAX_PAGES)
    for number in range(total):
        if number % PROGRESS_EVERY == 0 and number:
            report("checking pages", number, total)
        try:
            page = doc.load_page(number)
            page.get_text()
            box = page.mediabox
        except Exception as error:
            raise _memory_or(error, Refused("damaged", DAMAGED)) from error
        if max(box.width, box.height) > MAX_PAGE_PT:
            raise Refused("page_too_large", PAGE_TOO_LARGE, page=number + 1)
    if doc.is_repaired:  # MuPDF repairs lazily, when an object is not where the file says
        raise Refused("damaged", DAMAGED)
    report("checking pages", total, total)


def _cleaned(doc: pymupdf.Document) -> bytes:
    """The document with oversized pages scaled and active content removed, saved anew."""
    try:
        _scale_oversized_pages(doc)
        _sanitize(doc)
        return doc.tobytes(garbage=3, deflate=True, clean=True, encryption=pymupdf.PDF_ENCRYPT_NONE)
    except Exception as error:  # MuPDF choked on an object it could open but not rewrite
        raise _memory_or(error, Refused("damaged", DAMAGED)) from error


_TITLE_PREFIX = re.compile(r"^Microsoft (Word|Excel|PowerPoint) - ", re.IGNORECASE)
_FILE_NAME_TITLE = re.compile(r"\.(docx?|xlsx?|pptx?|od[tsp]|rtf|pdf)$", re.IGNORECASE)


def _title_of(doc: pymupdf.Document) -> str:
    """The title in the PDF's metadata, without the "Microsoft Word - " that printing adds;
    "" when there is none or when it is only a file name."""
    title = " ".join((doc.metadata or {}).get("title", "").split())
    title = _TITLE_PREFIX.sub("", title)
    if _FILE_NAME_TITLE.search(title):
        return ""
    return title[:500]


# Scaling pages larger than any paper


def _scale_oversized_pages(doc: pymupdf.Document) -> None:
    short, long = LARGEST_PAPER_PT
    for page in doc:
        box = page.mediabox  # PDF coordinates
        if box.is_empty:
            continue
        scale = min(1.0, short / min(box.width, box.height), long / max(box.width, box.height))
        if scale < 1.0:
            _scale_page(doc, page, scale, (box.x0, box.y0))


def _scale_page(
    doc: pymupdf.Document, page: pymupdf.Page, scale: float, origin: tuple[float, float]
) -> None:
    """Shrinks the page and all it shows by `scale`, moving `origin` to (0, 0)."""
    pdf = mupdf.pdf_document_from_fz_document(doc.this)
    page_obj = mupdf.pdf_load_object(pdf, page.xref)
    for name in ("MediaBox", "CropBox", "BleedBox", "TrimBox", "ArtBox"):
        box = mupdf.pdf_dict_gets_inheritable(page_obj, name)
        if mupdf.pdf_is_array(box) and mupdf.pdf_array_len(box) == 4:
            copy = mupdf.pdf_copy_array(box)
            _scale_points(copy, scale, origin)
            mupdf.pdf_dict_puts(page_obj, name, copy)
    annots = mupdf.pdf_dict_gets(page_obj, "Annots")
    for i in range(mupdf.pdf_array_len(annots) if mupdf.pdf_is_array(annots) else 0):
        annot = mupdf.pdf_array_get(annots, i)
        for key in ("Rect", "QuadPoints", "Vertices", "L", "CL", "InkList"):
            _scale_points(mupdf.pdf_dict_gets(annot, key), scale, origin)
    dx, dy = -origin[0] * scale, -origin[1] * scale
    _wrap_contents(doc, page, f"q {scale:.6f} 0 0 {scale:.6f} {dx:.4f} {dy:.4f} cm\n".encode())


def _scale_points(array: Any, scale: float, origin: tuple[float, float]) -> None:
    """Scales the x y x y ... numbers of a (possibly nested) array in place."""
    if not mupdf.pdf_is_array(array):
        return
    numbers = list(_numbers_in(array))
    for index, (owner, position, value) in enumerate(numbers):
        moved = (value - origin[index % 2]) * scale
        mupdf.pdf_array_put_real(owner, position, moved)


def _numbers_in(array: Any) -> Iterator[tuple[Any, int, float]]:
    for position in range(mupdf.pdf_array_len(array)):
        item = mupdf.pdf_array_get(array, position)
        if mupdf.pdf_is_number(item):
            yield array, position, mupdf.pdf_to_real(item)
        elif mupdf.pdf_is_array(item):
            yield from _numbers_in(item)


def _wrap_contents(doc: pymupdf.Document, page: pymupdf.Page, prefix: bytes) -> None:
    parts = [_new_stream(doc, prefix), *page.get_contents(), _new_stream(doc, b"\nQ\n")]
    doc.xref_set_key(page.xref, "Contents", "[" + " ".join(f"{x} 0 R" for x in parts) + "]")


def _new_stream(doc: pymupdf.Document, content: bytes) -> int:
    xref = doc.get_new_xref()
    doc.update_object(xref, "<<>>")
    doc.update_stream(xref, content)
    return xref


# Removing active content


# Annotations that exist to play media, run 3D scripts or carry files: nothing a delegate
# reads, all of them ways in. Comments, highlights, links, stamps and form fields stay.
_RISKY_ANNOTATIONS = {
    pymupdf.PDF_ANNOT_FILE_ATTACHMENT,
    pymupdf.PDF_ANNOT_SOUND,
    pymupdf.PDF_ANNOT_MOVIE,
    pymupdf.PDF_ANNOT_SCREEN,
    pymupdf.PDF_ANNOT_RICH_MEDIA,
    pymupdf.PDF_ANNOT_3D,
}
# Keys removed from every dictionary: automatic actions (document open, page open, field
# events), scripts, files embedded in the document or in annotations, XFA forms.
_DROPPED_KEYS = ("OpenAction", "AA", "JS", "JavaScript", "EmbeddedFiles", "EF", "AF", "XFA")
# Keys whose value is an action (or, for /Next, one or several).
_ACTION_KEYS = ("A", "PA", "Next")
_SAFE_NAMED_ACTIONS = {"NextPage", "PrevPage", "FirstPage", "LastPage"}
_SAFE_URI_SCHEMES = {"http", "https", "mailto", "tel"}
_URI_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):")
_INVISIBLE = re.compile(r"[\x00-\x20\x7f]")  # browsers drop these inside a URL's scheme


def _sanitize(doc: pymupdf.Document) -> None:
    _delete_risky_annotations(doc)
    _scrub(doc)
    _remove_actions(doc)


def _scrub(doc: pymupdf.Document) -> None:
    """PyMuPDF's scrub, keeping everything a delegate reads or an author meant to keep."""
    doc.scrub(
        attached_files=True,  # empties files attached to annotations (deleted before anyway)
        clean_pages=False,  # rewriting content streams is done once, when saving (clean=True)
        embedded_files=True,  # files embedded in the document
        hidden_text=False,  # would redact invisible text: the OCR layer of every scan
        javascript=True,  # blanks script actions kept as objects of their own
        metadata=False,  # the title and author are what the agenda shows
        redactions=False,  # applying pending redactions destroys content irreversibly
        redact_images=0,
        remove_links=False,  # links are for delegates; unsafe actions go in _remove_actions
        reset_fields=False,  # filled-in form values are part of the paper
        reset_responses=False,  # would delete replies in reviewers' comment threads
        thumbnails=True,  # page thumbnails may show anything, not the page
        xml_metadata=True,  # XMP keeps editing history and old identifiers
    )


def _delete_risky_annotations(doc: pymupdf.Document) -> None:
    for page in doc:
        risky = [annot.xref for annot in page.annots() if annot.type[0] in _RISKY_ANNOTATIONS]
        for xref in risky:
            page.delete_annot(page.load_annot(xref))


def _remove_actions(doc: pymupdf.Document) -> None:
    """Drops every automatic action and script, and empties every action that is not a jump
    to a page, a web or mail link or a page-turning command, wherever it is in the file."""
    pdf = mupdf.pdf_document_from_fz_document(doc.this)
    for xref in range(1, doc.xref_length()):
        try:
            obj = mupdf.pdf_load_object(pdf, xref)
        except Exception:
            continue  # a free or unreadable entry; nothing refers to it usefully
        for container in _direct_containers(obj):
            if mupdf.pdf_is_dict(container):
                _clean_dictionary(container)


def _direct_containers(obj: Any) -> Iterator[Any]:
    """`obj` and the dictionaries and arrays written inside it (not those it refers to:
    each of those is an object of its own, visited in turn)."""
    todo = [obj]
    while todo:
        container = todo.pop()
        yield container
        todo += [
            item
            for item in _items_of(container)
            if not mupdf.pdf_is_indirect(item)
            and (mupdf.pdf_is_dict(item) or mupdf.pdf_is_array(item))
        ]


def _items_of(container: Any) -> list[Any]:
    if mupdf.pdf_is_dict(container):
        count = mupdf.pdf_dict_len(container)
        return [mupdf.pdf_dict_get_val(container, i) for i in range(count)]
    if mupdf.pdf_is_array(container):
        count = mupdf.pdf_array_len(container)
        return [mupdf.pdf_array_get(container, i) for i in range(count)]
    return []


def _clean_dictionary(dictionary: Any) -> None:
    for key in _DROPPED_KEYS:
        mupdf.pdf_dict_dels(dictionary, key)
    if mupdf.pdf_to_name(mupdf.pdf_dict_gets(dictionary, "Type")) == "Action":
        _disarm_if_unsafe(dictionary)
    for key in _ACTION_KEYS:
        value = mupdf.pdf_dict_gets(dictionary, key)
        if mupdf.pdf_is_array(value):
            for i in range(mupdf.pdf_array_len(value)):
                _disarm_if_unsafe(mupdf.pdf_array_get(value, i))
        else:
            _disarm_if_unsafe(value)


def _disarm_if_unsafe(action: Any) -> None:
    """Empties an action dictionary (a reader then does nothing) unless it is safe."""
    if not mupdf.pdf_is_dict(action) or _is_safe_action(action):
        return
    while mupdf.pdf_dict_len(action):
        mupdf.pdf_dict_del(action, mupdf.pdf_dict_get_key(action, 0))


def _is_safe_action(action: Any) -> bool:
    kind = mupdf.pdf_to_name(mupdf.pdf_dict_gets(action, "S"))
    if kind == "URI":
        return _is_safe_uri(mupdf.pdf_to_text_string(mupdf.pdf_dict_gets(action, "URI")))
    if kind == "Named":
        return mupdf.pdf_to_name(mupdf.pdf_dict_gets(action, "N")) in _SAFE_NAMED_ACTIONS
    return kind in ("GoTo", "")  # a jump within the document, or no action at all


def _is_safe_uri(uri: str) -> bool:
    scheme = _URI_SCHEME.match(_INVISIBLE.sub("", uri).lower())
    return scheme is None or scheme.group(1) in _SAFE_URI_SCHEMES


# ---------------------------------------------------------------------------
# Pictures


def _picture_to_pdf(data: bytes) -> bytes:
    """One page the shape of the picture (turned upright as the camera says), as large as
    fits A4 portrait or landscape, with the picture at its full resolution."""
    width, height = _picture_size(data)
    if width * height > MAX_IMAGE_PIXELS:
        raise Refused("page_too_large", IMAGE_TOO_LARGE, pixels=width * height)
    try:
        with pymupdf.open(stream=data) as picture:
            upright = pymupdf.open(stream=picture.convert_to_pdf(), filetype="pdf")
        with upright, pymupdf.open() as out:
            bounds = upright[0].rect
            page = out.new_page(**_fit_a4(bounds.width, bounds.height))
            page.show_pdf_page(page.rect, upright, 0)
            return out.tobytes(garbage=3, deflate=True)
    except Exception as error:
        raise _memory_or(error, Refused("image_unreadable", IMAGE_UNREADABLE)) from error


def _picture_size(data: bytes) -> tuple[int, int]:
    """Width and height in pixels, read from the header without decoding the picture."""
    try:
        image = mupdf.fz_new_image_from_buffer(mupdf.fz_new_buffer_from_copied_data(data))
    except Exception as error:
        if "overflow" in str(error):
            raise Refused("page_too_large", IMAGE_TOO_LARGE) from error
        raise _memory_or(error, Refused("image_unreadable", IMAGE_UNREADABLE)) from error
    return image.w(), image.h()


def _fit_a4(width: float, height: float) -> dict[str, float]:
    short, long = A4_PT
    paper_w, paper_h = (long, short) if width > height else (short, long)
    scale = min(paper_w / width, paper_h / height)
    return {"width": width * scale, "height": height * scale}


# ---------------------------------------------------------------------------
# Word, Excel, PowerPoint and OpenDocument files


def office_program() -> str | None:
    """The LibreOffice program on this server's PATH, or None."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def _office_to_pdf(data: bytes, kind: str) -> bytes:
    program = office_program()
    if program is None:
        raise Refused("office_unavailable", OFFICE_UNAVAILABLE)
    with tempfile.TemporaryDirectory(prefix="phonghop-office-") as scratch:
        work = Path(scratch)
        source = work / f"upload.{kind}"  # LibreOffice reads the type from the extension too
        source.write_bytes(data)
        out = work / "out"
        command = [
            program,
            f"-env:UserInstallation={(work / 'profile').as_uri()}",
            "--headless",
            "--invisible",
            "--nologo",
            "--nodefault",
            "--norestore",
            "--nolockcheck",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            str(source),
        ]
        _run_office(command, work)
        result = out / "upload.pdf"
        if not result.is_file() or result.stat().st_size == 0:
            raise Refused("office_failed", OFFICE_FAILED)
        return result.read_bytes()


def _run_office(command: list[str], home: Path) -> None:
    """Runs LibreOffice in a process group of its own and kills the whole group afterwards,
    so that no soffice.bin outlives a conversion that hung or crashed."""
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=home,
            env={**os.environ, "HOME": str(home)},
            start_new_session=True,
        )
    except OSError as error:
        raise Refused("office_failed", OFFICE_FAILED) from error
    try:
        returncode = process.wait(timeout=OFFICE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise Refused("office_failed", OFFICE_FAILED) from None
    finally:
        _kill_group(process.pid)
        process.wait()
    if returncode != 0:
        raise Refused("office_failed", OFFICE_FAILED)


def _kill_group(group: int) -> None:
    try:
        os.killpg(group, signal.SIGKILL)
    except ProcessLookupError:
        pass
