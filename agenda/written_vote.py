"""The minutes of the count of a written vote (biên bản kiểm phiếu lấy ý kiến) as a PDF.

Between sessions a council's standing committee may put a question to its delegates in
writing; when the deadline passes the answers are counted. :class:`WrittenVoteRecord` holds
what the count's minutes say; :func:`written_vote_pdf` lays them out in the form of Decree
30/2020/NĐ-CP with the minutes' own pieces (letterhead, a vote's result block, bordered
tables, the page flow), so a vote reads the same in both records: the question and its
papers, the ballots sent, returned and valid, the result against the rule, every reply with
its time, and the signature spaces of the secretary and the chair over their names.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace

import pymupdf

from agenda.letterhead import DECREE_30, letterhead, official_pdf
from agenda.minutes import VoteOutcome, layout, table_html, vote_html
from agenda.wording import paragraphs, percent, recipient_lines, sentence


@dataclass(frozen=True)
class Reply:
    """One delegate's answer."""

    name: str
    choice: str
    """The option's label, e.g. "Tán thành"."""
    at: str
    """When it came, e.g. "09:15 ngày 12/12/2026"."""


@dataclass(frozen=True)
class WrittenVoteRecord:
    """Everything the count's minutes say, as plain data."""

    body: str
    """The council as a sentence names it, e.g. "Hội đồng nhân dân phường Ba Đình"."""
    issuer: Sequence[str]
    """The issuer block, e.g. ("HỘI ĐỒNG NHÂN DÂN", "PHƯỜNG BA ĐÌNH")."""
    number: str
    """Number and symbol, e.g. "3/BB-HĐND" ("Số: " is added)."""
    place: str
    """The locality of the date line, e.g. "Ba Đình"."""
    date: str
    """The day of the count, e.g. "20 tháng 12 năm 2026" ("ngày " is added)."""
    title: str
    """What is asked, e.g. "Điều chỉnh kế hoạch đầu tư công năm 2026"."""
    question: str
    """The question as the chair wrote it; one paragraph per line."""
    papers: Sequence[str]
    """The papers sent with it, one line each, e.g. "Tờ trình số 12/TTr-UBND (4 trang)"."""
    sent_at: str
    """When it was sent, e.g. "08 giờ 00 phút, ngày 12 tháng 12 năm 2026"."""
    deadline: str
    """The deadline for answers, written as :attr:`sent_at`."""
    counted_at: str
    """When the answers were counted, written as :attr:`sent_at`."""
    sent: int
    """Ballots sent: one per delegate asked."""
    returned: int
    valid: int
    outcome: VoteOutcome
    """The result against the rule, as the minutes of a session print a vote."""
    replies: Sequence[Reply]
    silent: Sequence[str]
    """Delegates who did not answer by the deadline."""
    chair: str
    secretary: str
    signer_titles: Sequence[str] = ("CHỦ TỌA",)
    """The chair's side, e.g. ("TM. THƯỜNG TRỰC HĐND", "CHỦ TỊCH")."""
    delegates: str = "đại biểu"
    """What the council calls its members: "đại biểu", or "thành viên" in a committee."""
    recipients: Sequence[str] = ()
    draft: bool = False
    version: int = 1

    def to_dict(self) -> dict:
        """Plain JSON-able data, as the frozen record keeps it."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> WrittenVoteRecord:
        given = {key: value for key, value in data.items() if key in cls.__dataclass_fields__}
        outcome = dict(given["outcome"])
        outcome["tally"] = tuple(tuple(row) for row in outcome.get("tally", ()))
        outcome["named"] = tuple(tuple(row) for row in outcome.get("named", ()))
        given["outcome"] = VoteOutcome(**outcome)
        given["replies"] = tuple(Reply(**row) for row in given.get("replies", ()))
        for key in ("issuer", "papers", "silent", "signer_titles", "recipients"):
            given[key] = tuple(given.get(key, ()))
        return cls(**given)


def written_vote_pdf(data: WrittenVoteRecord) -> bytes:
    """The count's minutes as an A4 PDF in the form of Decree 30/2020/NĐ-CP; the closing
    lines, the signatures and the recipients stay together on the last page."""
    header = letterhead(
        [(line, True) for line in data.issuer],
        f"Số: {data.number}",
        f"{data.place}, ngày {data.date}",
        form=DECREE_30,
    )
    doc = pymupdf.open("pdf", layout(_body(data), _closing(data), header.bottom))
    header.draw(doc[0])
    return official_pdf(
        doc,
        draft=data.draft,
        version=data.version,
        title=f"Biên bản kiểm phiếu lấy ý kiến: {data.title}",
        author=data.body,
        subject=subject(data),
    )


def subject(data: WrittenVoteRecord) -> str:
    return f"Kiểm phiếu lấy ý kiến {data.delegates} {data.body}"


def conclusion(data: WrittenVoteRecord) -> str:
    """The sentence that says whether the question passed, against the rule's numbers."""
    vote = data.outcome
    yes = dict(vote.tally).get("Tán thành", 0)
    share = percent(yes, vote.base)
    if vote.passed:
        return (
            f"Căn cứ kết quả kiểm phiếu, nội dung lấy ý kiến được thông qua: {yes}/{vote.base} "
            f"{data.delegates} tán thành ({share}%), đạt yêu cầu ít nhất {vote.needed}/{vote.base}."
        )
    return (
        f"Căn cứ kết quả kiểm phiếu, nội dung lấy ý kiến không được thông qua: {yes}/{vote.base} "
        f"{data.delegates} tán thành ({share}%), chưa đạt yêu cầu ít nhất "
        f"{vote.needed}/{vote.base}."
    )


def opening(data: WrittenVoteRecord) -> str:
    return (
        f"Lúc {data.counted_at}, {data.body} kiểm phiếu lấy ý kiến {data.delegates} "
        f"bằng phiếu về {data.title}."
    )


def _esc(text: str) -> str:
    return html.escape(str(text), quote=False)


def _lead(lead: str, text: str) -> str:
    return f"<p><b>{_esc(lead)}</b> {_esc(text)}</p>"


def _body(data: WrittenVoteRecord) -> str:
    missing = data.sent - data.returned
    parts = [
        '<p class="kind">BIÊN BẢN</p>',
        f'<p class="subject">{_esc(subject(data))}</p>',
        f'<p class="subject">về {_esc(data.title)}</p>',
        '<div class="rule"></div>',
        f"<p>{_esc(opening(data))}</p>",
        "<h2>I. NỘI DUNG LẤY Ý KIẾN</h2>",
        _lead("1. Nội dung:", ""),
        *(f"<p>{_esc(line)}</p>" for line in paragraphs(data.question) or ["—"]),
        _lead("2. Tài liệu gửi kèm:", "" if data.papers else "Không có."),
        *(
            f'<p class="turn">- {_esc(line)}{"." if n == len(data.papers) else ";"}</p>'
            for n, line in enumerate(data.papers, 1)
        ),
        _lead("3. Thời gian gửi phiếu:", sentence(data.sent_at)),
        _lead("4. Thời hạn trả lời:", sentence(data.deadline)),
        "<h2>II. KẾT QUẢ KIỂM PHIẾU</h2>",
        _lead("1. Số phiếu phát ra:", f"{data.sent} phiếu."),
        _lead(
            "2. Số phiếu thu về:",
            f"{data.returned}/{data.sent} phiếu ({percent(data.returned, data.sent)}%).",
        ),
        _lead(
            "3. Số phiếu hợp lệ:",
            f"{data.valid} phiếu; không hợp lệ: {data.returned - data.valid} phiếu.",
        ),
        _lead(f"4. Số {data.delegates} không gửi phiếu:", f"{missing} {data.delegates}."),
        vote_html(replace(data.outcome, named=())),
        f"<p><b>{_esc(conclusion(data))}</b></p>",
        f"<h2>III. DANH SÁCH {data.delegates.upper()} TRẢ LỜI</h2>",
        _replies(data),
    ]
    return "".join(parts)


def _replies(data: WrittenVoteRecord) -> str:
    if data.outcome.secret:
        return '<p class="note">Lấy ý kiến bằng phiếu kín: không ghi lựa chọn của từng người.</p>'
    parts = []
    if data.replies:
        rows = [(str(n), r.name, r.choice, r.at) for n, r in enumerate(data.replies, 1)]
        parts.append(
            table_html(
                ("STT", "Họ và tên", "Lựa chọn", "Thời điểm gửi phiếu"),
                rows,
                shares=(0.09, 0.41, 0.22, 0.28),
                aligns=("center", "", "", "center"),
            )
        )
    else:
        parts.append('<p class="note">Không có phiếu nào được gửi về.</p>')
    if data.silent:
        parts.append(f'<p class="label">{_esc(data.delegates.capitalize())} không gửi phiếu:</p>')
        absent = [(str(n), name, "Không gửi phiếu") for n, name in enumerate(data.silent, 1)]
        parts.append(table_html(("STT", "Họ và tên", "Ghi chú"), absent, shares=(0.09, 0.50, 0.41)))
    return "".join(parts)


def _closing(data: WrittenVoteRecord) -> str:
    def block(titles: Sequence[str], name: str) -> str:
        lines = "".join(f'<p class="sign">{_esc(title) or "&#160;"}</p>' for title in titles)
        return f'<td>{lines}<p class="signer">{_esc(name) or "&#160;"}</p></td>'

    chair = tuple(data.signer_titles)
    secretary = ("THƯ KÝ",) + ("",) * (len(chair) - 1)
    recipients = "".join(
        f'<p class="recipient">{_esc(line)}</p>' for line in recipient_lines(data.recipients)
    )
    return (
        "<p>Biên bản được lập từ các phiếu lấy ý kiến gửi trên hệ thống phòng họp không giấy./.</p>"
        '<table class="sign"><tr>'
        + block(secretary, data.secretary)
        + block(chair, data.chair)
        + "</tr></table>"
        + f'<p class="recipients-head">Nơi nhận:</p>{recipients}'
    )
