"""The minutes (biên bản kỳ họp) of a council session as a PDF.

The server assembles :class:`MinutesData` from its journal (when the session opened and
closed, who attended in the hall or online, who spoke on which item and for how long, how
each vote ended) and from what the secretary wrote (summaries, conclusions, recipients);
:func:`minutes_pdf` lays it out in the form of Decree 30/2020/NĐ-CP, Appendix I: issuer and
national motto, number and symbol, place and date, the title BIÊN BẢN, numbered sections,
bordered tables, the signatures of the secretary and the chair, and the recipients, in a
Times-compatible serif at 14 pt, pages numbered in the top margin from the second on. A
draft says DỰ THẢO on every page; a frozen version names its number.
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, replace

import pymupdf

from agenda.letterhead import (
    BODY,
    CELL_BORDER,
    CELL_PADDING,
    DECREE_30,
    PAGE,
    Letterhead,
    body_story,
    letterhead,
    official_pdf,
)
from agenda.wording import (
    LEADERS,
    item_key,
    journal_head,
    locality,
    paragraphs,
    percent,
    plain_date,
    recipient_lines,
    sentence,
    with_title,
)


@dataclass(frozen=True)
class Person:
    """Someone on an attendance list."""

    name: str
    role: str = ""
    """E.g. "Chủ tọa", "Đại biểu"; printed next to the name."""
    reason: str = ""
    """Why an absent delegate is absent, e.g. "Đi công tác"."""


@dataclass(frozen=True)
class Turn:
    """One speaking turn."""

    name: str
    item: str
    """The agenda item spoken on: its number "3.1", its title, or "3.1. Title"."""
    started: str
    """Clock time, e.g. "08:42"."""
    spoke: str
    """Duration as words, e.g. "3 phút 20 giây"."""


@dataclass(frozen=True)
class VoteOutcome:
    """How one vote ended."""

    title: str
    item: str
    """The agenda item voted on, named as in :attr:`Turn.item`; "" (or an item not on the
    agenda) lists the vote at the end."""
    rule: str
    """E.g. "Quá 1/2 tổng số đại biểu có mặt; biểu quyết công khai"."""
    tally: Sequence[tuple[str, int]]
    """Choices and counts, e.g. [("Tán thành", 15), ("Không tán thành", 2)]."""
    voters: int
    """Delegates who took part in the vote."""
    base: int
    """The number the rule counts against (delegates present, or all delegates)."""
    needed: int
    """Votes in favour needed to pass."""
    passed: bool
    secret: bool
    """A secret ballot: :attr:`named` is never printed, whatever it holds."""
    named: Sequence[tuple[str, str]] = ()
    """(name, choice label) of each voter for a named vote."""


@dataclass(frozen=True)
class ItemRecord:
    """One agenda item as the minutes record it."""

    number: str
    title: str
    summary: str = ""
    """The secretary's summary of the discussion (tóm tắt ý kiến thảo luận)."""
    conclusion: str = ""
    """The chair's conclusion on the item (kết luận), as the secretary wrote it."""


@dataclass(frozen=True)
class MinutesData:
    """Everything the minutes say, as plain data."""

    body: str
    """The council, e.g. "Hội đồng nhân dân phường Ba Đình" (or just "phường Ba Đình")."""
    meeting: str
    """The session, e.g. "Kỳ họp thứ tư, Hội đồng nhân dân phường Ba Đình khóa I"."""
    number: str
    """Document number, e.g. "15/BB-HĐND" ("Số: " is added)."""
    place: str
    """Where the session sits, e.g. "Hội trường Ủy ban nhân dân phường" (Địa điểm)."""
    date: str
    """The day the session opened, e.g. "15 tháng 12 năm 2026" ("ngày " is added); also the
    date of the document."""
    opened: str
    """When the session opened that day, e.g. "08 giờ 05 phút"."""
    closed: str
    """When it closed, e.g. "11 giờ 30 phút"; "" while it has not."""
    chair: str
    secretary: str
    present: Sequence[Person]
    """Delegates in the room."""
    remote: Sequence[Person]
    """Delegates taking part online; they count as present."""
    absent: Sequence[Person]
    items: Sequence[tuple[str, str]]
    """The agenda in order, as (number, title)."""
    turns: Sequence[Turn]
    votes: Sequence[VoteOutcome]
    members: int
    """Number of delegates of the council, the y in "Có mặt: x/y đại biểu"."""
    records: Sequence[ItemRecord] = ()
    """Per agenda item, what the secretary wrote (same order as :attr:`items`)."""
    ward_points: Sequence[Person] = ()
    """Ward points (điểm cầu) that joined over video."""
    draft: bool = True
    """Not a frozen version, or a session not yet ended: every page says DỰ THẢO."""
    opening: str = ""
    other: str = ""
    recipients: Sequence[str] = ()
    """Nơi nhận, one line each."""
    version: int = 0
    """The frozen version's number, 0 for a draft."""
    closed_on: str = ""
    """The day it closed when not the day it opened, e.g. "16 tháng 12 năm 2026"."""
    locality: str = ""
    """The place in the date line (địa danh), e.g. "Ba Đình"; "" uses :attr:`place`."""
    issuer: Sequence[str] = ()
    """The issuer's lines, e.g. ("HỘI ĐỒNG NHÂN DÂN", "PHƯỜNG BA ĐÌNH"); () makes them from
    :attr:`body` as a People's Council."""
    chair_title: str = ""
    """The chair's office (chức vụ), e.g. "Chủ tịch HĐND phường"."""
    secretary_title: str = ""
    journal_seq: int = 0
    """A frozen version: the journal's last event it was made from (0 for a draft)."""
    journal_hash: str = ""
    """That event's chain hash (SHA-256 hex), printed shortened at the end."""

    def to_dict(self) -> dict:
        """Plain JSON-able data, as a frozen version keeps it."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> MinutesData:
        kinds = {
            "present": Person,
            "remote": Person,
            "absent": Person,
            "ward_points": Person,
            "turns": Turn,
            "votes": VoteOutcome,
            "records": ItemRecord,
        }
        given = {key: value for key, value in data.items() if key in cls.__dataclass_fields__}
        for key, kind in kinds.items():
            if key in given:
                given[key] = tuple(kind(**row) for row in given[key])
        if "votes" in given:
            given["votes"] = tuple(
                replace(v, tally=tuple(map(tuple, v.tally)), named=tuple(map(tuple, v.named)))
                for v in given["votes"]
            )
        for key in ("items", "recipients", "issuer"):
            if key in given:
                given[key] = tuple(tuple(x) if isinstance(x, list) else x for x in given[key])
        return cls(**given)


def minutes_pdf(data: MinutesData) -> bytes:
    """The minutes as an A4 PDF in the form of Decree 30/2020/NĐ-CP.

    Long content flows over as many pages as it needs; tables may break between rows; the
    end of the session, the signatures and the recipients stay together on the last page.
    The text is searchable and drawn in the embedded Liberation Serif.
    """
    header = _letterhead(data)
    doc = pymupdf.open("pdf", layout(_body_html(data), _closing_html(data), header.bottom))
    header.draw(doc[0])
    return official_pdf(
        doc,
        draft=data.draft,
        version=data.version,
        title=f"Biên bản {data.meeting}",
        author=data.body,
        subject=f"Biên bản kỳ họp, ngày {plain_date(data.date)}",
    )


# ---------------------------------------------------------------------------
# Words


def _esc(text: str) -> str:
    return html.escape(str(text), quote=False)


# ---------------------------------------------------------------------------
# The body as HTML for pymupdf.Story


def _body_html(data: MinutesData) -> str:
    parts = [
        '<p class="kind">BIÊN BẢN</p>',
        f'<p class="subject">{_esc(data.meeting)}</p>',
        '<div class="rule"></div>',
        _time_and_place(data),
        _attendance(data),
        _proceedings(data),
    ]
    if data.other.strip():
        parts.append(_heading("IV. KẾT THÚC"))
        parts += [_para(text) for text in paragraphs(data.other)]
    return "".join(parts)


def _closing_html(data: MinutesData) -> str:
    """The end of the session, the signatures and the recipients: laid out as one block so a
    page never holds only the signatures."""
    heading = "" if data.other.strip() else _heading("IV. KẾT THÚC")
    return "".join(
        [
            heading,
            _para(closing_sentence(data)),
            _para("Biên bản được lập từ nhật ký kỳ họp trên hệ thống phòng họp không giấy./."),
            _signatures_html(data),
            _recipients_html(data),
            _journal_html(data),
        ]
    )


def _journal_html(data: MinutesData) -> str:
    line = journal_head(data.journal_seq, data.journal_hash)
    return _para(line, "journal") if line else ""


def closing_sentence(data: MinutesData) -> str:
    if not data.closed.strip(" —-"):
        return "Kỳ họp chưa kết thúc."
    if data.closed_on and plain_date(data.closed_on) != plain_date(data.date):
        return f"Kỳ họp kết thúc lúc {data.closed}, ngày {plain_date(data.closed_on)}."
    return f"Kỳ họp kết thúc lúc {data.closed} cùng ngày."


def _heading(text: str) -> str:
    return f"<h2>{_esc(text)}</h2>"


def _subheading(text: str) -> str:
    return f"<h3>{_esc(text)}</h3>"


def _para(text: str, css: str = "") -> str:
    return f'<p class="{css}">{_esc(text)}</p>' if css else f"<p>{_esc(text)}</p>"


def _lead(lead: str, text: str) -> str:
    """A paragraph opening with a bold run, e.g. "Chủ tọa:"."""
    return f"<p><b>{_esc(lead)}</b> {_esc(text)}</p>"


def _time_and_place(data: MinutesData) -> str:
    return (
        _heading("I. THỜI GIAN, ĐỊA ĐIỂM")
        + _lead(
            "1. Thời gian:",
            f"Kỳ họp khai mạc lúc {data.opened}, ngày {plain_date(data.date)}.",
        )
        + _lead("2. Địa điểm:", sentence(data.place or "—"))
        + _lead("3. Chủ tọa:", sentence(with_title(data.chair, data.chair_title)))
        + _lead("4. Thư ký:", sentence(with_title(data.secretary, data.secretary_title)))
    )


def attendance_words(data: MinutesData) -> tuple[str, str, int]:
    """ "x/y đại biểu (z%), trong đó tại hội trường: …", "n đại biểu và m điểm cầu", and how
    many delegates of the council were away."""
    attending = len(data.present) + len(data.remote)
    share = f" ({percent(attending, data.members)}%)" if data.members else ""
    online = f"{len(data.remote)} đại biểu"
    if data.ward_points:
        online += f" và {len(data.ward_points)} điểm cầu"
    present = (
        f"{attending}/{data.members} đại biểu{share}, "
        f"trong đó tại hội trường: {len(data.present)} đại biểu"
        + (f", trực tuyến: {len(data.remote)} đại biểu." if data.remote else ".")
    )
    return present, online, max(data.members - attending, len(data.absent))


def _attendance(data: MinutesData) -> str:
    present, online, away = attendance_words(data)
    parts = [_heading("II. THÀNH PHẦN THAM DỰ"), _lead("1. Có mặt:", present)]
    if data.present:
        parts.append(_people_table(data.present, "Chức danh", lambda p: p.role))
    parts.append(_lead("2. Tham dự trực tuyến:", f"{online}."))
    if data.remote:
        parts.append(_people_table(data.remote, "Chức danh", lambda p: p.role))
    if data.ward_points:
        parts.append(_para(f"Điểm cầu trực tuyến: {len(data.ward_points)}.", "label"))
        parts += [
            _para(f"- {point.name}{'.' if n == len(data.ward_points) else ';'}", "turn")
            for n, point in enumerate(data.ward_points, 1)
        ]
    parts.append(_lead("3. Vắng:", f"{away} đại biểu."))
    if data.absent:
        parts.append(
            _people_table(data.absent, "Lý do vắng", lambda p: p.reason or "Không báo lý do")
        )
    if away > len(data.absent):
        parts.append(
            _para(
                f"Ngoài danh sách trên, {away - len(data.absent)} đại biểu không có tên trong "
                "danh sách tham dự kỳ họp.",
                "note",
            )
        )
    return "".join(parts)


def _people_table(people: Sequence[Person], third: str, note: Callable[[Person], str]) -> str:
    rows = [(str(n), person.name, note(person)) for n, person in enumerate(people, 1)]
    return table_html(("STT", "Họ và tên", third), rows, shares=(0.09, 0.41, 0.50))


def by_item(
    data: MinutesData,
) -> tuple[
    dict[str | None, list[Turn]], dict[str | None, list[VoteOutcome]], dict[str, ItemRecord]
]:
    """Turns, votes and the secretary's records under the agenda item number they belong to
    (None: on no item of the agenda), as the PDF and the Word copy both lay them out."""
    keys: dict[str, str] = {}
    for number, title in data.items:
        for name in (number, title, f"{item_key(number)}. {title}"):
            keys.setdefault(item_key(name), number)
    turns: dict[str | None, list[Turn]] = {}
    for turn in data.turns:
        turns.setdefault(keys.get(item_key(turn.item)), []).append(turn)
    votes: dict[str | None, list[VoteOutcome]] = {}
    for vote in data.votes:
        votes.setdefault(keys.get(item_key(vote.item)), []).append(vote)
    records = {item_key(record.number): record for record in data.records}
    return turns, votes, records


def _proceedings(data: MinutesData) -> str:
    turns, votes, records = by_item(data)

    parts = [_heading("III. NỘI DUNG KỲ HỌP")]
    parts += [_para(text) for text in paragraphs(data.opening)]
    if not data.items:
        parts.append(_para("Kỳ họp không có nội dung trong chương trình.", "note"))
    for number, title in data.items:
        parts.append(_subheading(f"{number.rstrip('.')}. {title}"))
        record = records.get(item_key(number)) or ItemRecord(number, title)
        parts.append(_item_record(record, turns.pop(number, []), votes.pop(number, [])))
    # turns and votes that belong to no agenda item, e.g. a procedural vote
    if turns.get(None) or votes.get(None):
        parts.append(_subheading("Các nội dung khác"))
        parts.append(_item_record(ItemRecord("", ""), turns.get(None, []), votes.get(None, [])))
    return "".join(parts)


def _item_record(record: ItemRecord, turns: Sequence[Turn], votes: Sequence[VoteOutcome]) -> str:
    summary = paragraphs(record.summary)
    conclusion = " ".join(paragraphs(record.conclusion))
    if not (summary or conclusion or turns or votes):
        return _para("Không có ý kiến phát biểu, không biểu quyết.", "note")
    parts = [_para(text) for text in summary]
    if turns:
        parts.append(_para("Ý kiến phát biểu:", "label"))
        parts += [
            _para(f"- Lúc {turn.started}, {turn.name} phát biểu; thời lượng {turn.spoke}.", "turn")
            for turn in turns
        ]
    parts += [vote_html(vote) for vote in votes]
    if conclusion:
        parts.append(_lead("Kết luận:", conclusion))
    return "".join(parts)


def vote_html(vote: VoteOutcome) -> str:
    rows = [(label, str(count), percent(count, vote.base)) for label, count in vote.tally]
    result = "Thông qua" if vote.passed else "Không thông qua"
    parts = [
        _para(f"Biểu quyết: {vote.title}", "vote"),
        f'<p class="detail"><b>Nguyên tắc thông qua:</b> {_esc(vote.rule.rstrip("."))}.</p>',
        f'<p class="detail"><b>Số đại biểu tham gia biểu quyết:</b> {vote.voters}/{vote.base}; '
        f"số phiếu tán thành cần đạt: {vote.needed}.</p>",
        table_html(
            ("Lựa chọn", "Số phiếu", f"Tỷ lệ so với {vote.base} đại biểu (%)"),
            rows,
            shares=(0.45, 0.17, 0.38),
            aligns=("", "center", "center"),
        ),
        f'<p class="detail"><b>Kết quả: {result}.</b></p>',
    ]
    if vote.secret:
        parts.append(_para("Bỏ phiếu kín: không ghi danh sách lựa chọn của từng đại biểu.", "note"))
    elif vote.named:
        parts.append(_para("Lựa chọn của từng đại biểu:", "label"))
        parts.append(_named_table(vote.named))
    return "".join(parts)


def _named_table(named: Sequence[tuple[str, str]]) -> str:
    """Two voters a row, numbered left to right, to keep a long roll call short."""
    measure = DECREE_30.face.font().text_length
    number = max(measure(str(len(named)), _COMPACT_SIZE), measure("STT", _COMPACT_SIZE) + 1)
    choice = max(measure(label, _COMPACT_SIZE) for label in {label for _, label in named}) + 4
    half = BODY.width / 2
    choice = min(max(choice, 50), half * 0.4) + 2 * _COMPACT_PAD + CELL_BORDER
    number = number + 2 * _COMPACT_PAD + CELL_BORDER
    shares = (number / half / 2, (half - number - choice) / half / 2, choice / half / 2)
    cells = [(str(n), name, label) for n, (name, label) in enumerate(named, 1)]
    rows = []
    for left in range(0, len(cells), 2):
        pair = cells[left : left + 2]
        rows.append(pair[0] + (pair[1] if len(pair) == 2 else ("", "", "")))
    return table_html(
        ("STT", "Họ và tên", "Lựa chọn") * 2,
        rows,
        shares=shares * 2,
        aligns=("center", "", "") * 2,
        compact=True,
    )


def table_html(
    headings: Sequence[str],
    rows: Iterable[Sequence[str]],
    shares: Sequence[float],
    aligns: Sequence[str] = ("center", "", ""),
    compact: bool = False,
) -> str:
    """A bordered table with a header row; ``shares`` of the text width per column."""
    pad = _COMPACT_PAD if compact else CELL_PADDING
    # the layout adds padding and rule to a cell's width, and one more rule at the right
    head = "".join(
        f'<th style="width: {share * _TABLE_WIDTH - 2 * pad - CELL_BORDER:.1f}pt">{_esc(text)}</th>'
        for text, share in zip(headings, shares, strict=True)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{align}">{_esc(cell)}</td>' if align else f"<td>{_esc(cell)}</td>"
            for cell, align in zip(row, aligns, strict=True)
        )
        + "</tr>"
        for row in rows
    )
    css = "grid compact" if compact else "grid"
    return f'<table class="{css}"><tr>{head}</tr>{body}</table>'


def _signatures_html(data: MinutesData) -> str:
    """THƯ KÝ at the left, CHỦ TỌA at the right (with the chair's office when the chair
    leads the council), the names level under the space for the signatures."""
    office = data.chair_title.strip()
    office = office.upper() if office.lower().startswith(LEADERS) else ""

    def block(*titles: str, name: str) -> str:
        lines = "".join(f'<p class="sign">{_esc(title) or "&#160;"}</p>' for title in titles)
        return f'<td>{lines}<p class="signer">{_esc(name)}</p></td>'

    secretary = ("THƯ KÝ", "") if office else ("THƯ KÝ",)
    chair = ("CHỦ TỌA", office) if office else ("CHỦ TỌA",)
    return (
        '<table class="sign"><tr>'
        + block(*secretary, name=data.secretary)
        + block(*chair, name=data.chair)
        + "</tr></table>"
    )


def _recipients_html(data: MinutesData) -> str:
    lines = "".join(_para(line, "recipient") for line in recipient_lines(data.recipients))
    return f'<p class="recipients-head">Nơi nhận:</p>{lines}'


# ---------------------------------------------------------------------------
# Letterhead and page layout

_COMPACT_PAD = 2.0
_TABLE_WIDTH = BODY.width - CELL_BORDER  # the last column's right rule, inside the margin
_COMPACT_SIZE = 11.0
_MAX_PAGES = 1000  # a guard against content that never finishes flowing
_INDENT = 36.0  # 1.27 cm, the decree's first-line indent

_CSS = f"""
body {{font-size: 14pt; margin: 0;}}
p {{margin: 0 0 6pt 0; text-align: justify; text-indent: {_INDENT}pt; line-height: 1.2;}}
h2, h3 {{font-size: 14pt; font-weight: bold; line-height: 1.2; text-indent: {_INDENT}pt;}}
h2 {{margin: 8pt 0 6pt 0;}}
h3 {{margin: 6pt 0 6pt 0;}}
p.kind {{text-align: center; text-indent: 0; font-weight: bold; font-size: 14pt;
         margin: 12pt 0 0 0;}}
p.subject {{text-align: center; text-indent: 0; font-weight: bold; margin: 0 0 2pt 0;}}
div.rule {{border-top: 0.6pt solid black; margin: 3pt 35% 12pt 35%; height: 1pt;}}
p.label {{font-style: italic; margin-bottom: 3pt;}}
p.turn {{margin: 0 0 3pt 0; text-align: left;}}
p.detail {{text-align: left;}}
p.vote {{font-weight: bold; font-style: italic; margin: 6pt 0 3pt 0; text-align: left;}}
p.note {{font-style: italic;}}
table.grid {{border-collapse: collapse; width: 100%; margin: 0 0 8pt 0;}}
table.grid th, table.grid td {{font-size: 12pt;}}
table.compact th, table.compact td {{padding: 1pt {_COMPACT_PAD}pt; font-size: {_COMPACT_SIZE}pt;}}
table.sign {{width: 100%; margin-top: 10pt;}}
table.sign td {{width: 50%; vertical-align: top;}}
p.sign {{font-size: 14pt; line-height: 1.2;}}
p.signer {{font-size: 14pt; margin: 80pt 0 0 0;}}
p.recipients-head {{text-indent: 0; text-align: left; font-weight: bold; font-style: italic;
                   font-size: 12pt; margin: 24pt 0 0 0;}}
p.recipient {{text-indent: 0; text-align: left; font-size: 11pt; margin: 0; line-height: 1.15;}}
p.journal {{text-indent: 0; text-align: left; font-size: 9pt; font-style: italic;
           margin: 12pt 0 0 0;}}
"""


def _letterhead(data: MinutesData) -> Letterhead:
    issuer = list(data.issuer)
    if not issuer:
        issuer = ["HỘI ĐỒNG NHÂN DÂN"] + ([locality(data.body).upper()] if data.body else [])
    dateline = f"{data.locality or data.place}, ngày {plain_date(data.date)}"
    return letterhead(
        [(line, True) for line in issuer], f"Số: {data.number}", dateline, form=DECREE_30
    )


def _story(html_text: str) -> pymupdf.Story:
    return body_story(html_text, _CSS, DECREE_30)


def _height(html_text: str) -> float:
    """How tall ``html_text`` is when laid out at the body width."""
    story = _story(html_text)
    _, filled = story.place(pymupdf.Rect(BODY.x0, 0, BODY.x1, 10_000))
    return pymupdf.Rect(filled).y1


def layout(body: str, closing: str, top: float) -> bytes:
    """Flow ``body`` over as many pages as needed, starting at ``top`` on the first page,
    then ``closing``, kept together on one page when it fits on one."""
    buffer = io.BytesIO()
    writer = pymupdf.DocumentWriter(buffer)
    device = writer.begin_page(PAGE)
    device, below = _flow(writer, device, _story(body), pymupdf.Rect(BODY.x0, top, *BODY[2:]))
    height = _height(closing)
    if BODY.y1 - below < height <= BODY.height:
        writer.end_page()
        device = writer.begin_page(PAGE)
        below = BODY.y0
    _flow(writer, device, _story(closing), pymupdf.Rect(BODY.x0, below, *BODY[2:]))
    writer.end_page()
    writer.close()
    return buffer.getvalue()


def _flow(
    writer: pymupdf.DocumentWriter,
    device: pymupdf.DeviceWrapper,
    story: pymupdf.Story,
    area: pymupdf.Rect,
) -> tuple[pymupdf.DeviceWrapper, float]:
    """Place ``story`` from ``area`` on the page ``device`` draws, then over new pages; the
    last page is left open. Returns its device and where the story ends on it."""
    for _ in range(_MAX_PAGES):
        more, filled = story.place(area)
        story.draw(device)
        if not more:
            return device, pymupdf.Rect(filled).y1
        writer.end_page()
        device = writer.begin_page(PAGE)
        area = BODY
    raise ValueError(f"the minutes do not fit in {_MAX_PAGES} pages")
