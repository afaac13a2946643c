"""The summary of opinions on a draft (bảng tổng hợp ý kiến góp ý dự thảo), as PDF and Word.

Before a deadline the council's delegates comment on passages of a draft; the drafting body
then lists who said what where. :class:`OpinionsData` holds the report as plain data;
:func:`table_rows` gives the table both copies print, so they agree word for word;
:func:`opinions_pdf` lays it out in the form of Decree 30/2020/NĐ-CP (issuer and national
motto, the title, the table, the compiler's signature) and :func:`opinions_docx` writes the
same as a Word file with the pieces of :mod:`agenda.docx`.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import pymupdf

from agenda import docx
from agenda.letterhead import DECREE_30, body_story, flow, letterhead, official_pdf
from agenda.minutes import table_html
from agenda.wording import with_title


@dataclass(frozen=True)
class OpinionRow:
    """One opinion: where, what, who and when."""

    page: str
    """The page's printed number, e.g. "3"."""
    passage: str
    """The passage it is about, as quoted from the page; may be empty (the whole page)."""
    text: str
    author: str
    title: str
    """The author's title (chức vụ), e.g. "Đại biểu HĐND phường"; may be empty."""
    when: str
    """When it was given or last changed, e.g. "16:05 ngày 08/12/2026"."""


@dataclass(frozen=True)
class OpinionsData:
    """Everything the report says, as plain data."""

    issuer: Sequence[str]
    """The issuer block, e.g. ("HỘI ĐỒNG NHÂN DÂN", "PHƯỜNG BA ĐÌNH")."""
    number: str
    """Number and symbol, e.g. "     /BTH-HĐND" ("Số: " is added)."""
    place: str
    date: str
    """The day it is made, e.g. "10 tháng 12 năm 2026" ("ngày " is added)."""
    paper: str
    """The draft's title."""
    version: int
    meeting: str
    deadline: str
    """Until when opinions were taken, e.g. "17:00 ngày 10/12/2026"."""
    opinions: Sequence[OpinionRow]
    """In the order of the pages, then of time."""
    compiler_titles: Sequence[str]
    """E.g. ("THƯ KÝ KỲ HỌP",)."""
    compiler: str


HEADINGS = ("STT", "Trang", "Đoạn được góp ý", "Nội dung góp ý", "Người góp ý", "Thời gian")
SHARES = (0.065, 0.08, 0.245, 0.30, 0.17, 0.14)
ALIGNS = ("center", "center", "left", "left", "left", "center")  # the Word copy's
_PDF_ALIGNS = ("center", "center", "", "", "", "center")  # the minutes' table: "" is left
TITLE = "BẢNG TỔNG HỢP Ý KIẾN GÓP Ý"


def subject(data: OpinionsData) -> str:
    """The line under the title: which draft."""
    version = f" (phiên bản {data.version})" if data.version > 1 else ""
    return f"Dự thảo: {data.paper}{version}"


def summary(data: OpinionsData) -> str:
    people = len({(row.author, row.title) for row in data.opinions})
    if not data.opinions:
        return f"Đến {data.deadline}, chưa có ý kiến góp ý nào đối với dự thảo."
    return (
        f"Tại {_in_sentence(data.meeting)}, dự thảo được lấy ý kiến góp ý đến {data.deadline}. "
        f"Tổng hợp {len(data.opinions)} ý kiến của {people} người góp ý, theo thứ tự trang "
        "của dự thảo:"
    )


def _in_sentence(meeting: str) -> str:
    """ "Kỳ họp thứ ba" -> "kỳ họp thứ ba", as it reads inside a sentence."""
    meeting = meeting.strip()
    return meeting[0].lower() + meeting[1:] if meeting[:6].lower() == "kỳ họp" else meeting


def table_rows(data: OpinionsData) -> list[tuple[str, ...]]:
    """The table's rows under :data:`HEADINGS`, one per opinion."""
    return [
        (
            str(n),
            row.page,
            f"“{row.passage}”" if row.passage else "(cả trang)",
            row.text,
            with_title(row.author, row.title),
            row.when,
        )
        for n, row in enumerate(data.opinions, 1)
    ]


def _dateline(data: OpinionsData) -> str:
    return f"{data.place}, ngày {data.date}" if data.place else f"Ngày {data.date}"


# ---------------------------------------------------------------------------
# PDF

_MAX_PAGES = 500

_CSS = """
body {font-size: 13pt; margin: 0;}
p {margin: 0 0 6pt 0; text-align: justify; text-indent: 36pt; line-height: 1.2;}
p.kind {text-align: center; text-indent: 0; font-weight: bold; margin: 10pt 0 0 0;}
p.subject {text-align: center; text-indent: 0; font-weight: bold; margin: 0 0 2pt 0;}
div.rule {border-top: 0.6pt solid black; margin: 3pt 35% 12pt 35%; height: 1pt;}
table.grid {border-collapse: collapse; width: 100%; margin: 4pt 0 0 0;}
table.grid th, table.grid td {font-size: 11pt;}
table.grid td {text-align: left;}
table.grid td.center {text-align: center;}
table.sign {width: 100%; margin-top: 14pt;}
table.sign td {width: 50%; vertical-align: top;}
p.signer {margin: 70pt 0 0 0;}
"""


def _esc(text: str) -> str:
    return html.escape(str(text), quote=False)


def _html(data: OpinionsData) -> str:
    rows = table_rows(data)
    table = table_html(HEADINGS, rows, SHARES, _PDF_ALIGNS) if rows else ""
    titles = "".join(f'<p class="sign">{_esc(line)}</p>' for line in data.compiler_titles)
    return (
        f'<p class="kind">{TITLE}</p>'
        f'<p class="subject">{_esc(subject(data))}</p>'
        '<div class="rule"></div>'
        f"<p>{_esc(summary(data))}</p>"
        f"{table}"
        '<table class="sign"><tr><td></td>'
        f'<td>{titles}<p class="signer">{_esc(data.compiler)}</p></td>'
        "</tr></table>"
    )


def opinions_pdf(data: OpinionsData) -> bytes:
    """The report as an A4 PDF in the form of Decree 30/2020/NĐ-CP."""
    header = letterhead(
        [(line, True) for line in data.issuer],
        f"Số: {data.number}",
        _dateline(data),
        form=DECREE_30,
    )
    story = body_story(_html(data), _CSS, DECREE_30)
    doc = pymupdf.open("pdf", flow(story, header.bottom + 6, max_pages=_MAX_PAGES))
    header.draw(doc[0])
    return official_pdf(
        doc,
        draft=False,
        version=0,
        title=f"Tổng hợp ý kiến góp ý: {data.paper}",
        author=" ".join(data.issuer),
        subject=subject(data),
    )


# ---------------------------------------------------------------------------
# Word


def opinions_docx(data: OpinionsData) -> bytes:
    """The report as a Word file, with the content of :func:`opinions_pdf`."""
    body = [
        docx.letterhead(data.issuer, data.number, _dateline(data)),
        docx.centered(TITLE, bold=True, before=360),
        docx.centered(subject(data), bold=True),
        docx.rule(round(docx.TEXT_WIDTH * 0.35)),
        docx.para(indent=0, after=0, line=120),
        docx.para(summary(data)),
    ]
    if data.opinions:
        body.append(docx.grid(HEADINGS, table_rows(data), SHARES, ALIGNS, size=11))
    # the signer at the right, as the PDF has it: an empty left column
    body.append(docx.signatures([(data.compiler_titles, data.compiler)], left=[docx.para()]))
    return docx.package(body, f"Tổng hợp ý kiến góp ý: {data.paper}", draft=False, version=0)
