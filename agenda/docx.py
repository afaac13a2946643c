"""Word copies (.docx) of the minutes and of the conclusion notice.

Secretaries finish documents in Word, so the record is also given as a WordprocessingML
file with the same content as its PDF, in the form of Decree 30/2020/NĐ-CP: A4 with the
decree's margins (top and bottom 20 mm, left 30 mm, right 15 mm), Times New Roman, the
header as a borderless table (issuer | national motto), the title, the body, the signature
blocks and "Nơi nhận"; page numbers centred in the top margin from page 2; a draft says
DỰ THẢO at the top of every page. The file is written by hand with :mod:`zipfile`: the
same data always gives the same bytes.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from agenda import fonts
from agenda.minutes import (
    ItemRecord,
    MinutesData,
    Person,
    Turn,
    VoteOutcome,
    attendance_words,
    by_item,
    closing_sentence,
)
from agenda.notice import NoticeData, closing, opening, subject
from agenda.wording import (  # the PDF's own words, so the two copies of the minutes agree
    LEADERS,
    item_key,
    locality,
    paragraphs,
    percent,
    plain_date,
    recipient_lines,
    sentence,
    with_title,
)

FONT = "Times New Roman"
BODY_SIZE = 14
TABLE_SIZE = 12

# Lengths are in twentieths of a point ("twips"), as WordprocessingML has them.
_MM = 56.7
_PAGE_W, _PAGE_H = 11906, 16838
_TOP, _BOTTOM, _LEFT, _RIGHT = round(20 * _MM), round(20 * _MM), round(30 * _MM), round(15 * _MM)
TEXT_WIDTH = _PAGE_W - _LEFT - _RIGHT
_ISSUER_WIDTH = 3500
_INDENT = 720  # first line of a body paragraph: 1.27 cm, as the PDF has it

_W = (
    'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
)
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class Run:
    """Text in one style."""

    text: str
    bold: bool = False
    italic: bool = False
    size: float | None = None


# ---------------------------------------------------------------------------
# WordprocessingML pieces


def _run(run: Run) -> str:
    style = "".join(
        (
            "<w:b/><w:bCs/>" if run.bold else "",
            "<w:i/><w:iCs/>" if run.italic else "",
            f'<w:sz w:val="{round(run.size * 2)}"/><w:szCs w:val="{round(run.size * 2)}"/>'
            if run.size
            else "",
        )
    )
    text = escape(_NOT_XML.sub("", run.text))
    return f'<w:r><w:rPr>{style}</w:rPr><w:t xml:space="preserve">{text}</w:t></w:r>'


def para(
    *runs: Run | str,
    align: str = "both",
    indent: int = _INDENT,
    before: int = 0,
    after: int = 120,
    keep: bool = False,
    line: int = 288,
) -> str:
    """A paragraph; ``align`` is left, center, right or both (justified), ``indent`` that of
    its first line; spacing in twips, ``line`` in 240ths of a line."""
    props = (
        "<w:keepNext/>" if keep else "",
        f'<w:spacing w:before="{before}" w:after="{after}" w:line="{line}" w:lineRule="auto"/>',
        f'<w:ind w:firstLine="{indent}"/>' if indent else "",
        f'<w:jc w:val="{align}"/>',
    )
    body = "".join(_run(Run(r) if isinstance(r, str) else r) for r in runs)
    return f"<w:p><w:pPr>{''.join(props)}</w:pPr>{body}</w:p>"


def rule(margin: int) -> str:
    """A thin line under the paragraph before, ``margin`` in from each side of the column."""
    return (
        '<w:p><w:pPr><w:pBdr><w:top w:val="single" w:sz="6" w:space="1" w:color="000000"/>'
        '</w:pBdr><w:spacing w:before="90" w:after="0" w:line="240" w:lineRule="auto"/>'
        f'<w:ind w:left="{margin}" w:right="{margin}"/></w:pPr></w:p>'
    )


def centered(
    text: str,
    bold: bool = False,
    italic: bool = False,
    size: float | None = None,
    before: int = 0,
    after: int = 0,
) -> str:
    return para(
        Run(text, bold, italic, size),
        align="center",
        indent=0,
        before=before,
        after=after,
        line=240,
    )


def table(
    rows: Sequence[Sequence[Sequence[str]]],
    widths: Sequence[int],
    borders: bool = True,
    header: bool = False,
) -> str:
    """A table of ``rows``, each cell a list of paragraphs; ``widths`` in twips; ``header``
    repeats the first row on every page."""
    edge = '<w:{0} w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
    none = '<w:{0} w:val="nil"/>'
    sides = ("top", "left", "bottom", "right", "insideH", "insideV")
    lines = "".join((edge if borders else none).format(side) for side in sides)
    grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in widths)
    body = []
    for n, row in enumerate(rows):
        repeat = (
            "<w:trPr><w:tblHeader/><w:cantSplit/></w:trPr>"
            if header and n == 0
            else "<w:trPr><w:cantSplit/></w:trPr>"
        )
        cells = "".join(
            f'<w:tc><w:tcPr><w:tcW w:w="{w}" w:type="dxa"/></w:tcPr>{"".join(cell) or "<w:p/>"}'
            "</w:tc>"
            for cell, w in zip(row, widths, strict=True)
        )
        body.append(f"<w:tr>{repeat}{cells}</w:tr>")
    return (
        f'<w:tbl><w:tblPr><w:tblW w:w="{sum(widths)}" w:type="dxa"/><w:jc w:val="center"/>'
        f'<w:tblBorders>{lines}</w:tblBorders><w:tblLayout w:type="fixed"/>'
        '<w:tblCellMar><w:left w:w="80" w:type="dxa"/><w:right w:w="80" w:type="dxa"/>'
        f"</w:tblCellMar></w:tblPr><w:tblGrid>{grid}</w:tblGrid>{''.join(body)}</w:tbl>"
    )


def grid(
    headings: Sequence[str],
    rows: Iterable[Sequence[str]],
    shares: Sequence[float],
    aligns: Sequence[str] = (),
    size: float = TABLE_SIZE,
) -> str:
    """A bordered table with a bold header row, ``shares`` of the text width per column."""
    widths = [round(TEXT_WIDTH * share) for share in shares]
    aligns = tuple(aligns) or ("left",) * len(widths)

    def cell(text: str, align: str, bold: bool = False) -> list[str]:
        run = Run(text, bold=bold, size=size)
        return [para(run, align=align, indent=0, after=0, line=240)]

    head = [cell(text, "center", True) for text in headings]
    body = [[cell(text, align) for text, align in zip(row, aligns, strict=True)] for row in rows]
    return table([head, *body], widths, header=True) + _SPACER


_SPACER = (
    '<w:p><w:pPr><w:spacing w:before="0" w:after="0" w:line="120" w:lineRule="exact"/>'
    "</w:pPr></w:p>"
)


def _text_width(text: str, bold: bool, size: float) -> int:
    """How wide ``text`` is in Times New Roman, in twips (Liberation Serif has its metrics)."""
    return round(fonts.SERIF.font(bold).text_length(text, size) * 20)


def letterhead(issuer: Sequence[str], number: str, dateline: str) -> str:
    """Issuer over "Số: …" at the left, the national motto over place and date at the right;
    a short rule under the issuer and one as long as the slogan under it."""
    right = TEXT_WIDTH - _ISSUER_WIDTH
    slogan = "Độc lập - Tự do - Hạnh phúc"
    slogan_margin = max(0, (right - _text_width(slogan, True, 14)) // 2 - 100)
    issuer_rule = (_ISSUER_WIDTH - 1300) // 2 - 80
    left_cell = [centered(line, bold=True, size=13) for line in issuer]
    left_cell += [rule(issuer_rule), centered(f"Số: {number}", size=13)]
    right_cell = [
        centered("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold=True, size=13),
        centered(slogan, bold=True, size=14),
        rule(slogan_margin),
        centered(dateline, italic=True, size=14),
    ]
    return table([[left_cell, right_cell]], [_ISSUER_WIDTH, right], borders=False)


def signatures(blocks: Sequence[tuple[Sequence[str], str]], left: Sequence[str] = ()) -> str:
    """Signature blocks side by side, each (titles, name) with room to sign; ``left`` puts
    paragraphs (the recipients) in a first column instead."""
    cells = [list(left)] if left else []
    for titles, name in blocks:
        cell = [centered(title, bold=True) for title in titles]
        cell += [para(indent=0, after=0) for _ in range(4)]
        cell += [centered(name, bold=True)]
        cells.append(cell)
    widths = [TEXT_WIDTH // len(cells)] * len(cells)
    if left:
        widths = [round(TEXT_WIDTH * 0.45), TEXT_WIDTH - round(TEXT_WIDTH * 0.45)]
    return para(indent=0, after=0) + table([cells], widths, borders=False)


def recipients(lines: Sequence[str]) -> list[str]:
    """ "Nơi nhận:" over ``lines``, as written ("- Lưu: VT.")."""
    head = para(
        Run("Nơi nhận:", bold=True, italic=True, size=12), align="left", indent=0, after=0, line=240
    )
    return [head] + [
        para(Run(line, size=11), align="left", indent=0, after=0, line=240) for line in lines
    ]


# ---------------------------------------------------------------------------
# The package


def _header(text: str, page_number: bool) -> str:
    """A header part: "DỰ THẢO" at the right when ``text`` says so, then the page number."""
    parts = []
    if text:
        parts.append(para(Run(text, bold=True, size=13), align="right", indent=0, after=0))
    if page_number:
        number = (
            '<w:fldSimple w:instr=" PAGE "><w:r><w:rPr><w:sz w:val="26"/></w:rPr>'
            "<w:t>2</w:t></w:r></w:fldSimple>"
        )
        parts.append(
            f'<w:p><w:pPr><w:spacing w:after="0"/><w:jc w:val="center"/></w:pPr>{number}</w:p>'
        )
    return f"<w:hdr {_W}>{''.join(parts) or '<w:p/>'}</w:hdr>"


def _footer(text: str) -> str:
    line = para(Run(text, size=9), align="right", indent=0, after=0) if text else "<w:p/>"
    return f"<w:ftr {_W}>{line}</w:ftr>"


_STYLES = f"""<w:styles {_W}><w:docDefaults><w:rPrDefault><w:rPr>
<w:rFonts w:ascii="{FONT}" w:hAnsi="{FONT}" w:eastAsia="{FONT}" w:cs="{FONT}"/>
<w:sz w:val="{BODY_SIZE * 2}"/><w:szCs w:val="{BODY_SIZE * 2}"/><w:lang w:val="vi-VN"/>
</w:rPr></w:rPrDefault><w:pPrDefault><w:pPr><w:spacing w:after="0" w:line="240"
w:lineRule="auto"/></w:pPr></w:pPrDefault></w:docDefaults>
<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/>
<w:qFormat/></w:style>
<w:style w:type="table" w:default="1" w:styleId="TableNormal"><w:name w:val="Normal Table"/>
<w:tblPr><w:tblInd w:w="0" w:type="dxa"/><w:tblCellMar><w:left w:w="108" w:type="dxa"/>
<w:right w:w="108" w:type="dxa"/></w:tblCellMar></w:tblPr></w:style></w:styles>"""

_SETTINGS = f"""<w:settings {_W}><w:defaultTabStop w:val="720"/>
<w:characterSpacingControl w:val="doNotCompress"/><w:compat><w:compatSetting
w:name="compatibilityMode" w:uri="http://schemas.microsoft.com/office/word" w:val="15"/>
</w:compat></w:settings>"""

_RELS_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_RELS = f"""<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="{_RELS_NS}/officeDocument" Target="word/document.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>
</Relationships>"""  # noqa: E501

_DOCUMENT_RELS = f"""<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="{_RELS_NS}/styles" Target="styles.xml"/>
<Relationship Id="rId2" Type="{_RELS_NS}/settings" Target="settings.xml"/>
<Relationship Id="rId3" Type="{_RELS_NS}/header" Target="header1.xml"/>
<Relationship Id="rId4" Type="{_RELS_NS}/header" Target="header2.xml"/>
<Relationship Id="rId5" Type="{_RELS_NS}/footer" Target="footer1.xml"/>
</Relationships>"""

_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml"
_CONTENT_TYPES = f"""<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/word/document.xml" ContentType="{_MAIN}.document.main+xml"/>
<Override PartName="/word/styles.xml" ContentType="{_MAIN}.styles+xml"/>
<Override PartName="/word/settings.xml" ContentType="{_MAIN}.settings+xml"/>
<Override PartName="/word/header1.xml" ContentType="{_MAIN}.header+xml"/>
<Override PartName="/word/header2.xml" ContentType="{_MAIN}.header+xml"/>
<Override PartName="/word/footer1.xml" ContentType="{_MAIN}.footer+xml"/>
<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>
</Types>"""  # noqa: E501

_SECTION = (
    '<w:sectPr><w:headerReference w:type="default" r:id="rId3"/>'
    '<w:headerReference w:type="first" r:id="rId4"/>'
    '<w:footerReference w:type="default" r:id="rId5"/>'
    '<w:footerReference w:type="first" r:id="rId5"/>'
    f'<w:pgSz w:w="{_PAGE_W}" w:h="{_PAGE_H}"/>'
    f'<w:pgMar w:top="{_TOP}" w:right="{_RIGHT}" w:bottom="{_BOTTOM}" w:left="{_LEFT}" '
    'w:header="567" w:footer="567" w:gutter="0"/><w:titlePg/></w:sectPr>'
)


def package(body: Sequence[str], title: str, draft: bool, version: int) -> bytes:
    """The .docx file: ``body`` paragraphs and tables on A4 in the decree's margins."""
    mark = "DỰ THẢO" if draft else ""
    core = (
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
        'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<dc:title>{escape(_NOT_XML.sub('', title))}</dc:title><dc:creator>phonghop</dc:creator>"
        "<dc:language>vi-VN</dc:language></cp:coreProperties>"
    )
    document = f"<w:document {_W}><w:body>{''.join(body)}{_SECTION}</w:body></w:document>"
    parts = {
        "[Content_Types].xml": _CONTENT_TYPES,
        "_rels/.rels": _PACKAGE_RELS,
        "docProps/core.xml": core,
        "word/_rels/document.xml.rels": _DOCUMENT_RELS,
        "word/document.xml": document,
        "word/styles.xml": _STYLES,
        "word/settings.xml": _SETTINGS,
        "word/header1.xml": _header(mark, page_number=True),
        "word/header2.xml": _header(mark, page_number=False),
        "word/footer1.xml": _footer(f"Phiên bản {version}" if version else ""),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as docx:
        for name, xml in parts.items():
            entry = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            declaration = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            docx.writestr(entry, declaration + xml)
    return buffer.getvalue()


# ---------------------------------------------------------------------------
# The minutes, in the words of agenda/minutes.py


def _heading(text: str) -> str:
    return para(Run(text, bold=True), before=120, keep=True)


def _lead(lead: str, text: str) -> str:
    return para(Run(lead, bold=True), f" {text}")


def _texts(text: str) -> list[str]:
    return [para(line) for line in paragraphs(text)]


def _note(text: str) -> str:
    return para(Run(text, italic=True))


def minutes_docx(data: MinutesData) -> bytes:
    """The minutes as a Word file, with the content of :func:`agenda.minutes.minutes_pdf`."""
    issuer = list(data.issuer) or ["HỘI ĐỒNG NHÂN DÂN", locality(data.body).upper()]
    dateline = f"{data.locality or data.place}, ngày {plain_date(data.date)}"
    body = [
        letterhead([line for line in issuer if line], data.number, dateline),
        centered("BIÊN BẢN", bold=True, before=360),
        centered(data.meeting, bold=True),
        rule(round(TEXT_WIDTH * 0.35)),
        para(indent=0, after=0, line=120),
        *_time_and_place(data),
        *_attendance(data),
        *_proceedings(data),
    ]
    if data.other.strip():
        body += [_heading("IV. KẾT THÚC"), *_texts(data.other)]
    else:
        body.append(_heading("IV. KẾT THÚC"))
    body += [
        para(closing_sentence(data)),
        para("Biên bản được lập từ nhật ký kỳ họp trên hệ thống phòng họp không giấy./."),
        signatures(_signers(data)),
        para(indent=0, after=0),
        *recipients(recipient_lines(data.recipients)),
    ]
    return package(body, f"Biên bản {data.meeting}", data.draft, data.version)


def _signers(data: MinutesData) -> list[tuple[Sequence[str], str]]:
    """THƯ KÝ and CHỦ TỌA, with the chair's office when the chair leads the council."""
    office = data.chair_title.strip()
    office = office.upper() if office.lower().startswith(LEADERS) else ""
    secretary = ("THƯ KÝ", "") if office else ("THƯ KÝ",)
    chair = ("CHỦ TỌA", office) if office else ("CHỦ TỌA",)
    return [(secretary, data.secretary), (chair, data.chair)]


def _time_and_place(data: MinutesData) -> list[str]:
    return [
        _heading("I. THỜI GIAN, ĐỊA ĐIỂM"),
        _lead("1. Thời gian:", f"Kỳ họp khai mạc lúc {data.opened}, ngày {plain_date(data.date)}."),
        _lead("2. Địa điểm:", sentence(data.place or "—")),
        _lead("3. Chủ tọa:", sentence(with_title(data.chair, data.chair_title))),
        _lead("4. Thư ký:", sentence(with_title(data.secretary, data.secretary_title))),
    ]


def _people(people: Sequence[Person], third: str, note: Callable[[Person], str]) -> str:
    rows = [(str(n), p.name, note(p)) for n, p in enumerate(people, 1)]
    return grid(("STT", "Họ và tên", third), rows, (0.09, 0.41, 0.50), ("center", "left", "left"))


def _attendance(data: MinutesData) -> list[str]:
    present, online, away = attendance_words(data)
    parts = [_heading("II. THÀNH PHẦN THAM DỰ"), _lead("1. Có mặt:", present)]
    if data.present:
        parts.append(_people(data.present, "Chức danh", lambda p: p.role))
    parts.append(_lead("2. Tham dự trực tuyến:", f"{online}."))
    if data.remote:
        parts.append(_people(data.remote, "Chức danh", lambda p: p.role))
    if data.ward_points:
        parts.append(_note(f"Điểm cầu trực tuyến: {len(data.ward_points)}."))
        last = len(data.ward_points)
        parts += [
            para(f"- {point.name}{'.' if n == last else ';'}", align="left", indent=0)
            for n, point in enumerate(data.ward_points, 1)
        ]
    parts.append(_lead("3. Vắng:", f"{away} đại biểu."))
    if data.absent:
        parts.append(_people(data.absent, "Lý do vắng", lambda p: p.reason or "Không báo lý do"))
    if away > len(data.absent):
        parts.append(
            _note(
                f"Ngoài danh sách trên, {away - len(data.absent)} đại biểu không có tên trong "
                "danh sách tham dự kỳ họp."
            )
        )
    return parts


def _proceedings(data: MinutesData) -> list[str]:
    turns, votes, records = by_item(data)

    parts = [_heading("III. NỘI DUNG KỲ HỌP"), *_texts(data.opening)]
    if not data.items:
        parts.append(_note("Kỳ họp không có nội dung trong chương trình."))
    for number, title in data.items:
        parts.append(_heading(f"{number.rstrip('.')}. {title}"))
        record = records.get(item_key(number)) or ItemRecord(number, title)
        parts += _item_record(record, turns.pop(number, []), votes.pop(number, []))
    if turns.get(None) or votes.get(None):
        parts.append(_heading("Các nội dung khác"))
        parts += _item_record(ItemRecord("", ""), turns.get(None, []), votes.get(None, []))
    return parts


def _item_record(
    record: ItemRecord, turns: Sequence[Turn], votes: Sequence[VoteOutcome]
) -> list[str]:
    summary = _texts(record.summary)
    conclusion = " ".join(paragraphs(record.conclusion))
    if not (summary or conclusion or turns or votes):
        return [_note("Không có ý kiến phát biểu, không biểu quyết.")]
    parts = summary
    if turns:
        parts.append(_note("Ý kiến phát biểu:"))
        parts += [
            para(f"- Lúc {t.started}, {t.name} phát biểu; thời lượng {t.spoke}.", align="left")
            for t in turns
        ]
    for vote in votes:
        parts += _vote(vote)
    if conclusion:
        parts.append(_lead("Kết luận:", conclusion))
    return parts


def _vote(vote: VoteOutcome) -> list[str]:
    rows = [(label, str(count), percent(count, vote.base)) for label, count in vote.tally]
    result = "Thông qua" if vote.passed else "Không thông qua"
    parts = [
        para(Run(f"Biểu quyết: {vote.title}", bold=True, italic=True), align="left", keep=True),
        _lead("Nguyên tắc thông qua:", f"{vote.rule.rstrip('.')}."),
        _lead(
            "Số đại biểu tham gia biểu quyết:",
            f"{vote.voters}/{vote.base}; số phiếu tán thành cần đạt: {vote.needed}.",
        ),
        grid(
            ("Lựa chọn", "Số phiếu", f"Tỷ lệ so với {vote.base} đại biểu (%)"),
            rows,
            (0.45, 0.17, 0.38),
            ("left", "center", "center"),
        ),
        para(Run(f"Kết quả: {result}.", bold=True)),
    ]
    if vote.secret:
        parts.append(_note("Bỏ phiếu kín: không ghi danh sách lựa chọn của từng đại biểu."))
    elif vote.named:
        parts += [_note("Lựa chọn của từng đại biểu:"), _named(vote.named)]
    return parts


def _named(named: Sequence[tuple[str, str]]) -> str:
    """Two voters a row, numbered left to right, as the PDF keeps a long roll call short."""
    cells = [(str(n), name, label) for n, (name, label) in enumerate(named, 1)]
    rows = [
        cells[left] + (cells[left + 1] if left + 1 < len(cells) else ("", "", ""))
        for left in range(0, len(cells), 2)
    ]
    return grid(
        ("STT", "Họ và tên", "Lựa chọn") * 2,
        rows,
        (0.06, 0.28, 0.16) * 2,
        ("center", "left", "left") * 2,
        size=11,
    )


# ---------------------------------------------------------------------------
# The conclusion notice


def notice_docx(data: NoticeData) -> bytes:
    """The conclusion notice as a Word file, with the content of
    :func:`agenda.notice.notice_pdf`."""
    body = [
        letterhead(data.issuer, data.number, f"{data.place}, ngày {data.date}"),
        centered("THÔNG BÁO", bold=True, before=360),
        centered(subject(data), bold=True),
        rule(round(TEXT_WIDTH * 0.35)),
        para(indent=0, after=0, line=120),
        para(opening(data)),
    ]
    for n, conclusion in enumerate(data.conclusions, 1):
        body.append(para(Run(f"{n}. {conclusion.title.rstrip('.')}", bold=True), keep=True))
        body += _texts(conclusion.text)
    body.append(para(closing(data)))
    notice_recipients = recipients(recipient_lines(data.recipients))
    body.append(signatures([(data.signer_titles, data.signer)], left=notice_recipients))
    return package(body, f"Thông báo kết luận {data.meeting}", data.draft, data.version)
