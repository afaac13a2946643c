"""Realistic papers for a demo session of a People's Council (Hội đồng nhân dân).

:func:`demo_session` returns the agenda of a year-end regular session with the PDF papers
that a ward's People's Committee, the Council's committees and its Standing Board would
send to delegates: reports, submissions (tờ trình) and draft resolutions laid out like
real Vietnamese administrative documents (motto header, number and date line, numbered
sections, bordered tables, signature block, "Nơi nhận" list, page numbers).

All names, numbers and events are invented for demonstration.
"""

from __future__ import annotations

import datetime
import functools
import html
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pymupdf

from agenda.letterhead import BODY, PAGE, body_story, letterhead, number_pages
from agenda.wording import locality


@dataclass(frozen=True)
class DemoPaper:
    """One PDF document attached to an agenda item."""

    title: str
    """Human title, e.g. "Tờ trình về dự toán thu, chi ngân sách năm 2027"."""
    filename: str
    """ASCII file name, e.g. "to-trinh-du-toan-ngan-sach-2027.pdf"."""
    pdf: bytes
    """The whole PDF file."""


@dataclass(frozen=True)
class DemoItem:
    """One line of the session agenda; sub-items are numbered like "3.1"."""

    number: str
    title: str
    papers: tuple[DemoPaper, ...]


def demo_session(body: str, place: str, date: datetime.date) -> list[DemoItem]:
    """The agenda of a realistic regular session (kỳ họp thường lệ cuối năm) with 8 items,
    most of them with 1-3 papers.

    ``body`` names the council, e.g. "Hội đồng nhân dân phường Ba Đình" (a bare locality
    such as "phường Ba Đình" works too); ``place`` goes into the date line of each paper,
    e.g. "Hà Nội"; ``date`` is the first day of the session. Item "3" is split into the
    sub-items "3.1" and "3.2". The result depends only on the arguments, so calling it
    twice gives the same agenda and the same PDF bytes.
    """
    return list(_cached_session(body, place, date))


# ---------------------------------------------------------------------------
# The council and its session


_UNIT_KINDS = ("thành phố", "thị trấn", "đặc khu", "phường", "tỉnh", "xã")


@dataclass(frozen=True)
class _Council:
    locality: str
    place: str
    session_date: datetime.date

    @classmethod
    def from_body(cls, body: str, place: str, date: datetime.date) -> _Council:
        return cls(locality(body), place, date)

    @property
    def unit(self) -> str:
        """The kind of administrative unit, e.g. "phường" (used as "UBND phường")."""
        lowered = self.locality.lower()
        return next((kind for kind in _UNIT_KINDS if lowered.startswith(kind)), "địa phương")

    @property
    def council(self) -> str:
        return f"Hội đồng nhân dân {self.locality}"

    @property
    def committee(self) -> str:
        return f"Ủy ban nhân dân {self.locality}"

    @property
    def year(self) -> int:
        return self.session_date.year

    def days_before(self, days: int) -> datetime.date:
        return self.session_date - datetime.timedelta(days=days)


_TERM = "KHÓA I, KỲ HỌP THỨ TƯ"
_TERM_TEXT = "khóa I, kỳ họp thứ tư"

# dates the laws cited in the papers were passed
_LOCAL_GOVERNMENT_LAW = datetime.date(2025, 6, 16)
_BUDGET_LAW = datetime.date(2025, 6, 25)
_PUBLIC_INVESTMENT_LAW = datetime.date(2024, 11, 29)
_LAND_LAW = datetime.date(2024, 1, 18)


@dataclass(frozen=True)
class _Signature:
    lines: tuple[str, ...]
    name: str


@dataclass(frozen=True)
class _Issuer:
    header: tuple[tuple[str, bool], ...]
    """Lines of the left header block as (text, bold)."""
    full_name: str


def _committee(council: _Council) -> _Issuer:
    header = (("ỦY BAN NHÂN DÂN", True), (council.locality.upper(), True))
    return _Issuer(header, council.committee)


def _council_issuer(council: _Council) -> _Issuer:
    header = (("HỘI ĐỒNG NHÂN DÂN", True), (council.locality.upper(), True))
    return _Issuer(header, council.council)


def _economic_committee(council: _Council) -> _Issuer:
    header = (
        ("HỘI ĐỒNG NHÂN DÂN", False),
        (council.locality.upper(), False),
        ("BAN KINH TẾ - XÃ HỘI", True),
    )
    return _Issuer(header, f"Ban Kinh tế - Xã hội, {council.council}")


_COMMITTEE_CHAIR = _Signature(("TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"), "Trần Minh Đức")
_COMMITTEE_DEPUTY = _Signature(
    ("TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"), "Đỗ Thị Hương"
)
_COUNCIL_CHAIR = _Signature(("CHỦ TỊCH",), "Lê Thị Thu Hà")
_STANDING_BOARD = _Signature(("TM. THƯỜNG TRỰC HĐND", "PHÓ CHỦ TỊCH"), "Nguyễn Văn Thắng")
_ECONOMIC_CHAIR = _Signature(("TM. BAN KINH TẾ - XÃ HỘI", "TRƯỞNG BAN"), "Phạm Quốc Tuấn")


@dataclass(frozen=True)
class _Paper:
    title: str
    filename: str
    kind: str
    """The centred document type, e.g. "TỜ TRÌNH"."""
    number: str
    subject: str
    issuer: _Issuer
    issued: datetime.date
    body: str
    """HTML of everything between the subject line and the signature."""
    signature: _Signature
    recipients: tuple[str, ...]
    place: str
    addressee: str = ""
    draft: bool = False
    preamble: str = ""
    """HTML between the subject and the body, e.g. the enacting formula of a resolution."""


# ---------------------------------------------------------------------------
# Text helpers


def _money(amount: int) -> str:
    """12345 -> "12.345" (Vietnamese thousands separator)."""
    return f"{amount:,}".replace(",", ".")


def _decimal(value: float, places: int = 1) -> str:
    """98.46 -> "98,5" (Vietnamese decimal comma)."""
    return f"{value:.{places}f}".replace(".", ",")


def _percent_of(part: int, whole: int) -> str:
    return _decimal(100 * part / whole) if whole else ""


def _date_words(day: datetime.date) -> str:
    """Date as written in documents, e.g. "ngày 05 tháng 02 năm 2026".

    Days below 10 and months below 3 get a leading zero, as the style rules ask.
    """
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"ngày {day.day:02d} tháng {month} năm {day.year}"


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


# ---------------------------------------------------------------------------
# HTML building blocks for document bodies


def _heading(text: str) -> str:
    """A section heading such as "I. KẾT QUẢ ..."."""
    return f"<h2>{_esc(text)}</h2>"


def _subheading(text: str) -> str:
    """A numbered sub-heading such as "1. Về thu ngân sách"."""
    return f"<h3>{_esc(text)}</h3>"


def _paragraphs(*texts: str) -> str:
    return "".join(f"<p>{_esc(text)}</p>" for text in texts)


def _lead(lead: str, text: str) -> str:
    """A paragraph starting with a bold run, e.g. "Điều 1." in a resolution."""
    return f"<p><b>{_esc(lead)}</b> {_esc(text)}</p>"


def _italics(*texts: str) -> str:
    return "".join(f'<p class="basis">{_esc(text)}</p>' for text in texts)


def _centered_bold(*lines: str) -> str:
    return f'<p class="centered">{"<br/>".join(_esc(line) for line in lines)}</p>'


class _Strong(tuple):
    """A table row printed in bold (group and total lines)."""


@dataclass(frozen=True)
class _Column:
    heading: str
    align: str = "left"


def _table(
    caption: str,
    columns: Sequence[_Column],
    rows: Iterable[Sequence[str]],
    unit: str = "Đơn vị tính: triệu đồng",
) -> str:
    """A bordered table with a header row, a bold caption and an optional unit line."""
    header = "".join(f"<th>{_esc(column.heading)}</th>" for column in columns)
    body = "".join(_table_row(columns, row) for row in rows)
    unit_line = f'<p class="unit">{_esc(unit)}</p>' if unit else ""
    return (
        f'<p class="caption">{_esc(caption)}</p>{unit_line}'
        f'<table class="grid"><tr>{header}</tr>{body}</table>'
    )


def _table_row(columns: Sequence[_Column], row: Sequence[str]) -> str:
    style = ' class="strong"' if isinstance(row, _Strong) else ""
    cells = "".join(
        f'<td class="{column.align}">{_esc(cell)}</td>'
        for column, cell in zip(columns, row, strict=True)
    )
    return f"<tr{style}>{cells}</tr>"


def _closing(text: str) -> str:
    return f"<p>{_esc(text)}/.</p>"


# ---------------------------------------------------------------------------
# Rendering

_MAX_PAGES = 12

_CSS = """
body {font-size: 12pt;}
p {margin: 0 0 5pt 0; text-align: justify; text-indent: 26pt; line-height: 1.35;}
h2, h3 {font-size: 12pt; font-weight: bold; text-indent: 26pt; line-height: 1.35;}
h2 {margin: 8pt 0 4pt 0;}
h3 {margin: 5pt 0 3pt 0;}
p.kind {text-align: center; text-indent: 0; font-weight: bold; font-size: 14pt;
         margin: 6pt 0 1pt 0;}
p.subject {text-align: center; text-indent: 0; font-weight: bold; margin: 0 0 10pt 0;}
p.to {text-align: center; text-indent: 0; margin: 0 0 10pt 0;}
p.centered {text-align: center; text-indent: 0; font-weight: bold; margin: 4pt 0 8pt 0;}
p.basis {font-style: italic; margin-bottom: 3pt;}
p.caption {text-align: center; text-indent: 0; font-weight: bold; margin: 8pt 0 0 0;}
p.unit {text-align: right; text-indent: 0; font-style: italic; font-size: 10.5pt;
         margin: 0 0 2pt 0;}
table.grid {border-collapse: collapse; width: 100%; margin: 0 0 8pt 0;}
td.left {text-align: left;}
td.right {text-align: right;}
tr.strong td {font-weight: bold;}
table.sign {width: 100%; margin-top: 10pt;}
table.sign td {vertical-align: top;}
p.recipients-head {text-indent: 0; font-weight: bold; font-style: italic; font-size: 11pt;
         margin: 0;}
p.recipient {text-indent: 0; text-align: left; font-size: 10pt; margin: 0;
         line-height: 1.2;}
"""


def _dateline(paper: _Paper) -> str:
    if paper.draft:
        return f"{paper.place}, ngày      tháng {paper.issued.month} năm {paper.issued.year}"
    return f"{paper.place}, {_date_words(paper.issued)}"


def _document_html(paper: _Paper) -> str:
    parts = [
        f'<p class="kind">{_esc(paper.kind)}</p>',
        f'<p class="subject">{_esc(paper.subject)}</p>',
    ]
    if paper.addressee:
        parts.append(f'<p class="to">Kính gửi: {_esc(paper.addressee)}.</p>')
    parts += [paper.preamble, paper.body, _signature_html(paper)]
    return "".join(parts)


def _signature_html(paper: _Paper) -> str:
    recipients = "".join(f'<p class="recipient">- {_esc(line)}</p>' for line in paper.recipients)
    titles = "".join(f'<p class="sign">{_esc(line)}</p>' for line in paper.signature.lines)
    return (
        '<table class="sign"><tr>'
        f'<td><p class="recipients-head">Nơi nhận:</p>{recipients}</td>'
        f'<td>{titles}<p class="signer">{_esc(paper.signature.name)}</p></td>'
        "</tr></table>"
    )


def _layout(paper: _Paper, top: float) -> bytes:
    """Flow the document HTML over as many pages as needed; the first starts at ``top``."""
    story = body_story(_document_html(paper), _CSS)
    buffer = io.BytesIO()
    writer = pymupdf.DocumentWriter(buffer)
    area = pymupdf.Rect(BODY.x0, top, BODY.x1, BODY.y1)
    more = True
    pages = 0
    while more:
        if pages == _MAX_PAGES:
            raise RuntimeError(f"{paper.filename} does not fit in {_MAX_PAGES} pages")
        device = writer.begin_page(PAGE)
        more, _ = story.place(area)
        story.draw(device)
        writer.end_page()
        area = BODY
        pages += 1
    writer.close()
    return buffer.getvalue()


def _render(paper: _Paper) -> bytes:
    header = letterhead(paper.issuer.header, paper.number, _dateline(paper), paper.draft)
    doc = pymupdf.open("pdf", _layout(paper, header.bottom + 4))
    header.draw(doc[0])
    number_pages(doc)
    stamp = paper.issued.strftime("D:%Y%m%d080000+07'00'")
    doc.set_metadata(
        {
            "title": paper.title,
            "author": paper.issuer.full_name,
            "subject": paper.subject,
            "creator": "phonghop – tài liệu minh họa",
            "producer": "PyMuPDF",
            "creationDate": stamp,
            "modDate": stamp,
        }
    )
    doc.subset_fonts()
    return doc.tobytes(garbage=4, deflate=True, use_objstms=True, no_new_id=True)


def _demo_paper(paper: _Paper) -> DemoPaper:
    return DemoPaper(paper.title, paper.filename, _render(paper))


# ---------------------------------------------------------------------------
# Shared figures, so that reports, submissions and resolutions agree


@dataclass(frozen=True)
class _SpendingLine:
    name: str
    this_year: int
    next_year: int


_DEVELOPMENT_SPENDING = _SpendingLine("Chi đầu tư phát triển", 52_000, 58_400)
_RECURRENT_SPENDING = (
    _SpendingLine("Chi quốc phòng", 1_850, 2_040),
    _SpendingLine("Chi an ninh, trật tự an toàn xã hội", 2_310, 2_560),
    _SpendingLine("Chi sự nghiệp giáo dục, đào tạo", 41_200, 44_870),
    _SpendingLine("Chi sự nghiệp y tế, dân số", 3_120, 3_390),
    _SpendingLine("Chi sự nghiệp văn hóa, thông tin, thể dục thể thao", 2_680, 2_950),
    _SpendingLine("Chi sự nghiệp bảo vệ môi trường", 14_520, 15_730),
    _SpendingLine(
        "Chi các hoạt động kinh tế (duy tu hạ tầng, chiếu sáng, cây xanh)", 11_960, 13_240
    ),
    _SpendingLine("Chi quản lý nhà nước, Đảng, đoàn thể", 27_400, 29_880),
    _SpendingLine("Chi bảo đảm xã hội", 5_260, 5_780),
)
_RESERVE = _SpendingLine("Dự phòng ngân sách", 4_300, 5_530)
_OWN_REVENUE_NEXT = 128_640
_AREA_REVENUE_THIS, _AREA_REVENUE_ESTIMATE, _AREA_REVENUE_NEXT = 1_200_000, 1_286_540, 1_320_000


def _recurrent_total(next_year: bool) -> int:
    return sum(line.next_year if next_year else line.this_year for line in _RECURRENT_SPENDING)


def _spending_total(next_year: bool) -> int:
    lines = (_DEVELOPMENT_SPENDING, _RESERVE)
    pick = [line.next_year if next_year else line.this_year for line in lines]
    return sum(pick) + _recurrent_total(next_year)


@dataclass(frozen=True)
class _Project:
    name: str
    period: str
    total_cost: int
    funded_so_far: int
    next_year: int


_PROJECT_GROUPS = (
    (
        "Dự án chuyển tiếp",
        (
            _Project("Cải tạo, nâng cấp Trường Mầm non số 1", "2025-2027", 24_600, 14_000, 9_800),
            _Project(
                "Cải tạo hạ tầng kỹ thuật các ngõ thuộc tổ dân phố số 5, 6, 7",
                "2026-2027",
                18_450,
                8_000,
                9_600,
            ),
            _Project(
                "Cải tạo hệ thống thoát nước khu dân cư tổ dân phố số 12",
                "2026-2027",
                12_300,
                5_000,
                6_900,
            ),
        ),
    ),
    (
        "Dự án khởi công mới",
        (
            _Project("Xây dựng nhà văn hóa tổ dân phố số 9", "2027-2028", 8_900, 0, 5_000),
            _Project(
                "Lắp đặt camera giám sát an ninh, trật tự khu dân cư", "2027", 6_500, 0, 6_500
            ),
            _Project(
                "Chỉnh trang vỉa hè, hệ thống chiếu sáng các tuyến đường nội bộ",
                "2027-2028",
                21_800,
                0,
                12_000,
            ),
        ),
    ),
    (
        "Chuẩn bị đầu tư",
        (_Project("Cải tạo, mở rộng Trường Trung học cơ sở số 2", "2028-2029", 45_000, 0, 1_200),),
    ),
)


def _project_capital() -> int:
    return sum(p.next_year for _, projects in _PROJECT_GROUPS for p in projects)


def _completed_works_payment() -> int:
    """What is left of next year's development budget after the listed projects."""
    return _DEVELOPMENT_SPENDING.next_year - _project_capital()


# ---------------------------------------------------------------------------
# Recipients and standard passages


def _committee_recipients(c: _Council) -> tuple[str, ...]:
    return (
        f"Thường trực HĐND {c.unit};",
        f"Các Ban của HĐND {c.unit};",
        f"Đại biểu HĐND {c.unit};",
        f"Chủ tịch, các Phó Chủ tịch UBND {c.unit};",
        "Lưu: VT, VP.",
    )


def _resolution_recipients(c: _Council) -> tuple[str, ...]:
    return (
        f"Thường trực HĐND, UBND {c.place} (để báo cáo);",
        f"Thường trực Đảng ủy {c.unit};",
        f"Thường trực HĐND, UBND, Ủy ban MTTQ Việt Nam {c.unit};",
        f"Đại biểu HĐND {c.unit};",
        "Các tổ dân phố;",
        "Lưu: VT.",
    )


def _enacting_formula(c: _Council, bases: Sequence[str], considering: str) -> str:
    return (
        _centered_bold(c.council.upper(), _TERM)
        + _italics(
            f"Căn cứ Luật Tổ chức chính quyền địa phương {_date_words(_LOCAL_GOVERNMENT_LAW)};",
            *bases,
            considering,
        )
        + _centered_bold("QUYẾT NGHỊ:")
    )


def _enforcement(c: _Council, article: int) -> str:
    return _lead(f"Điều {article}.", "Tổ chức thực hiện") + _paragraphs(
        f"1. Giao Ủy ban nhân dân {c.unit} tổ chức thực hiện Nghị quyết này.",
        f"2. Thường trực Hội đồng nhân dân, các Ban của Hội đồng nhân dân, các Tổ đại biểu "
        f"và đại biểu Hội đồng nhân dân {c.unit} giám sát việc thực hiện Nghị quyết.",
        f"3. Đề nghị Ủy ban Mặt trận Tổ quốc Việt Nam {c.unit} và các tổ chức chính trị - "
        "xã hội tham gia giám sát, tuyên truyền, vận động Nhân dân cùng thực hiện.",
        f"Nghị quyết này đã được {c.council} {_TERM_TEXT} thông qua "
        f"{_date_words(c.session_date)} và có hiệu lực kể từ ngày thông qua.",
    )


# ---------------------------------------------------------------------------
# Item 2: socio-economic report, committee review, draft resolution

_REPORT_NUMBER = "312/BC-UBND"
_REVIEW_NUMBER = "45/BC-KTXH"


def _targets_this_year(c: _Council) -> list[tuple[str, ...]]:
    own_plan = _spending_total(next_year=False)
    own_estimate = 186_420
    rows = [
        (
            "Tổng thu ngân sách nhà nước trên địa bàn",
            "triệu đồng",
            _AREA_REVENUE_THIS,
            _AREA_REVENUE_ESTIMATE,
        ),
        (f"Tổng thu ngân sách {c.unit}", "triệu đồng", own_plan, own_estimate),
    ]
    formatted: list[tuple[str, ...]] = [
        (str(i), name, unit, _money(plan), _money(done), _percent_of(done, plan))
        for i, (name, unit, plan, done) in enumerate(rows, start=1)
    ]
    rates = [
        ('Tỷ lệ hộ gia đình đạt danh hiệu "Gia đình văn hóa"', 92.0, 93.4),
        ('Tỷ lệ tổ dân phố đạt danh hiệu "Tổ dân phố văn hóa"', 85.0, 86.7),
        ("Tỷ lệ dân số tham gia bảo hiểm y tế", 95.0, 95.6),
        ("Tỷ lệ hồ sơ thủ tục hành chính giải quyết đúng hạn", 98.0, 99.3),
        ("Tỷ lệ hồ sơ thủ tục hành chính nộp trực tuyến", 80.0, 86.5),
        ("Tỷ lệ chất thải rắn sinh hoạt được thu gom, xử lý trong ngày", 100.0, 100.0),
    ]
    formatted += [
        (str(i), name, "%", _decimal(plan), _decimal(done), _decimal(100 * done / plan))
        for i, (name, plan, done) in enumerate(rates, start=len(formatted) + 1)
    ]
    formatted.append(
        (str(len(formatted) + 1), "Số trường đạt chuẩn quốc gia", "trường", "9", "9", "100,0")
    )
    return formatted


def _socio_economic_report(c: _Council) -> _Paper:
    y = c.year
    columns = (
        _Column("STT", "center"),
        _Column("Chỉ tiêu"),
        _Column("Đơn vị tính", "center"),
        _Column(f"Kế hoạch năm {y}", "right"),
        _Column(f"Ước thực hiện năm {y}", "right"),
        _Column("So với kế hoạch (%)", "right"),
    )
    body = (
        _paragraphs(
            f"Thực hiện Nghị quyết của Hội đồng nhân dân {c.unit} về kế hoạch phát triển kinh tế "
            f"- xã hội năm {y}, trong bối cảnh bộ máy chính quyền địa phương hai cấp tiếp tục "
            f"được kiện toàn, Ủy ban nhân dân {c.unit} đã tập trung chỉ đạo, điều hành quyết "
            "liệt, linh hoạt các nhiệm vụ, giải pháp đề ra. Ủy ban nhân dân báo cáo kết quả "
            "thực hiện như sau:",
        )
        + _heading(f"I. KẾT QUẢ THỰC HIỆN NHIỆM VỤ NĂM {y}")
        + _subheading("1. Về phát triển kinh tế, thu ngân sách và quản lý đô thị")
        + _paragraphs(
            f"Tổng thu ngân sách nhà nước trên địa bàn ước đạt {_money(_AREA_REVENUE_ESTIMATE)} "
            f"triệu đồng, bằng {_percent_of(_AREA_REVENUE_ESTIMATE, _AREA_REVENUE_THIS)}% dự "
            "toán được giao; thu thuế từ khu vực kinh tế ngoài quốc doanh tăng 9,6% so với cùng "
            "kỳ nhờ làm tốt công tác chống thất thu đối với hộ kinh doanh và hoạt động thương "
            "mại điện tử.",
            "Hoạt động thương mại, dịch vụ phục hồi rõ nét; trên địa bàn có thêm 146 doanh "
            "nghiệp và 312 hộ kinh doanh đăng ký mới. Công tác quản lý chợ, kiểm tra vệ sinh an "
            "toàn thực phẩm được tăng cường với 214 lượt cơ sở được kiểm tra, xử phạt 19 trường "
            "hợp vi phạm với tổng số tiền 86 triệu đồng.",
            f"Công tác quản lý trật tự xây dựng, chỉnh trang đô thị được chú trọng. Trong năm, "
            f"{c.unit} đã hoàn thành cải tạo 4 tuyến ngõ, lắp đặt bổ sung 286 bộ đèn chiếu sáng, "
            "trồng mới 420 cây xanh; xử lý dứt điểm 27/29 trường hợp vi phạm trật tự xây dựng "
            "phát sinh.",
        )
        + _table(
            f"Bảng 1. Kết quả thực hiện các chỉ tiêu chủ yếu năm {y}",
            columns,
            _targets_this_year(c),
            unit="",
        )
        + _subheading("2. Về văn hóa - xã hội")
        + _paragraphs(
            f"Năm học {y}-{y + 1}, toàn {c.unit} có 14 trường mầm non, tiểu học và trung học cơ "
            "sở công lập với 11.860 học sinh; tỷ lệ học sinh hoàn thành chương trình tiểu học "
            "đạt 100%, tốt nghiệp trung học cơ sở đạt 99,7%. Công tác tuyển sinh đầu cấp được "
            "thực hiện trực tuyến, công khai, đúng quy định.",
            "Trạm y tế duy trì tốt công tác khám, chữa bệnh ban đầu; tỷ lệ tiêm chủng mở rộng đạt "
            "98,6%; chủ động phòng, chống dịch sốt xuất huyết, không để dịch bùng phát. Việc chi "
            "trả trợ cấp cho 1.247 người có công và đối tượng bảo trợ xã hội được thực hiện đầy "
            "đủ, kịp thời.",
            "Các hoạt động văn hóa, thể thao chào mừng các ngày lễ lớn được tổ chức sôi nổi, an "
            'toàn, tiết kiệm. Phong trào "Toàn dân đoàn kết xây dựng đời sống văn hóa" tiếp tục '
            "được duy trì; công tác quản lý di tích, lễ hội bảo đảm đúng quy định.",
        )
        + _subheading("3. Về quốc phòng, an ninh, trật tự an toàn xã hội")
        + _paragraphs(
            "Hoàn thành 100% chỉ tiêu tuyển chọn và gọi công dân nhập ngũ. Tình hình an ninh "
            "chính trị, trật tự an toàn xã hội được giữ vững; tội phạm về trật tự xã hội giảm "
            "12,4% so với cùng kỳ; tỷ lệ điều tra, khám phá án đạt 91,3%. Công tác phòng cháy, "
            "chữa cháy tại khu dân cư, nhà ở kết hợp kinh doanh được kiểm tra thường xuyên.",
        )
        + _subheading("4. Về cải cách hành chính, chuyển đổi số")
        + _paragraphs(
            "Trung tâm Phục vụ hành chính công tiếp nhận 18.624 hồ sơ, giải quyết đúng hạn "
            "99,3%; 100% văn bản đi, đến (trừ văn bản mật) được xử lý trên môi trường mạng. Phòng "
            "họp không giấy tờ được đưa vào sử dụng, giảm khoảng 70% lượng tài liệu in phục vụ "
            "các cuộc họp, kỳ họp.",
        )
        + _heading("II. TỒN TẠI, HẠN CHẾ VÀ NGUYÊN NHÂN")
        + _paragraphs(
            "Tiến độ giải ngân vốn đầu tư công ở một số dự án còn chậm, chủ yếu do vướng mắc trong "
            "công tác giải phóng mặt bằng. Tình trạng lấn chiếm vỉa hè, lòng đường để kinh doanh "
            "tại một số tuyến phố vẫn tái diễn. Việc khai thác dữ liệu dân cư phục vụ giải quyết "
            "thủ tục hành chính chưa đồng bộ.",
            "Nguyên nhân chủ yếu là khối lượng công việc sau sắp xếp đơn vị hành chính tăng lớn "
            "trong khi biên chế còn thiếu; một số cán bộ, công chức chưa thật sự chủ động, quyết "
            "liệt trong thực thi nhiệm vụ.",
        )
        + _heading(f"III. MỤC TIÊU, NHIỆM VỤ VÀ GIẢI PHÁP NĂM {y + 1}")
        + _subheading("1. Mục tiêu tổng quát")
        + _paragraphs(
            f"Tiếp tục xây dựng chính quyền {c.unit} chuyên nghiệp, hiện đại, phục vụ Nhân dân; "
            "huy động hiệu quả các nguồn lực để phát triển kinh tế, chỉnh trang đô thị; bảo đảm "
            "an sinh xã hội, nâng cao đời sống vật chất, tinh thần của Nhân dân; giữ vững quốc "
            "phòng, an ninh.",
        )
        + _subheading("2. Nhiệm vụ, giải pháp trọng tâm")
        + _paragraphs(
            "a) Tập trung thu ngân sách, phấn đấu vượt dự toán được giao; chi ngân sách tiết "
            "kiệm, hiệu quả, ưu tiên đầu tư phát triển và an sinh xã hội.",
            "b) Đẩy nhanh tiến độ các dự án đầu tư công, phấn đấu giải ngân 100% kế hoạch vốn.",
            "c) Nâng cao chất lượng giáo dục, y tế; thực hiện đầy đủ, kịp thời chính sách đối với "
            "người có công và đối tượng bảo trợ xã hội.",
            "d) Đẩy mạnh cải cách hành chính, chuyển đổi số; phấn đấu 90% hồ sơ thủ tục hành "
            "chính được tiếp nhận trực tuyến.",
            "đ) Giữ vững an ninh chính trị, trật tự an toàn xã hội; triển khai đồng bộ các giải "
            "pháp phòng cháy, chữa cháy và cứu nạn, cứu hộ.",
        )
        + _closing(
            f"Trên đây là báo cáo tình hình kinh tế - xã hội, quốc phòng, an ninh năm {y} và mục "
            f"tiêu, nhiệm vụ, giải pháp năm {y + 1} của Ủy ban nhân dân {c.unit}, kính trình Hội "
            f"đồng nhân dân {c.unit} xem xét"
        )
    )
    return _Paper(
        title=f"Báo cáo tình hình kinh tế - xã hội năm {y}, nhiệm vụ năm {y + 1}",
        filename=f"bao-cao-kinh-te-xa-hoi-{y}.pdf",
        kind="BÁO CÁO",
        number=f"Số: {_REPORT_NUMBER}",
        subject=f"Tình hình kinh tế - xã hội, quốc phòng, an ninh năm {y}; "
        f"mục tiêu, nhiệm vụ và giải pháp năm {y + 1}",
        issuer=_committee(c),
        issued=c.days_before(20),
        body=body,
        signature=_COMMITTEE_CHAIR,
        recipients=_committee_recipients(c),
        place=c.place,
    )


def _socio_economic_review(c: _Council) -> _Paper:
    y = c.year
    columns = (
        _Column("STT", "center"),
        _Column("Lĩnh vực"),
        _Column("Nội dung đề nghị làm rõ"),
        _Column("Đơn vị giải trình"),
    )
    rows = [
        (
            "1",
            "Đầu tư công",
            "Nguyên nhân chậm giải ngân dự án cải tạo hạ tầng các ngõ và giải "
            f"pháp hoàn thành trước ngày 31/12/{y}",
            "Phòng Kinh tế, Hạ tầng và Đô thị",
        ),
        (
            "2",
            "Quản lý đô thị",
            "Giải pháp chấm dứt tình trạng tái lấn chiếm vỉa hè tại các tuyến phố trọng điểm",
            f"Phòng Kinh tế, Hạ tầng và Đô thị; Công an {c.unit}",
        ),
        (
            "3",
            "Thu ngân sách",
            "Số nợ đọng thuế của hộ kinh doanh và khả năng thu hồi",
            "Thuế cơ sở quản lý địa bàn",
        ),
        (
            "4",
            "Giáo dục",
            "Tình trạng sĩ số lớp vượt quy định ở cấp tiểu học",
            "Phòng Văn hóa - Xã hội",
        ),
        (
            "5",
            "Chuyển đổi số",
            "Tỷ lệ hồ sơ trực tuyến toàn trình còn thấp so với yêu cầu",
            "Văn phòng HĐND và UBND",
        ),
    ]
    body = (
        _paragraphs(
            f"Thực hiện sự phân công của Thường trực Hội đồng nhân dân {c.unit}, "
            f"{_date_words(c.days_before(9))}, Ban Kinh tế - Xã hội đã họp thẩm tra Báo cáo số "
            f"{_REPORT_NUMBER} của Ủy ban nhân dân {c.unit} và dự thảo Nghị quyết về kế hoạch "
            f"phát triển kinh tế - xã hội năm {y + 1}. Tham dự cuộc họp có đại diện Thường trực "
            f"Hội đồng nhân dân, lãnh đạo Ủy ban nhân dân {c.unit} và các phòng chuyên môn. Trên "
            "cơ sở nội dung thẩm tra, Ban báo cáo như sau:",
        )
        + _heading(f"I. VỀ KẾT QUẢ THỰC HIỆN NHIỆM VỤ NĂM {y}")
        + _paragraphs(
            f"Ban thống nhất với đánh giá của Ủy ban nhân dân {c.unit}. Năm {y}, dù khối lượng "
            "công việc lớn sau sắp xếp đơn vị hành chính, các chỉ tiêu chủ yếu đều đạt và vượt "
            "kế hoạch; thu ngân sách vượt dự toán; an sinh xã hội được bảo đảm; an ninh chính "
            "trị, trật tự an toàn xã hội được giữ vững.",
            "Ban ghi nhận việc đưa vào sử dụng phòng họp không giấy tờ và hệ thống quản lý văn "
            "bản, góp phần tiết kiệm chi phí và nâng cao hiệu quả điều hành. Tuy vậy, báo cáo "
            "cần phân tích sâu hơn nguyên nhân của các hạn chế và làm rõ trách nhiệm của từng "
            "đơn vị. Ban đề nghị Ủy ban nhân dân giải trình, làm rõ các nội dung sau:",
        )
        + _table("Bảng 1. Các nội dung đề nghị giải trình tại kỳ họp", columns, rows, unit="")
        + _heading(f"II. VỀ MỤC TIÊU, CHỈ TIÊU, NHIỆM VỤ NĂM {y + 1}")
        + _paragraphs(
            "Ban cơ bản thống nhất với mục tiêu tổng quát và các chỉ tiêu chủ yếu do Ủy ban "
            f"nhân dân {c.unit} đề xuất. Các chỉ tiêu được xây dựng trên cơ sở kết quả thực hiện "
            f"năm {y}, có tính khả thi và phù hợp với định hướng của cấp trên.",
            "Đề nghị nâng chỉ tiêu tỷ lệ hồ sơ thủ tục hành chính tiếp nhận trực tuyến từ 88% "
            "lên 90% cho phù hợp với kết quả đã đạt được; bổ sung giải pháp cụ thể về bố trí quỹ "
            "đất cho trường học và điểm sinh hoạt cộng đồng; tăng cường phối hợp với cơ quan thuế "
            "trong quản lý thu đối với hộ kinh doanh.",
        )
        + _heading("III. VỀ DỰ THẢO NGHỊ QUYẾT")
        + _paragraphs(
            "Dự thảo Nghị quyết được chuẩn bị đúng trình tự, thể thức; nội dung phù hợp với quy "
            f"định của pháp luật và tình hình thực tế của {c.unit}. Ban đã đề nghị cơ quan soạn "
            "thảo chỉnh lý một số câu chữ tại Điều 1 để bảo đảm chặt chẽ.",
        )
        + _closing(
            "Trên đây là báo cáo thẩm tra của Ban Kinh tế - Xã hội, kính trình Hội đồng nhân "
            f"dân {c.unit} xem xét, quyết định"
        )
    )
    return _Paper(
        title="Báo cáo thẩm tra của Ban Kinh tế - Xã hội về tình hình kinh tế - xã hội",
        filename=f"bao-cao-tham-tra-kinh-te-xa-hoi-{y}.pdf",
        kind="BÁO CÁO",
        number=f"Số: {_REVIEW_NUMBER}",
        subject=f"Thẩm tra báo cáo tình hình kinh tế - xã hội năm {y} và dự thảo Nghị quyết "
        f"về kế hoạch phát triển kinh tế - xã hội năm {y + 1}",
        issuer=_economic_committee(c),
        issued=c.days_before(7),
        body=body,
        signature=_ECONOMIC_CHAIR,
        recipients=(
            f"Thường trực HĐND {c.unit};",
            f"UBND {c.unit};",
            f"Đại biểu HĐND {c.unit};",
            "Lưu: VT.",
        ),
        place=c.place,
    )


def _socio_economic_resolution(c: _Council) -> _Paper:
    y = c.year + 1
    columns = (
        _Column("STT", "center"),
        _Column("Chỉ tiêu"),
        _Column("Đơn vị tính", "center"),
        _Column(f"Chỉ tiêu năm {y}", "right"),
    )
    targets = [
        ("Tổng thu ngân sách nhà nước trên địa bàn", "triệu đồng", _money(_AREA_REVENUE_NEXT)),
        (f"Tổng thu ngân sách {c.unit}", "triệu đồng", _money(_spending_total(next_year=True))),
        ('Tỷ lệ hộ gia đình đạt danh hiệu "Gia đình văn hóa"', "%", "từ 93 trở lên"),
        ('Tỷ lệ tổ dân phố đạt danh hiệu "Tổ dân phố văn hóa"', "%", "từ 87 trở lên"),
        ("Tỷ lệ dân số tham gia bảo hiểm y tế", "%", "từ 96 trở lên"),
        ("Tỷ lệ hồ sơ thủ tục hành chính giải quyết đúng hạn", "%", "từ 99 trở lên"),
        ("Tỷ lệ hồ sơ thủ tục hành chính tiếp nhận trực tuyến", "%", "từ 90 trở lên"),
        ("Tỷ lệ chất thải rắn sinh hoạt được thu gom, xử lý trong ngày", "%", "100"),
        ("Số trường đạt chuẩn quốc gia", "trường", "10"),
    ]
    rows = [(str(i), *row) for i, row in enumerate(targets, start=1)]
    body = (
        _lead(
            "Điều 1.",
            f"Thông qua kế hoạch phát triển kinh tế - xã hội năm {y} với những "
            "nội dung chủ yếu sau:",
        )
        + _subheading("1. Mục tiêu tổng quát")
        + _paragraphs(
            f"Xây dựng chính quyền {c.unit} chuyên nghiệp, hiện đại, phục vụ Nhân dân; phát triển "
            "kinh tế - xã hội nhanh, bền vững gắn với chỉnh trang đô thị; bảo đảm an sinh xã "
            "hội; giữ vững quốc phòng, an ninh, trật tự an toàn xã hội.",
        )
        + _subheading("2. Các chỉ tiêu chủ yếu")
        + _table(f"Các chỉ tiêu phát triển kinh tế - xã hội năm {y}", columns, rows, unit="")
        + _subheading("3. Nhiệm vụ, giải pháp chủ yếu")
        + _paragraphs(
            f"Hội đồng nhân dân {c.unit} thống nhất với các nhiệm vụ, giải pháp nêu tại Báo cáo "
            f"số {_REPORT_NUMBER} của Ủy ban nhân dân {c.unit}, đồng thời nhấn mạnh:",
            "a) Tăng cường quản lý thu, chống thất thu ngân sách; quản lý chi chặt chẽ, tiết "
            "kiệm; đẩy nhanh giải ngân vốn đầu tư công ngay từ đầu năm.",
            "b) Lập lại trật tự vỉa hè, lòng đường tại các tuyến phố trọng điểm; xử lý dứt điểm "
            "các vi phạm trật tự xây dựng ngay từ khi phát sinh.",
            "c) Rà soát quỹ đất để bố trí trường học, điểm sinh hoạt cộng đồng; giảm sĩ số lớp ở "
            "cấp tiểu học theo lộ trình.",
            "d) Nâng cao chất lượng phục vụ của Trung tâm Phục vụ hành chính công; mở rộng dịch "
            "vụ công trực tuyến toàn trình.",
        )
        + _enforcement(c, article=2)
    )
    formula = _enacting_formula(
        c,
        (),
        f"Xét Báo cáo số {_REPORT_NUMBER} của Ủy ban nhân dân {c.unit} về tình hình kinh tế - xã "
        f"hội năm {c.year}, mục tiêu, nhiệm vụ năm {y}; Báo cáo thẩm tra số {_REVIEW_NUMBER} "
        "của Ban Kinh tế - Xã hội và ý kiến thảo luận của đại biểu Hội đồng nhân dân tại kỳ họp.",
    )
    return _Paper(
        title=f"Dự thảo nghị quyết về kế hoạch phát triển kinh tế - xã hội năm {y}",
        filename=f"du-thao-nq-ke-hoach-kinh-te-xa-hoi-{y}.pdf",
        kind="NGHỊ QUYẾT",
        number="Số:        /NQ-HĐND",
        subject=f"Về kế hoạch phát triển kinh tế - xã hội năm {y}",
        issuer=_council_issuer(c),
        issued=c.session_date,
        body=body,
        signature=_COUNCIL_CHAIR,
        recipients=_resolution_recipients(c),
        place=c.place,
        draft=True,
        preamble=formula,
    )


# ---------------------------------------------------------------------------
# Item 3.1: budget settlement of the year before last


@dataclass(frozen=True)
class _SettlementLine:
    name: str
    planned: int
    settled: int


_SETTLEMENT_REVENUE = (
    _SettlementLine("Thu ngân sách được hưởng theo phân cấp", 118_500, 124_863),
    _SettlementLine("Thu bổ sung từ ngân sách cấp trên", 46_200, 48_915),
    _SettlementLine("Thu chuyển nguồn từ năm trước chuyển sang", 0, 15_427),
    _SettlementLine("Thu kết dư ngân sách năm trước", 0, 9_531),
)
_SETTLEMENT_SPENDING = (
    _SettlementLine("Chi đầu tư phát triển", 52_000, 49_284),
    _SettlementLine("Chi thường xuyên", 108_400, 104_127),
    _SettlementLine("Dự phòng ngân sách", 4_300, 0),
    _SettlementLine("Chi chuyển nguồn sang năm sau", 0, 37_894),
)


def _settlement_rows(lines: Sequence[_SettlementLine]) -> list[tuple[str, ...]]:
    return [
        (
            str(i),
            line.name,
            _money(line.planned) if line.planned else "-",
            _money(line.settled) if line.settled else "-",
            _percent_of(line.settled, line.planned) if line.settled else "",
        )
        for i, line in enumerate(lines, start=1)
    ]


def _settlement_total(lines: Sequence[_SettlementLine], code: str, name: str) -> _Strong:
    planned = sum(line.planned for line in lines)
    settled = sum(line.settled for line in lines)
    return _Strong((code, name, _money(planned), _money(settled), _percent_of(settled, planned)))


def _settlement_submission(c: _Council) -> _Paper:
    y = c.year - 1
    revenue = sum(line.settled for line in _SETTLEMENT_REVENUE)
    spending = sum(line.settled for line in _SETTLEMENT_SPENDING)
    development, recurrent = _SETTLEMENT_SPENDING[0], _SETTLEMENT_SPENDING[1]
    own, transfer = _SETTLEMENT_REVENUE[0], _SETTLEMENT_REVENUE[1]
    columns = (
        _Column("STT", "center"),
        _Column("Nội dung"),
        _Column("Dự toán", "right"),
        _Column("Quyết toán", "right"),
        _Column("So sánh (%)", "right"),
    )
    rows = [
        _settlement_total(_SETTLEMENT_REVENUE, "A", f"TỔNG THU NGÂN SÁCH {c.unit.upper()}"),
        *_settlement_rows(_SETTLEMENT_REVENUE),
        _settlement_total(_SETTLEMENT_SPENDING, "B", f"TỔNG CHI NGÂN SÁCH {c.unit.upper()}"),
        *_settlement_rows(_SETTLEMENT_SPENDING),
        _Strong(("C", "KẾT DƯ NGÂN SÁCH (A - B)", "", _money(revenue - spending), "")),
    ]
    body = (
        _paragraphs(
            "Căn cứ Luật Ngân sách nhà nước và các văn bản hướng dẫn thi hành; căn cứ kết quả "
            f"thẩm định quyết toán ngân sách năm {y} của cơ quan tài chính cấp trên, Ủy ban nhân "
            f"dân {c.unit} kính trình Hội đồng nhân dân {c.unit} xem xét, phê chuẩn quyết toán "
            f"thu, chi ngân sách {c.unit} năm {y} như sau:",
        )
        + _heading(f"I. KẾT QUẢ THỰC HIỆN DỰ TOÁN NĂM {y}")
        + _subheading("1. Về thu ngân sách")
        + _paragraphs(
            f"Tổng thu ngân sách {c.unit} năm {y} đạt {_money(revenue)} triệu đồng. Trong đó, thu "
            f"được hưởng theo phân cấp đạt {_money(own.settled)} triệu đồng, bằng "
            f"{_percent_of(own.settled, own.planned)}% dự toán; thu bổ sung từ ngân sách cấp "
            f"trên {_money(transfer.settled)} triệu đồng, gồm bổ sung cân đối và bổ sung có mục "
            "tiêu để thực hiện chính sách an sinh xã hội, cải cách tiền lương.",
            "Các khoản thu phí, lệ phí, thu từ quỹ đất công ích và hoa lợi công sản đều đạt và "
            "vượt dự toán; không phát sinh khoản thu sai quy định.",
        )
        + _subheading("2. Về chi ngân sách")
        + _paragraphs(
            f"Tổng chi ngân sách {c.unit} năm {y} là {_money(spending)} triệu đồng. Chi đầu tư "
            f"phát triển {_money(development.settled)} triệu đồng, bằng "
            f"{_percent_of(development.settled, development.planned)}% dự toán; chi thường "
            f"xuyên {_money(recurrent.settled)} triệu đồng, bằng "
            f"{_percent_of(recurrent.settled, recurrent.planned)}% dự toán, bảo đảm hoạt động "
            "của bộ máy và các nhiệm vụ chính trị của địa phương. Nguồn dự phòng được sử dụng "
            "cho công tác phòng, chống thiên tai, dịch bệnh và các nhiệm vụ cấp bách phát sinh.",
        )
        + _table(f"Bảng 1. Quyết toán thu, chi ngân sách {c.unit} năm {y}", columns, rows)
        + _heading("II. ĐÁNH GIÁ CHUNG")
        + _paragraphs(
            f"Công tác quản lý, điều hành ngân sách năm {y} được thực hiện chặt chẽ, đúng Luật; "
            "các khoản chi bảo đảm đúng tiêu chuẩn, định mức; công khai ngân sách được thực hiện "
            "đúng thời hạn. Số chi chuyển nguồn sang năm sau còn lớn, chủ yếu là kinh phí của các "
            "dự án chưa đủ hồ sơ thanh toán và nguồn cải cách tiền lương.",
        )
        + _heading("III. ĐỀ NGHỊ")
        + _closing(
            f"Ủy ban nhân dân {c.unit} kính trình Hội đồng nhân dân {c.unit} xem xét, phê chuẩn "
            f"quyết toán ngân sách năm {y} với tổng thu {_money(revenue)} triệu đồng, tổng chi "
            f"{_money(spending)} triệu đồng, kết dư {_money(revenue - spending)} triệu đồng; số "
            f"kết dư được chuyển vào thu ngân sách năm {y + 2} theo quy định"
        )
    )
    return _Paper(
        title=f"Tờ trình phê chuẩn quyết toán ngân sách năm {y}",
        filename=f"to-trinh-quyet-toan-ngan-sach-{y}.pdf",
        kind="TỜ TRÌNH",
        number="Số: 318/TTr-UBND",
        subject=f"Về việc phê chuẩn quyết toán thu, chi ngân sách {c.unit} năm {y}",
        issuer=_committee(c),
        issued=c.days_before(18),
        body=body,
        signature=_COMMITTEE_CHAIR,
        recipients=_committee_recipients(c),
        place=c.place,
        addressee=c.council,
    )


# ---------------------------------------------------------------------------
# Item 3.2: budget estimate for next year


_ESTIMATE_NUMBER = "320/TTr-UBND"


def _estimate_rows() -> list[tuple[str, ...]]:
    def row(code: str, line: _SpendingLine) -> tuple[str, ...]:
        return (
            code,
            line.name,
            _money(line.this_year),
            _money(line.next_year),
            _percent_of(line.next_year, line.this_year),
        )

    recurrent_this, recurrent_next = _recurrent_total(False), _recurrent_total(True)
    total_this, total_next = _spending_total(False), _spending_total(True)
    return [
        _Strong(
            (
                "",
                "TỔNG CHI NGÂN SÁCH",
                _money(total_this),
                _money(total_next),
                _percent_of(total_next, total_this),
            )
        ),
        _Strong(row("I", _DEVELOPMENT_SPENDING)),
        _Strong(
            (
                "II",
                "Chi thường xuyên",
                _money(recurrent_this),
                _money(recurrent_next),
                _percent_of(recurrent_next, recurrent_this),
            )
        ),
        *(row(str(i), line) for i, line in enumerate(_RECURRENT_SPENDING, start=1)),
        _Strong(row("III", _RESERVE)),
    ]


def _estimate_submission(c: _Council) -> _Paper:
    y = c.year + 1
    total = _spending_total(next_year=True)
    transfer = total - _OWN_REVENUE_NEXT
    columns = (
        _Column("STT", "center"),
        _Column("Nội dung"),
        _Column(f"Dự toán năm {y - 1}", "right"),
        _Column(f"Dự toán năm {y}", "right"),
        _Column("So sánh (%)", "right"),
    )
    body = (
        _heading("I. CĂN CỨ XÂY DỰNG DỰ TOÁN")
        + _paragraphs(
            "Dự toán được xây dựng trên cơ sở Luật Ngân sách nhà nước và các văn bản hướng dẫn; "
            f"quyết định giao dự toán ngân sách năm {y} của Ủy ban nhân dân cấp trên; định mức "
            "phân bổ chi thường xuyên hiện hành và khả năng thực hiện nhiệm vụ thu, chi năm "
            f"{y - 1}. Dự toán bảo đảm nguyên tắc cân đối, công khai, minh bạch, ưu tiên bố trí "
            "kinh phí cho các nhiệm vụ trọng tâm của địa phương.",
        )
        + _heading(f"II. DỰ TOÁN THU NGÂN SÁCH NĂM {y}")
        + _paragraphs(
            f"1. Tổng thu ngân sách nhà nước trên địa bàn: {_money(_AREA_REVENUE_NEXT)} triệu "
            f"đồng, bằng {_percent_of(_AREA_REVENUE_NEXT, _AREA_REVENUE_ESTIMATE)}% so với ước "
            f"thực hiện năm {y - 1}.",
            f"2. Tổng thu ngân sách {c.unit}: {_money(total)} triệu đồng, gồm thu được hưởng theo "
            f"phân cấp {_money(_OWN_REVENUE_NEXT)} triệu đồng và thu bổ sung cân đối từ ngân "
            f"sách cấp trên {_money(transfer)} triệu đồng.",
        )
        + _heading(f"III. DỰ TOÁN CHI NGÂN SÁCH NĂM {y}")
        + _paragraphs(
            f"Tổng chi ngân sách {c.unit} năm {y} là {_money(total)} triệu đồng, bằng tổng thu. "
            "Chi thường xuyên tăng chủ yếu do thực hiện mức lương cơ sở mới và bổ sung kinh phí "
            "duy tu hạ tầng đô thị, vệ sinh môi trường. Chi tiết như sau:",
        )
        + _table(f"Bảng 1. Dự toán chi ngân sách {c.unit} năm {y}", columns, _estimate_rows())
        + _heading("IV. PHƯƠNG ÁN PHÂN BỔ VÀ GIẢI PHÁP THỰC HIỆN")
        + _paragraphs(
            "1. Chi thường xuyên được phân bổ theo định mức cho từng đơn vị; bố trí đủ kinh phí "
            "thực hiện chính sách an sinh xã hội, chế độ đối với người có công; dành 10% tiết "
            "kiệm chi thường xuyên tăng thêm để thực hiện cải cách tiền lương.",
            f"2. Chi đầu tư phát triển {_money(_DEVELOPMENT_SPENDING.next_year)} triệu đồng được "
            f"phân bổ theo kế hoạch đầu tư công năm {y} trình tại kỳ họp này.",
            f"3. Dự phòng ngân sách {_money(_RESERVE.next_year)} triệu đồng, bằng "
            f"{_percent_of(_RESERVE.next_year, total)}% tổng chi, đúng quy định của Luật Ngân "
            "sách nhà nước.",
            "4. Tăng cường phối hợp với cơ quan thuế chống thất thu; điều hành chi trong phạm vi "
            "dự toán, không ban hành chính sách làm tăng chi khi chưa có nguồn bảo đảm.",
        )
        + _closing(
            f"Ủy ban nhân dân {c.unit} kính trình Hội đồng nhân dân {c.unit} xem xét, quyết định"
        )
    )
    return _Paper(
        title=f"Tờ trình về dự toán thu, chi ngân sách năm {y}",
        filename=f"to-trinh-du-toan-ngan-sach-{y}.pdf",
        kind="TỜ TRÌNH",
        number=f"Số: {_ESTIMATE_NUMBER}",
        subject=f"Về việc dự toán thu, chi ngân sách {c.unit} và phương án phân bổ ngân sách "
        f"năm {y}",
        issuer=_committee(c),
        issued=c.days_before(18),
        body=body,
        signature=_COMMITTEE_CHAIR,
        recipients=_committee_recipients(c),
        place=c.place,
        addressee=c.council,
    )


def _allocation_rows(c: _Council) -> list[tuple[str, ...]]:
    fixed = [
        (f"Văn phòng HĐND và UBND {c.unit}", 21_640),
        ("Phòng Văn hóa - Xã hội (gồm kinh phí bảo đảm xã hội)", 9_410),
        ("Trung tâm Phục vụ hành chính công", 3_820),
        (f"Công an {c.unit} (hỗ trợ nhiệm vụ an ninh, trật tự)", 2_560),
        (f"Ban Chỉ huy quân sự {c.unit}", 2_040),
        ("Các trường mầm non, tiểu học, trung học cơ sở công lập", 44_870),
        (f"Ủy ban MTTQ Việt Nam {c.unit} và các tổ chức chính trị - xã hội", 3_720),
        ("Chi đầu tư phát triển (theo kế hoạch đầu tư công)", _DEVELOPMENT_SPENDING.next_year),
        ("Dự phòng ngân sách", _RESERVE.next_year),
    ]
    total = _spending_total(next_year=True)
    remainder = total - sum(amount for _, amount in fixed)
    units = [fixed[0], ("Phòng Kinh tế, Hạ tầng và Đô thị", remainder), *fixed[1:]]
    rows = [(str(i), name, _money(amount)) for i, (name, amount) in enumerate(units, start=1)]
    return [*rows, _Strong(("", "Tổng cộng", _money(total)))]


def _estimate_resolution(c: _Council) -> _Paper:
    y = c.year + 1
    total = _spending_total(next_year=True)
    columns = (
        _Column("STT", "center"),
        _Column("Đơn vị, nội dung chi"),
        _Column(f"Dự toán năm {y}", "right"),
    )
    body = (
        _lead("Điều 1.", f"Quyết định dự toán ngân sách năm {y} như sau:")
        + _paragraphs(
            f"1. Tổng thu ngân sách nhà nước trên địa bàn: {_money(_AREA_REVENUE_NEXT)} triệu "
            "đồng.",
            f"2. Tổng thu ngân sách {c.unit}: {_money(total)} triệu đồng, trong đó thu được hưởng "
            f"theo phân cấp {_money(_OWN_REVENUE_NEXT)} triệu đồng; thu bổ sung từ ngân sách cấp "
            f"trên {_money(total - _OWN_REVENUE_NEXT)} triệu đồng.",
            f"3. Tổng chi ngân sách {c.unit}: {_money(total)} triệu đồng, gồm chi đầu tư phát "
            f"triển {_money(_DEVELOPMENT_SPENDING.next_year)} triệu đồng; chi thường xuyên "
            f"{_money(_recurrent_total(True))} triệu đồng; dự phòng ngân sách "
            f"{_money(_RESERVE.next_year)} triệu đồng.",
        )
        + _lead(
            "Điều 2.", f"Phân bổ dự toán chi ngân sách {c.unit} năm {y} cho các đơn vị như sau:"
        )
        + _table(f"Phân bổ dự toán chi ngân sách {c.unit} năm {y}", columns, _allocation_rows(c))
        + _lead("Điều 3.", "Giải pháp điều hành ngân sách")
        + _paragraphs(
            "1. Giao dự toán cho các đơn vị trước ngày 31 tháng 12; thực hiện công khai dự toán "
            "theo quy định.",
            "2. Quản lý chặt chẽ các khoản chi; sử dụng dự phòng ngân sách đúng mục đích. Trường "
            "hợp phát sinh nhiệm vụ cấp bách, Ủy ban nhân dân thống nhất với Thường trực Hội "
            "đồng nhân dân trước khi thực hiện và báo cáo Hội đồng nhân dân tại kỳ họp gần nhất.",
        )
        + _enforcement(c, article=4)
    )
    formula = _enacting_formula(
        c,
        (f"Căn cứ Luật Ngân sách nhà nước {_date_words(_BUDGET_LAW)};",),
        f"Xét Tờ trình số {_ESTIMATE_NUMBER} của Ủy ban nhân dân {c.unit}; Báo cáo thẩm tra "
        "của Ban Kinh tế - Xã hội và ý kiến thảo luận của đại biểu Hội đồng nhân dân tại kỳ họp.",
    )
    return _Paper(
        title=f"Dự thảo nghị quyết về dự toán và phân bổ ngân sách năm {y}",
        filename=f"du-thao-nq-du-toan-ngan-sach-{y}.pdf",
        kind="NGHỊ QUYẾT",
        number="Số:        /NQ-HĐND",
        subject=f"Về dự toán thu, chi ngân sách {c.unit} và phân bổ ngân sách năm {y}",
        issuer=_council_issuer(c),
        issued=c.session_date,
        body=body,
        signature=_COUNCIL_CHAIR,
        recipients=_resolution_recipients(c),
        place=c.place,
        draft=True,
        preamble=formula,
    )


# ---------------------------------------------------------------------------
# Item 4: public investment plan


_INVESTMENT_NUMBER = "322/TTr-UBND"


def _investment_rows(year: int) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    number = 0
    for roman, (group, projects) in zip(("I", "II", "III"), _PROJECT_GROUPS, strict=True):
        rows.append(
            _Strong(
                (
                    roman,
                    group,
                    "",
                    _money(sum(p.total_cost for p in projects)),
                    _money(sum(p.funded_so_far for p in projects)),
                    _money(sum(p.next_year for p in projects)),
                )
            )
        )
        for project in projects:
            number += 1
            rows.append(
                (
                    str(number),
                    project.name,
                    project.period,
                    _money(project.total_cost),
                    _money(project.funded_so_far),
                    _money(project.next_year),
                )
            )
    rows.append(
        _Strong(
            (
                "IV",
                "Thanh toán khối lượng hoàn thành, quyết toán dự án",
                "",
                "",
                "",
                _money(_completed_works_payment()),
            )
        )
    )
    rows.append(_Strong(("", "TỔNG CỘNG", "", "", "", _money(_DEVELOPMENT_SPENDING.next_year))))
    return rows


def _investment_submission(c: _Council) -> _Paper:
    y = c.year + 1
    planned, disbursed = _DEVELOPMENT_SPENDING.this_year, 36_920
    columns = (
        _Column("STT", "center"),
        _Column("Danh mục dự án"),
        _Column("Thời gian thực hiện", "center"),
        _Column("Tổng mức đầu tư", "right"),
        _Column(f"Lũy kế vốn đến hết năm {y - 1}", "right"),
        _Column(f"Kế hoạch vốn năm {y}", "right"),
    )
    body = (
        _heading(f"I. KẾT QUẢ THỰC HIỆN KẾ HOẠCH ĐẦU TƯ CÔNG NĂM {y - 1}")
        + _paragraphs(
            f"Kế hoạch vốn đầu tư công năm {y - 1} của {c.unit} là {_money(planned)} triệu đồng, "
            f"bố trí cho 11 dự án. Đến ngày 31/10/{y - 1} đã giải ngân {_money(disbursed)} triệu "
            f"đồng, đạt {_percent_of(disbursed, planned)}% kế hoạch; ước đến ngày 31/01/{y} giải "
            "ngân đạt 96,5%. Đã hoàn thành, đưa vào sử dụng 4 công trình, phát huy hiệu quả đầu "
            "tư.",
            "Một số dự án giải ngân chậm do phải điều chỉnh thiết kế cho phù hợp hiện trạng và "
            "vướng mắc trong việc di chuyển hệ thống cấp nước, thông tin liên lạc đi nổi.",
        )
        + _heading("II. NGUYÊN TẮC BỐ TRÍ VỐN")
        + _paragraphs(
            "1. Tuân thủ quy định của Luật Đầu tư công; chỉ bố trí vốn cho dự án đã có quyết định "
            "đầu tư hoặc quyết định phê duyệt chủ trương đầu tư (đối với nhiệm vụ chuẩn bị đầu "
            "tư).",
            "2. Ưu tiên thanh toán khối lượng hoàn thành, dự án chuyển tiếp có khả năng hoàn "
            "thành trong năm; sau đó mới bố trí cho dự án khởi công mới.",
            "3. Không bố trí vốn vượt quá tổng mức đầu tư và khả năng giải ngân thực tế.",
        )
        + _heading(f"III. DỰ KIẾN KẾ HOẠCH ĐẦU TƯ CÔNG NĂM {y}")
        + _paragraphs(
            f"Tổng kế hoạch vốn đầu tư công năm {y} là {_money(_DEVELOPMENT_SPENDING.next_year)} "
            f"triệu đồng từ nguồn ngân sách {c.unit}, dự kiến phân bổ như sau:",
        )
        + _table(f"Bảng 1. Danh mục dự án và kế hoạch vốn năm {y}", columns, _investment_rows(y))
        + _heading("IV. GIẢI PHÁP THỰC HIỆN")
        + _paragraphs(
            "Giao chi tiết kế hoạch vốn ngay sau khi được Hội đồng nhân dân thông qua; người "
            "đứng đầu các chủ đầu tư chịu trách nhiệm về tiến độ giải ngân; định kỳ hằng tháng "
            "rà soát, điều chuyển vốn từ dự án chậm giải ngân sang dự án có nhu cầu.",
        )
        + _closing(
            f"Ủy ban nhân dân {c.unit} kính trình Hội đồng nhân dân {c.unit} xem xét, quyết định"
        )
    )
    return _Paper(
        title=f"Tờ trình về kế hoạch đầu tư công năm {y}",
        filename=f"to-trinh-ke-hoach-dau-tu-cong-{y}.pdf",
        kind="TỜ TRÌNH",
        number=f"Số: {_INVESTMENT_NUMBER}",
        subject=f"Về việc kế hoạch đầu tư công năm {y} của {c.unit}",
        issuer=_committee(c),
        issued=c.days_before(17),
        body=body,
        signature=_COMMITTEE_CHAIR,
        recipients=_committee_recipients(c),
        place=c.place,
        addressee=c.council,
    )


def _investment_resolution(c: _Council) -> _Paper:
    y = c.year + 1
    columns = (
        _Column("STT", "center"),
        _Column("Nội dung"),
        _Column("Số dự án", "center"),
        _Column(f"Kế hoạch vốn năm {y}", "right"),
    )
    rows: list[tuple[str, ...]] = [
        (str(i), group, str(len(projects)), _money(sum(p.next_year for p in projects)))
        for i, (group, projects) in enumerate(_PROJECT_GROUPS, start=1)
    ]
    rows.append(
        (
            "4",
            "Thanh toán khối lượng hoàn thành, quyết toán dự án",
            "",
            _money(_completed_works_payment()),
        )
    )
    project_count = sum(len(projects) for _, projects in _PROJECT_GROUPS)
    rows.append(
        _Strong(("", "Tổng cộng", str(project_count), _money(_DEVELOPMENT_SPENDING.next_year)))
    )
    body = (
        _lead(
            "Điều 1.",
            f"Thông qua kế hoạch đầu tư công năm {y} từ nguồn ngân sách {c.unit} "
            f"với tổng số vốn {_money(_DEVELOPMENT_SPENDING.next_year)} triệu đồng, cụ thể:",
        )
        + _table(f"Kế hoạch đầu tư công năm {y}", columns, rows)
        + _paragraphs(
            f"(Danh mục chi tiết từng dự án theo Tờ trình số {_INVESTMENT_NUMBER} của Ủy ban "
            f"nhân dân {c.unit}.)",
        )
        + _lead("Điều 2.", f"Giao Ủy ban nhân dân {c.unit}:")
        + _paragraphs(
            "1. Giao chi tiết kế hoạch vốn cho từng dự án theo đúng quy định; chỉ đạo các chủ "
            "đầu tư đẩy nhanh tiến độ thực hiện, giải ngân 100% kế hoạch vốn được giao.",
            "2. Trường hợp cần điều chỉnh kế hoạch vốn giữa các dự án, thống nhất với Thường trực "
            "Hội đồng nhân dân trước khi thực hiện và báo cáo Hội đồng nhân dân tại kỳ họp gần "
            "nhất.",
            "3. Tăng cường kiểm tra, giám sát chất lượng công trình; xử lý nghiêm tổ chức, cá "
            "nhân gây chậm trễ, thất thoát, lãng phí.",
        )
        + _enforcement(c, article=3)
    )
    formula = _enacting_formula(
        c,
        (f"Căn cứ Luật Đầu tư công {_date_words(_PUBLIC_INVESTMENT_LAW)};",),
        f"Xét Tờ trình số {_INVESTMENT_NUMBER} của Ủy ban nhân dân {c.unit}; Báo cáo thẩm tra "
        "của Ban Kinh tế - Xã hội và ý kiến thảo luận của đại biểu Hội đồng nhân dân tại kỳ họp.",
    )
    return _Paper(
        title=f"Dự thảo nghị quyết về kế hoạch đầu tư công năm {y}",
        filename=f"du-thao-nq-ke-hoach-dau-tu-cong-{y}.pdf",
        kind="NGHỊ QUYẾT",
        number="Số:        /NQ-HĐND",
        subject=f"Về kế hoạch đầu tư công năm {y}",
        issuer=_council_issuer(c),
        issued=c.session_date,
        body=body,
        signature=_COUNCIL_CHAIR,
        recipients=_resolution_recipients(c),
        place=c.place,
        draft=True,
        preamble=formula,
    )


# ---------------------------------------------------------------------------
# Item 5: land-use plan

# (land type, code, hectares now, change next year)
_LAND_USE = (
    ("Đất ở tại đô thị", "ODT", 118.62, -0.07),
    ("Đất xây dựng trụ sở cơ quan", "TSC", 21.35, 0.0),
    ("Đất xây dựng cơ sở giáo dục và đào tạo", "DGD", 12.48, 0.42),
    ("Đất thương mại, dịch vụ", "TMD", 15.91, 0.0),
    ("Đất giao thông", "DGT", 74.26, 0.0),
    ("Đất công viên, cây xanh, khu vui chơi, giải trí công cộng", "DKV", 19.73, 0.16),
    ("Đất sinh hoạt cộng đồng", "DSH", 1.64, 0.08),
    ("Đất có mặt nước chuyên dùng", "MNC", 21.87, 0.0),
    ("Đất chưa sử dụng", "CSD", 0.59, -0.59),
)


def _land_use_rows() -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for i, (name, code, now, change) in enumerate(_LAND_USE, start=1):
        sign = "+" if change > 0 else ""
        rows.append(
            (
                str(i),
                name,
                code,
                _decimal(now, 2),
                _decimal(now + change, 2),
                f"{sign}{_decimal(change, 2)}" if change else "-",
            )
        )
    now_total = sum(now for _, _, now, _ in _LAND_USE)
    next_total = sum(now + change for _, _, now, change in _LAND_USE)
    rows.append(
        _Strong(
            ("", "Tổng diện tích tự nhiên", "", _decimal(now_total, 2), _decimal(next_total, 2), "")
        )
    )
    return rows


def _land_projects(unit: str) -> list[tuple[str, ...]]:
    projects = (
        (
            "Xây dựng nhà văn hóa tổ dân phố số 9",
            "Tổ dân phố số 9",
            0.08,
            "Đất chưa sử dụng xen kẹt",
            f"Ngân sách {unit}",
        ),
        (
            "Cải tạo, mở rộng Trường Trung học cơ sở số 2",
            "Tổ dân phố số 14",
            0.42,
            "Đất giáo dục; đất ở (0,07 ha)",
            "Ngân sách cấp trên",
        ),
        (
            "Vườn hoa, sân chơi cộng đồng",
            "Tổ dân phố số 2",
            0.16,
            "Đất chưa sử dụng, đất giao thông",
            "Xã hội hóa",
        ),
        (
            f"Chỉnh trang vỉa hè, chiếu sáng các tuyến đường nội {unit}",
            "Tổ dân phố số 3, 4, 11",
            1.25,
            "Đất giao thông (giữ nguyên mục đích)",
            f"Ngân sách {unit}",
        ),
    )
    rows = [
        (str(i), name, where, _decimal(area, 2), now, source)
        for i, (name, where, area, now, source) in enumerate(projects, start=1)
    ]
    total = sum(area for _, _, area, _, _ in projects)
    return [*rows, _Strong(("", "Tổng cộng", "", _decimal(total, 2), "", ""))]


def _land_use_submission(c: _Council) -> _Paper:
    y = c.year + 1
    use_columns = (
        _Column("STT", "center"),
        _Column("Loại đất"),
        _Column("Mã", "center"),
        _Column(f"Hiện trạng năm {y - 1}", "right"),
        _Column(f"Kế hoạch năm {y}", "right"),
        _Column("Tăng (+), giảm (-)", "right"),
    )
    project_columns = (
        _Column("STT", "center"),
        _Column("Công trình, dự án"),
        _Column("Địa điểm"),
        _Column("Diện tích (ha)", "right"),
        _Column("Hiện trạng sử dụng đất"),
        _Column("Nguồn vốn"),
    )
    body = (
        _heading("I. SỰ CẦN THIẾT")
        + _paragraphs(
            f"Kế hoạch sử dụng đất năm {y} là căn cứ để giao đất, cho thuê đất, chuyển mục đích "
            f"sử dụng đất và thu hồi đất trên địa bàn {c.unit}. Việc lập kế hoạch nhằm bảo đảm "
            "quỹ đất cho các công trình hạ tầng xã hội thiết yếu, nhất là trường học, nhà văn "
            "hóa và không gian công cộng, đồng thời quản lý chặt chẽ quỹ đất công, hạn chế lấn "
            "chiếm, sử dụng sai mục đích.",
        )
        + _heading("II. CĂN CỨ PHÁP LÝ")
        + _paragraphs(
            f"- Luật Đất đai {_date_words(_LAND_LAW)} và các văn bản hướng dẫn thi hành;",
            "- Quy hoạch chung xây dựng, quy hoạch phân khu đô thị đã được cấp có thẩm quyền phê "
            "duyệt;",
            f"- Nghị quyết của Hội đồng nhân dân {c.unit} về kế hoạch đầu tư công năm {y}.",
        )
        + _heading(f"III. NỘI DUNG KẾ HOẠCH SỬ DỤNG ĐẤT NĂM {y}")
        + _subheading("1. Chỉ tiêu sử dụng đất")
        + _paragraphs(
            "Các chỉ tiêu sử dụng đất được xác định trên cơ sở kết quả kiểm kê đất đai và nhu "
            "cầu sử dụng đất của các cơ quan, tổ chức, cá nhân đã đăng ký:",
        )
        + _table(
            f"Bảng 1. Chỉ tiêu sử dụng đất năm {y}",
            use_columns,
            _land_use_rows(),
            unit="Đơn vị tính: ha",
        )
        + _subheading("2. Danh mục công trình, dự án thực hiện trong năm")
        + _table(
            f"Bảng 2. Công trình, dự án sử dụng đất năm {y}",
            project_columns,
            _land_projects(c.unit),
            unit="",
        )
        + _heading("IV. GIẢI PHÁP TỔ CHỨC THỰC HIỆN")
        + _paragraphs(
            "1. Công bố công khai kế hoạch sử dụng đất tại trụ sở Ủy ban nhân dân và trên cổng "
            "thông tin điện tử trong thời hạn 15 ngày kể từ ngày được thông qua.",
            "2. Phối hợp với các tổ dân phố vận động người sử dụng đất chấp hành; thực hiện bồi "
            "thường, hỗ trợ đúng quy định, công khai, minh bạch.",
            "3. Kiểm tra thường xuyên, xử lý kịp thời các trường hợp sử dụng đất sai mục đích, "
            "lấn chiếm đất công.",
        )
        + _closing(
            f"Ủy ban nhân dân {c.unit} kính trình Hội đồng nhân dân {c.unit} xem xét, thông qua"
        )
    )
    return _Paper(
        title=f"Tờ trình về kế hoạch sử dụng đất năm {y}",
        filename=f"to-trinh-ke-hoach-su-dung-dat-{y}.pdf",
        kind="TỜ TRÌNH",
        number="Số: 325/TTr-UBND",
        subject=f"Về việc thông qua kế hoạch sử dụng đất năm {y} của {c.unit}",
        issuer=_committee(c),
        issued=c.days_before(16),
        body=body,
        signature=_COMMITTEE_DEPUTY,
        recipients=_committee_recipients(c),
        place=c.place,
        addressee=c.council,
    )


# ---------------------------------------------------------------------------
# Item 6: voters' petitions


_PETITIONS = (
    ("Quản lý đô thị, trật tự xây dựng", 18, 15),
    ("Hạ tầng giao thông, thoát nước", 14, 10),
    ("Vệ sinh môi trường, cây xanh", 9, 9),
    ("An ninh, trật tự an toàn xã hội", 7, 7),
    ("Chính sách xã hội, người có công", 6, 6),
    ("Giáo dục, y tế", 5, 4),
    ("Đất đai, nhà ở", 8, 5),
)


def _petition_rows() -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = [
        (str(i), field, str(total), str(done), str(total - done), _percent_of(done, total))
        for i, (field, total, done) in enumerate(_PETITIONS, start=1)
    ]
    total = sum(count for _, count, _ in _PETITIONS)
    done = sum(count for _, _, count in _PETITIONS)
    rows.append(
        _Strong(
            ("", "Tổng cộng", str(total), str(done), str(total - done), _percent_of(done, total))
        )
    )
    return rows


def _petitions_report(c: _Council) -> _Paper:
    y = c.year
    total = sum(count for _, count, _ in _PETITIONS)
    done = sum(count for _, _, count in _PETITIONS)
    columns = (
        _Column("STT", "center"),
        _Column("Lĩnh vực"),
        _Column("Số kiến nghị", "right"),
        _Column("Đã giải quyết", "right"),
        _Column("Đang giải quyết", "right"),
        _Column("Tỷ lệ đã giải quyết (%)", "right"),
    )
    body = (
        _heading("I. TÌNH HÌNH TIẾP NHẬN")
        + _paragraphs(
            f"Qua các buổi tiếp xúc cử tri trước và sau kỳ họp giữa năm {y}, Thường trực Hội "
            f"đồng nhân dân {c.unit} đã tổng hợp, chuyển đến Ủy ban nhân dân {total} ý kiến, kiến "
            "nghị của cử tri. Ủy ban nhân dân đã phân công lãnh đạo phụ trách, giao các phòng "
            "chuyên môn nghiên cứu, giải quyết và trả lời bằng văn bản theo quy định.",
        )
        + _heading("II. KẾT QUẢ GIẢI QUYẾT")
        + _paragraphs(
            f"Đến nay đã giải quyết, trả lời {done}/{total} kiến nghị, đạt "
            f"{_percent_of(done, total)}%; số còn lại đang được giải quyết theo lộ trình. Kết "
            "quả theo từng lĩnh vực như sau:",
        )
        + _table(
            "Bảng 1. Kết quả giải quyết kiến nghị của cử tri theo lĩnh vực",
            columns,
            _petition_rows(),
            unit="Đơn vị tính: kiến nghị",
        )
        + _paragraphs(
            "Một số kiến nghị tiêu biểu đã được giải quyết dứt điểm: cử tri tổ dân phố số 6 phản "
            "ánh tình trạng ngập úng cục bộ tại ngõ 25 khi mưa lớn, Ủy ban nhân dân đã bố trí "
            "kinh phí nạo vét, thay thế 120 m cống thoát nước; cử tri tổ dân phố số 11 kiến nghị "
            "bổ sung đèn chiếu sáng tại khu vực vườn hoa, đã lắp đặt 18 bộ đèn trong tháng 9.",
        )
        + _heading("III. CÁC KIẾN NGHỊ ĐANG GIẢI QUYẾT")
        + _paragraphs(
            "Các kiến nghị về cải tạo hạ tầng ngõ xóm, mở rộng trường học và cấp Giấy chứng nhận "
            "quyền sử dụng đất cho các hộ có nguồn gốc đất phức tạp cần thời gian và kinh phí "
            f"lớn. Ủy ban nhân dân đã đưa vào kế hoạch đầu tư công năm {y + 1} và sẽ báo cáo kết "
            "quả tại kỳ họp giữa năm.",
        )
        + _heading("IV. ĐÁNH GIÁ CHUNG")
        + _paragraphs(
            "Việc giải quyết kiến nghị của cử tri được quan tâm, chất lượng trả lời được nâng "
            "lên, nhiều kiến nghị được xử lý ngay tại cơ sở. Tuy nhiên, một số văn bản trả lời "
            "còn chung chung, chưa nêu rõ thời hạn giải quyết.",
        )
        + _closing(f"Ủy ban nhân dân {c.unit} báo cáo Hội đồng nhân dân {c.unit} tại kỳ họp")
    )
    return _Paper(
        title="Báo cáo kết quả giải quyết kiến nghị của cử tri",
        filename=f"bao-cao-giai-quyet-kien-nghi-cu-tri-{y}.pdf",
        kind="BÁO CÁO",
        number="Số: 330/BC-UBND",
        subject=f"Kết quả giải quyết ý kiến, kiến nghị của cử tri trước và sau kỳ họp giữa năm {y}",
        issuer=_committee(c),
        issued=c.days_before(14),
        body=body,
        signature=_COMMITTEE_CHAIR,
        recipients=_committee_recipients(c),
        place=c.place,
    )


# ---------------------------------------------------------------------------
# Item 7: questions to the committee


def _questions_report(c: _Council) -> _Paper:
    columns = (
        _Column("STT", "center"),
        _Column("Nhóm vấn đề chất vấn"),
        _Column("Người trả lời chất vấn"),
        _Column("Thời lượng (phút)", "center"),
    )
    rows = [
        (
            "1",
            "Quản lý trật tự đô thị; tình trạng lấn chiếm vỉa hè, lòng đường",
            f"Phó Chủ tịch UBND {c.unit} phụ trách đô thị",
            "30",
        ),
        (
            "2",
            "Tiến độ thực hiện, giải ngân các dự án đầu tư công",
            f"Chủ tịch UBND {c.unit}",
            "25",
        ),
        (
            "3",
            "Giải quyết thủ tục cấp Giấy chứng nhận quyền sử dụng đất",
            "Trưởng phòng Kinh tế, Hạ tầng và Đô thị",
            "20",
        ),
        ("4", "Sĩ số lớp học vượt quy định ở cấp tiểu học", "Trưởng phòng Văn hóa - Xã hội", "20"),
    ]
    body = (
        _heading("I. CĂN CỨ LỰA CHỌN NHÓM VẤN ĐỀ")
        + _paragraphs(
            f"Trên cơ sở tổng hợp ý kiến, kiến nghị của cử tri, kết quả giám sát của Thường trực "
            f"và các Ban của Hội đồng nhân dân, phiếu đăng ký chất vấn của đại biểu và báo cáo "
            f"của Ủy ban nhân dân trình kỳ họp, Thường trực Hội đồng nhân dân {c.unit} lựa chọn "
            "các nhóm vấn đề được cử tri quan tâm, có tác động trực tiếp đến đời sống Nhân dân "
            "để đưa ra chất vấn tại kỳ họp.",
        )
        + _heading("II. NHÓM VẤN ĐỀ VÀ NGƯỜI TRẢ LỜI CHẤT VẤN")
        + _table("Bảng 1. Nhóm vấn đề chất vấn tại kỳ họp", columns, rows, unit="")
        + _heading("III. CÁCH THỨC TIẾN HÀNH")
        + _paragraphs(
            "1. Đại biểu đăng ký chất vấn bằng phiếu hoặc bấm nút trên hệ thống phòng họp; mỗi "
            "lượt chất vấn không quá 2 phút, nêu câu hỏi ngắn gọn, đúng nhóm vấn đề.",
            "2. Người trả lời chất vấn trả lời trực tiếp, đi thẳng vào vấn đề, nêu rõ trách "
            "nhiệm, giải pháp và thời hạn khắc phục; mỗi lượt trả lời không quá 5 phút.",
            "3. Đại biểu chưa đồng ý với nội dung trả lời được tranh luận một lần. Các câu hỏi "
            "chưa được trả lời tại kỳ họp sẽ được trả lời bằng văn bản trong thời hạn 15 ngày.",
            "4. Kết thúc phiên chất vấn, chủ tọa kỳ họp kết luận; Thường trực Hội đồng nhân dân "
            "theo dõi, giám sát việc thực hiện các cam kết tại kỳ họp.",
        )
        + _heading("IV. ĐỀ NGHỊ")
        + _paragraphs(
            f"Đề nghị các đại biểu Hội đồng nhân dân {c.unit} nghiên cứu kỹ tài liệu, chuẩn bị "
            "câu hỏi chất vấn tập trung, có trọng tâm; đề nghị những người được mời trả lời chất "
            "vấn chuẩn bị đầy đủ số liệu, báo cáo và có mặt đúng thời gian.",
        )
        + _closing(
            f"Thường trực Hội đồng nhân dân {c.unit} báo cáo để các vị đại biểu biết, thực hiện"
        )
    )
    return _Paper(
        title="Báo cáo nhóm vấn đề chất vấn tại kỳ họp",
        filename="bao-cao-nhom-van-de-chat-van.pdf",
        kind="BÁO CÁO",
        number="Số: 52/BC-HĐND",
        subject="Nhóm vấn đề chất vấn và trả lời chất vấn tại kỳ họp",
        issuer=_council_issuer(c),
        issued=c.days_before(5),
        body=body,
        signature=_STANDING_BOARD,
        recipients=(
            f"Thường trực HĐND {c.unit};",
            f"Đại biểu HĐND {c.unit};",
            f"Chủ tịch, các Phó Chủ tịch UBND {c.unit};",
            "Các phòng chuyên môn có liên quan;",
            "Lưu: VT.",
        ),
        place=c.place,
    )


# ---------------------------------------------------------------------------
# The agenda


def _papers(*papers: _Paper) -> tuple[DemoPaper, ...]:
    return tuple(_demo_paper(paper) for paper in papers)


@functools.cache
def _cached_session(body: str, place: str, date: datetime.date) -> tuple[DemoItem, ...]:
    c = _Council.from_body(body, place, date)
    y = c.year
    return (
        DemoItem("1", "Khai mạc kỳ họp; thông qua chương trình kỳ họp", ()),
        DemoItem(
            "2",
            f"Báo cáo tình hình kinh tế - xã hội, quốc phòng, an ninh năm {y}; mục tiêu, nhiệm "
            f"vụ năm {y + 1}",
            _papers(
                _socio_economic_report(c), _socio_economic_review(c), _socio_economic_resolution(c)
            ),
        ),
        DemoItem("3", f"Các nội dung về ngân sách {c.unit}", ()),
        DemoItem(
            "3.1",
            f"Phê chuẩn quyết toán ngân sách {c.unit} năm {y - 1}",
            _papers(_settlement_submission(c)),
        ),
        DemoItem(
            "3.2",
            f"Dự toán thu, chi và phương án phân bổ ngân sách {c.unit} năm {y + 1}",
            _papers(_estimate_submission(c), _estimate_resolution(c)),
        ),
        DemoItem(
            "4",
            f"Kế hoạch đầu tư công năm {y + 1}",
            _papers(_investment_submission(c), _investment_resolution(c)),
        ),
        DemoItem("5", f"Kế hoạch sử dụng đất năm {y + 1}", _papers(_land_use_submission(c))),
        DemoItem(
            "6",
            "Báo cáo kết quả giải quyết ý kiến, kiến nghị của cử tri",
            _papers(_petitions_report(c)),
        ),
        DemoItem("7", "Chất vấn và trả lời chất vấn", _papers(_questions_report(c))),
        DemoItem("8", "Thông qua các nghị quyết; bế mạc kỳ họp", ()),
    )
