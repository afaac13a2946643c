"""The invitation (giấy mời) to a council meeting as a PDF, one per invitee.

:class:`InvitationData` holds what the letter says; :func:`invitation_pdf` lays it out in the
form of Decree 30/2020/NĐ-CP, as the minutes and the conclusion notice are: issuer and
national motto, number and symbol, place and date, the title "GIẤY MỜI" with its summary
line, "Kính gửi:", the time, place and agenda of the meeting, the request to reply, the
signer's title and name, "Nơi nhận" — and the QR code of the invitation's own address, which
opens the reply page and is read at the door. The address is also the PDF's keywords.
"""

from __future__ import annotations

import html
import io
from collections.abc import Sequence
from dataclasses import dataclass

import pymupdf
import segno

from agenda.letterhead import (
    DECREE_30,
    body_story,
    flow,
    letterhead,
    official_pdf,
    signature_html,
)
from agenda.wording import plain_date, recipient_lines, sentence

TITLE = "GIẤY MỜI"
_QR_FILE = "qr.png"


@dataclass(frozen=True)
class InvitationData:
    """Everything one giấy mời says, as plain data."""

    issuer: Sequence[str]
    """The issuer block, e.g. ("HỘI ĐỒNG NHÂN DÂN", "PHƯỜNG BA ĐÌNH")."""
    number: str
    """Number and symbol, e.g. "15/GM-HĐND" ("Số: " is added); may be blank ("Số: /GM-...")."""
    place: str
    """The locality of the date line, e.g. "Ba Đình"."""
    date: str
    """The day it is issued, e.g. "05 tháng 12 năm 2026"."""
    inviter: str
    """Who invites, as the sentence names it, e.g. "Thường trực Hội đồng nhân dân phường
    Ba Đình"."""
    meeting: str
    """The meeting, e.g. "Kỳ họp thứ ba, HĐND phường Ba Đình khóa I"."""
    invitee: str
    """The person's name."""
    invitee_title: str
    """Their office, e.g. "Đại biểu HĐND phường"; may be empty."""
    time: str
    """When it starts, e.g. "08 giờ 00 phút, thứ Hai, ngày 15 tháng 12 năm 2026"."""
    venue: str
    items: Sequence[tuple[str, str]]
    """The agenda: (number, title)."""
    reply_by: str
    """Until when replies are taken, e.g. "17 giờ 00 phút ngày 14 tháng 12 năm 2026"."""
    url: str
    """The invitation's address: the QR code and the reply link."""
    signer_titles: Sequence[str]
    """E.g. ("TM. THƯỜNG TRỰC HĐND", "CHỦ TỊCH")."""
    signer: str
    recipients: Sequence[str] = ("Như trên", "Lưu: VT")


def invitation_pdf(data: InvitationData) -> bytes:
    """The giấy mời as an A4 PDF in the form of Decree 30/2020/NĐ-CP with the QR code of
    ``data.url``; the same bytes for the same data."""
    header = letterhead(
        [(line, True) for line in data.issuer],
        f"Số: {data.number}",
        f"{data.place}, ngày {plain_date(data.date)}",
        form=DECREE_30,
    )
    story = body_story(_html(data), _CSS, DECREE_30, files={_QR_FILE: qr_png(data.url)})
    doc = pymupdf.open("pdf", flow(story, header.bottom + 6))
    header.draw(doc[0])
    doc.set_metadata({"keywords": data.url})  # official_pdf keeps what it does not set
    return official_pdf(
        doc,
        draft=False,
        version=0,
        title=f"Giấy mời: {data.meeting}",
        author=" ".join(data.issuer),
        subject=f"Kính gửi: {salutation(data)}",
    )


def qr_png(url: str) -> bytes:
    """The QR code of ``url`` (error correction M, a quiet zone of two modules) as a PNG."""
    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(out, kind="png", scale=8, border=2)
    return out.getvalue()


# ---------------------------------------------------------------------------
# Words


def salutation(data: InvitationData) -> str:
    """ "Ông/Bà Nguyễn Văn An, Đại biểu HĐND phường"."""
    title = f", {data.invitee_title}" if data.invitee_title.strip() else ""
    return f"Ông/Bà {data.invitee}{title}"


def invitation_text(data: InvitationData) -> list[str]:
    """The letter's paragraphs under "Kính gửi", also the e-mail's text."""
    lines = [
        f"{data.inviter} trân trọng kính mời Ông/Bà đến dự {_inside(data.meeting)}.",
        f"Thời gian: {data.time.rstrip('.')}.",
    ]
    if data.venue.strip():
        lines.append(f"Địa điểm: {sentence(data.venue)}")
    if data.items:
        lines.append("Nội dung:")
        lines += [f"{number}. {sentence(title)}" for number, title in data.items]
    lines += [
        "Tài liệu của cuộc họp được đăng trên Hệ thống phòng họp không giấy; đề nghị Ông/Bà "
        "đăng nhập để nghiên cứu trước.",
        f"Đề nghị Ông/Bà xác nhận tham dự (trực tiếp, trực tuyến, hoặc vắng mặt và nêu lý do) "
        f"trước {data.reply_by} bằng cách quét mã QR trên giấy mời này hoặc mở địa chỉ: "
        f"{data.url}",
        "Khi đến dự họp, đề nghị Ông/Bà mang theo giấy mời này (mã QR dùng để điểm danh)./.",
    ]
    return lines


def _inside(text: str) -> str:
    """ "Kỳ họp thứ ba" -> "kỳ họp thứ ba", "Phiên họp ..." -> "phiên họp ...", inside a
    sentence; other names keep their capital."""
    text = text.strip().rstrip(".")
    first = text.split(" ", 1)[0].lower()
    if first in ("kỳ", "phiên", "cuộc", "hội"):
        return text[0].lower() + text[1:]
    return text


# ---------------------------------------------------------------------------
# Layout

_CSS = """
body {font-size: 13.5pt; margin: 0;}
p {margin: 0 0 3pt 0; text-align: justify; text-indent: 36pt; line-height: 1.15;}
p.kind {text-align: center; text-indent: 0; font-weight: bold; font-size: 15pt;
        margin: 6pt 0 0 0;}
p.subject {text-align: center; text-indent: 0; font-weight: bold; margin: 0 0 2pt 0;}
div.rule {border-top: 0.6pt solid black; margin: 6pt 40% 10pt 40%; height: 1pt;}
p.to {text-align: center; text-indent: 0; margin: 0 0 8pt 0;}
p.item {text-indent: 0; margin-left: 54pt; margin-bottom: 1pt;}
p.sign {font-size: 13.5pt;}
p.signer {font-size: 13.5pt; margin: 60pt 0 0 0;}
img.qr {width: 76pt; height: 76pt; margin-top: 6pt;}
p.qr {text-indent: 0; text-align: left; font-size: 9pt; font-style: italic; margin: 0;}
"""


def _esc(text: str) -> str:
    return html.escape(str(text), quote=False)


def _html(data: InvitationData) -> str:
    parts = [
        f'<p class="kind">{TITLE}</p>',
        f'<p class="subject">Dự {_esc(_inside(data.meeting))}</p>',
        '<div class="rule"></div>',
        f'<p class="to">Kính gửi: {_esc(salutation(data))}.</p>',
    ]
    numbered = {f"{number}. {sentence(title)}" for number, title in data.items}
    for line in invitation_text(data):
        css = ' class="item"' if line in numbered else ""
        parts.append(f"<p{css}>{_esc(line)}</p>")
    qr = (
        f'<img class="qr" src="{_QR_FILE}"/>'
        '<p class="qr">Quét mã để xác nhận tham dự; xuất trình khi điểm danh.</p>'
    )
    parts.append(
        signature_html(recipient_lines(data.recipients), data.signer_titles, data.signer, qr)
    )
    return "".join(parts)
