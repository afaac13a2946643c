"""The conclusion notice (thông báo kết luận) of a council session as a PDF.

After a session the council tells the bodies concerned what its chair concluded on each
agenda item. :class:`NoticeData` holds what the notice says; :func:`notice_pdf` lays it out
in the form of Decree 30/2020/NĐ-CP, as the minutes are: issuer and national motto, number
and symbol, place and date, the title "THÔNG BÁO" with its summary line, one numbered
paragraph per conclusion, the signer's title and name, and "Nơi nhận".
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import pymupdf

from agenda.letterhead import (
    DECREE_30,
    body_story,
    flow,
    letterhead,
    official_pdf,
    signature_html,
)
from agenda.wording import journal_head, recipient_lines


@dataclass(frozen=True)
class Conclusion:
    """The chair's conclusion on one agenda item."""

    number: str
    """The item's number on the agenda, e.g. "3.1"."""
    title: str
    text: str
    """As the secretary wrote it; a blank line or a line break starts a new paragraph."""


@dataclass(frozen=True)
class NoticeData:
    """Everything the notice says, as plain data."""

    body: str
    """The council as the text names it, e.g. "Hội đồng nhân dân phường Ba Đình"."""
    issuer: Sequence[str]
    """The issuer block, e.g. ("HỘI ĐỒNG NHÂN DÂN", "PHƯỜNG BA ĐÌNH")."""
    number: str
    """Number and symbol, e.g. "15/TB-HĐND" ("Số: " is added)."""
    place: str
    """The locality of the date line, e.g. "Ba Đình"."""
    date: str
    """The day the notice is issued, e.g. "20 tháng 12 năm 2026" ("ngày " is added)."""
    meeting: str
    """The session, e.g. "Kỳ họp thứ ba, HĐND phường Ba Đình khóa I"."""
    held: str
    """The day the session opened, e.g. "15 tháng 12 năm 2026"."""
    venue: str
    """Where it was held, e.g. "Hội trường Ủy ban nhân dân phường"; may be empty."""
    conclusions: Sequence[Conclusion]
    signer_titles: Sequence[str]
    """E.g. ("TM. HỘI ĐỒNG NHÂN DÂN", "CHỦ TỊCH"), or ("CHỦ TỌA",)."""
    signer: str
    recipients: Sequence[str]
    """Nơi nhận, one line each."""
    draft: bool = True
    """Not a frozen version: every page says DỰ THẢO."""
    version: int = 0
    """The frozen version's number, 0 for a draft."""
    journal_seq: int = 0
    """A frozen version: the journal's last event it was made from (0 for a draft)."""
    journal_hash: str = ""
    """That event's chain hash (SHA-256 hex), printed shortened at the end."""

    def to_dict(self) -> dict:
        """Plain JSON-able data, as a frozen version keeps it."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> NoticeData:
        given = {key: value for key, value in data.items() if key in cls.__dataclass_fields__}
        given["conclusions"] = tuple(Conclusion(**row) for row in given.get("conclusions", ()))
        for key in ("issuer", "signer_titles", "recipients"):
            given[key] = tuple(given.get(key, ()))
        return cls(**given)


def notice_pdf(data: NoticeData) -> bytes:
    """The notice as an A4 PDF in the form of Decree 30/2020/NĐ-CP, in the Times-compatible
    serif; a draft says DỰ THẢO on every page, a frozen version its number at the foot."""
    header = letterhead(
        [(line, True) for line in data.issuer],
        f"Số: {data.number}",
        f"{data.place}, ngày {data.date}",
        form=DECREE_30,
    )
    story = body_story(_html(data), _CSS, DECREE_30)
    doc = pymupdf.open("pdf", flow(story, header.bottom + 6))
    header.draw(doc[0])
    return official_pdf(
        doc,
        draft=data.draft,
        version=data.version,
        title=f"Thông báo kết luận {data.meeting}",
        author=data.body,
        subject=subject(data),
    )


# ---------------------------------------------------------------------------
# Words, shared with the Word copy (agenda/docx.py)


def subject(data: NoticeData) -> str:
    """The summary line under the title."""
    return f"Kết luận của Chủ tọa tại {_lower_first(data.meeting)}"


def opening(data: NoticeData) -> str:
    where = f", tại {data.venue.rstrip('.')}" if data.venue.strip() else ""
    return (
        f"Ngày {data.held}{where}, {data.body} tổ chức {_lower_first(data.meeting)}. "
        "Sau khi nghe các báo cáo, tờ trình và ý kiến thảo luận của các đại biểu, "
        "Chủ tọa kỳ họp kết luận như sau:"
    )


def closing(data: NoticeData) -> str:
    return (
        f"Trên đây là kết luận của Chủ tọa {_lower_first(data.meeting)}, "
        f"{data.body} thông báo để các cơ quan, đơn vị và cá nhân có liên quan "
        "biết, thực hiện./."
    )


def paragraphs(text: str) -> list[str]:
    """The secretary's text as paragraphs: one per non-empty line."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def _lower_first(text: str) -> str:
    """ "Kỳ họp thứ ba" -> "kỳ họp thứ ba", as it reads inside a sentence."""
    text = text.strip()
    if text[:6].lower() == "kỳ họp":
        return text[0].lower() + text[1:]
    return text


# ---------------------------------------------------------------------------
# Layout

_CSS = """
body {font-size: 14pt; margin: 0;}
p {margin: 0 0 6pt 0; text-align: justify; text-indent: 36pt; line-height: 1.2;}
p.kind {text-align: center; text-indent: 0; font-weight: bold; margin: 10pt 0 0 0;}
p.subject {text-align: center; text-indent: 0; font-weight: bold; margin: 0 0 2pt 0;}
div.rule {border-top: 0.6pt solid black; margin: 3pt 35% 12pt 35%; height: 1pt;}
p.item {font-weight: bold; margin-top: 4pt;}
p.sign {font-size: 14pt;}
p.signer {font-size: 14pt; margin: 80pt 0 0 0;}
p.journal {text-indent: 0; text-align: left; font-size: 9pt; font-style: italic;
           margin: 12pt 0 0 0;}
"""


def _esc(text: str) -> str:
    return html.escape(str(text), quote=False)


def _html(data: NoticeData) -> str:
    parts = [
        '<p class="kind">THÔNG BÁO</p>',
        f'<p class="subject">{_esc(subject(data))}</p>',
        '<div class="rule"></div>',
        f"<p>{_esc(opening(data))}</p>",
    ]
    for n, conclusion in enumerate(data.conclusions, 1):
        parts.append(f'<p class="item">{n}. {_esc(conclusion.title.rstrip("."))}</p>')
        parts += [f"<p>{_esc(line)}</p>" for line in paragraphs(conclusion.text)]
    parts.append(f"<p>{_esc(closing(data))}</p>")
    parts.append(_signature(data))
    head = journal_head(data.journal_seq, data.journal_hash)
    if head:
        parts.append(f'<p class="journal">{_esc(head)}</p>')
    return "".join(parts)


def _signature(data: NoticeData) -> str:
    return signature_html(recipient_lines(data.recipients), data.signer_titles, data.signer)
