"""After a session the secretary downloads the minutes (biên bản kỳ họp): a PDF in the form
of Decree 30/2020/NĐ-CP that says who attended, who spoke on which item and for how long,
what the secretary summed up and concluded, and how each vote ended, with names only where
the vote was named; a draft says so on every page."""

from __future__ import annotations

import json

import pymupdf
import pytest

from agenda.letterhead import BODY, number_pages_on_top
from agenda.minutes import ItemRecord, MinutesData, Person, Turn, VoteOutcome, minutes_pdf

MEETING = "Kỳ họp thứ tư, Hội đồng nhân dân phường Ba Đình khóa I"
CHAIR = "Lê Thị Thu Hà"
SECRETARY = "Phạm Minh Châu"
PRESENT = (
    Person(CHAIR, "Chủ tọa"),
    Person("Nguyễn Văn Thắng", "Phó Chủ tịch Hội đồng nhân dân"),
    Person(SECRETARY, "Thư ký kỳ họp"),
    Person("Trần Quốc Tuấn", "Đại biểu"),
    Person("Đỗ Thị Hương", "Đại biểu"),
    Person("Vũ Đức Huỳnh", "Đại biểu"),
)
REMOTE = (Person("Hoàng Ngọc Ánh", "Đại biểu"),)
ABSENT = (
    Person("Bùi Thị Nguyệt", "Đại biểu", "Đi công tác theo quyết định của Ủy ban"),
    Person("Ngô Xuân Trường", "Đại biểu", "Ốm, có giấy của bệnh viện"),
)
ITEMS = (
    ("1", "Khai mạc kỳ họp; thông qua chương trình kỳ họp"),
    ("2", "Dự toán thu, chi ngân sách phường năm 2027"),
    ("3", "Bầu Phó Chủ tịch Hội đồng nhân dân phường"),
)
TURNS = (
    Turn(CHAIR, "1", "08:05", "4 phút 10 giây"),
    Turn("Trần Quốc Tuấn", "2", "08:42", "3 phút 20 giây"),
    Turn("Đỗ Thị Hương", "2", "08:47", "2 phút 5 giây"),
    Turn("Hoàng Ngọc Ánh", "2", "08:51", "1 phút 48 giây"),
)
NAMED = (
    (CHAIR, "Tán thành"),
    ("Nguyễn Văn Thắng", "Tán thành"),
    ("Trần Quốc Tuấn", "Không tán thành"),
    ("Đỗ Thị Hương", "Tán thành"),
    ("Vũ Đức Huỳnh", "Không biểu quyết"),
)
OPEN_VOTE = VoteOutcome(
    title="Thông qua Nghị quyết về dự toán ngân sách phường năm 2027",
    item="2",
    rule="Quá 1/2 tổng số đại biểu; biểu quyết công khai",
    tally=[("Tán thành", 3), ("Không tán thành", 1), ("Không biểu quyết", 1)],
    voters=5,
    base=9,
    needed=5,
    passed=False,
    secret=False,
    named=NAMED,
)
# the journal knows who cast a secret ballot; the minutes must never print it
SECRET_VOTE = VoteOutcome(
    title="Bầu Phó Chủ tịch Hội đồng nhân dân phường",
    item="3",
    rule="Quá 1/2 tổng số đại biểu; bỏ phiếu kín",
    tally=[("Đồng ý", 6), ("Không đồng ý", 1)],
    voters=7,
    base=9,
    needed=5,
    passed=True,
    secret=True,
    named=[("Vũ Đức Huỳnh", "Đồng ý"), ("Trần Quốc Tuấn", "Không đồng ý")],
)
AGENDA_VOTE = VoteOutcome(
    title="Thông qua chương trình kỳ họp",
    item="",
    rule="Quá 1/2 tổng số đại biểu; biểu quyết công khai",
    tally=[("Tán thành", 7)],
    voters=7,
    base=9,
    needed=5,
    passed=True,
    secret=False,
)


def _session(**changes) -> MinutesData:
    fields = dict(
        body="Hội đồng nhân dân phường Ba Đình",
        meeting=MEETING,
        number="15/BB-HĐND",
        place="Hà Nội",
        date="15 tháng 12 năm 2026",
        opened="08:00",
        closed="11:30",
        chair=CHAIR,
        secretary=SECRETARY,
        present=list(PRESENT),
        remote=list(REMOTE),
        absent=list(ABSENT),
        items=list(ITEMS),
        turns=list(TURNS),
        votes=[OPEN_VOTE, SECRET_VOTE, AGENDA_VOTE],
        members=9,
        draft=False,
    )
    return MinutesData(**(fields | changes))


def _large_session(**changes) -> MinutesData:
    surnames = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô")
    given = ("Văn An", "Thị Bích Ngọc", "Quốc Huy", "Minh Khôi", "Thị Hồng Nhung")
    names = [f"{surnames[n % 10]} {given[n % 5]} {n + 1}" for n in range(50)]
    choices = ("Tán thành", "Không tán thành", "Không biểu quyết")
    items = [(str(n), f"Nội dung thứ {n} của kỳ họp cuối năm") for n in range(1, 21)]
    turns = [
        Turn(names[n], str(n % 20 + 1), f"{8 + n // 20:02d}:{n % 60:02d}", f"{n % 5 + 1} phút")
        for n in range(50)
    ]
    votes = [
        VoteOutcome(
            title=f"Thông qua Nghị quyết số {n + 1}",
            item=str(2 * n + 1),
            rule="Quá 1/2 tổng số đại biểu; biểu quyết công khai",
            tally=[("Tán thành", 34), ("Không tán thành", 8), ("Không biểu quyết", 8)],
            voters=50,
            base=50,
            needed=26,
            passed=True,
            secret=False,
            named=[(name, choices[k % 3]) for k, name in enumerate(names)],
        )
        for n in range(10)
    ]
    present = [Person(name, "Đại biểu") for name in names]
    fields = dict(present=present, items=items, turns=turns, votes=votes, members=52)
    return _session(**(fields | changes))


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return minutes_pdf(_session())


@pytest.fixture(scope="module")
def doc(pdf: bytes) -> pymupdf.Document:
    return pymupdf.open("pdf", pdf)


@pytest.fixture(scope="module")
def text(doc: pymupdf.Document) -> str:
    return "\n".join(page.get_text() for page in doc)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _flat(text: str) -> str:
    """The text with line breaks turned into spaces, so wrapped sentences match."""
    return " ".join(_lines(text))


def _between(text: str, start: str, *ends: str) -> str:
    """The part of ``text`` from ``start`` up to the first of ``ends`` that follows it."""
    begin = text.index(start)
    stops = [text.find(end, begin + len(start)) for end in ends]
    stop = min((at for at in stops if at >= 0), default=len(text))
    return text[begin:stop]


def _named_pairs(text: str) -> set[tuple[str, str]]:
    """(name, choice) as printed in a roll call table: a name's cell, then its choice."""
    lines = _lines(text)
    return set(zip(lines, lines[1:], strict=False))


def test_minutes_open_like_an_administrative_document(doc, text):
    first = doc[0].get_text()
    for line in (
        "HỘI ĐỒNG NHÂN DÂN",
        "PHƯỜNG BA ĐÌNH",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Số: 15/BB-HĐND",
        "Hà Nội, ngày 15 tháng 12 năm 2026",
        "BIÊN BẢN",
        MEETING,
    ):
        assert line in _lines(first)
    headings = (
        "I. THỜI GIAN, ĐỊA ĐIỂM",
        "II. THÀNH PHẦN THAM DỰ",
        "III. NỘI DUNG KỲ HỌP",
        "IV. KẾT THÚC",
    )
    positions = [text.index(heading) for heading in headings]
    assert positions == sorted(positions)
    assert doc.metadata["title"] == f"Biên bản {MEETING}"


def test_time_place_chair_and_secretary_are_recorded(text):
    part = _flat(_between(text, "I. THỜI GIAN", "II. THÀNH PHẦN"))
    assert "08:00" in part
    assert "Hà Nội" in part
    assert f"Chủ tọa: {CHAIR}" in part
    assert f"Thư ký: {SECRETARY}" in part


def test_attendance_counts_and_names_everyone_with_reasons_for_absence(text):
    part = _flat(_between(text, "II. THÀNH PHẦN", "III. NỘI DUNG"))
    assert "Có mặt: 7/9 đại biểu" in part
    assert "Tham dự trực tuyến: 1 đại biểu" in part
    assert "Vắng: 2 đại biểu" in part
    for person in (*PRESENT, *REMOTE, *ABSENT):
        assert person.name in part
    for person in ABSENT:
        assert person.reason in part


def test_each_turn_is_recorded_under_its_item_with_time_and_duration(text):
    for number, title in ITEMS:
        assert f"{number}. {title}" in _flat(text)
    proceedings = _between(text, "III. NỘI DUNG", "IV. KẾT THÚC")
    for turn in TURNS:
        title = dict(ITEMS)[turn.item]
        following = [title for number, title in ITEMS if int(number) > int(turn.item)]
        part = _flat(_between(proceedings, title, *following))
        assert f"Lúc {turn.started}, {turn.name} phát biểu; thời lượng {turn.spoke}." in part


def test_turns_and_votes_may_name_their_item_by_number_and_title():
    turn = Turn(
        "Phan Thanh Bình", "2. Dự toán thu, chi ngân sách phường năm 2027", "09:10", "1 phút"
    )
    vote = VoteOutcome(
        "Thông qua dự toán bổ sung",
        "2. Dự toán thu, chi ngân sách phường năm 2027",
        "Quá 1/2 tổng số đại biểu",
        [("Tán thành", 7)],
        7,
        9,
        5,
        True,
        False,
    )
    pdf = minutes_pdf(_session(turns=[turn], votes=[vote]))
    with pymupdf.open("pdf", pdf) as doc:
        text = "\n".join(page.get_text() for page in doc)
    part = _between(text, ITEMS[1][1], ITEMS[2][1])
    assert turn.name in part and vote.title in part
    assert "Các nội dung khác" not in text


def test_each_vote_shows_its_rule_tally_and_result(text):
    flat = _flat(text)
    for vote, result in ((OPEN_VOTE, "Không thông qua"), (SECRET_VOTE, "Thông qua")):
        part = _flat(_between(flat, f"Biểu quyết: {vote.title}", "Biểu quyết:", "IV. KẾT"))
        assert vote.rule in part
        assert f"Kết quả: {result}." in part
        for label, count in vote.tally:
            assert f"{label} {count}" in part


def test_the_result_is_bold(doc):
    spans = [
        span
        for page in doc
        for block in page.get_text("dict")["blocks"]
        for line in block.get("lines", ())
        for span in line["spans"]
        if span["text"].startswith("Kết quả:")
    ]
    assert len(spans) == 3
    assert all("Bold" in span["font"] for span in spans)


def test_a_named_vote_lists_every_voter_with_their_choice(text):
    part = _between(text, f"Biểu quyết: {OPEN_VOTE.title[:30]}", "Biểu quyết:", "IV. KẾT")
    assert set(NAMED) <= _named_pairs(part)


def test_a_secret_vote_names_nobody(text):
    part = _between(text, f"Biểu quyết: {SECRET_VOTE.title}", "Biểu quyết:", "IV. KẾT")
    assert "Bỏ phiếu kín" in part
    for name, _ in SECRET_VOTE.named:
        assert name not in part
    assert not set(SECRET_VOTE.named) & _named_pairs(text)


def test_votes_without_an_item_come_after_the_agenda(text):
    last_item = text.index(ITEMS[-1][1])
    other = text.index("Các nội dung khác")
    assert last_item < other < text.index(f"Biểu quyết: {AGENDA_VOTE.title}")


def test_minutes_close_with_the_end_time_and_both_signatures(doc, text):
    assert "Kỳ họp kết thúc lúc 11:30" in text
    last = doc[-1]
    secretary = last.search_for("THƯ KÝ")
    chair = last.search_for("CHỦ TỌA")
    assert secretary and chair
    assert abs(secretary[0].y0 - chair[0].y0) < 1 and secretary[0].x1 < chair[0].x0
    names = _lines(last.get_text())
    assert SECRETARY in names and CHAIR in names
    assert "IV. KẾT THÚC" in names  # never a page holding only the signatures


def test_pages_after_the_first_are_numbered_in_the_top_margin(pdf):
    with pymupdf.open("pdf", minutes_pdf(_large_session())) as doc:
        assert doc.page_count > 2
        for page in doc:
            top = page.get_text(clip=pymupdf.Rect(0, 0, page.rect.width, BODY.y0)).split()
            assert top == ([] if page.number == 0 else [str(page.number + 1)])


def test_text_is_drawn_in_an_embedded_times_compatible_serif_inside_the_margins(doc):
    for page in doc:
        fonts = page.get_fonts()
        assert fonts
        assert all("Liberation Serif" in font[3] and font[1] == "ttf" for font in fonts)
        inner = page.rect + (28, 28, -28, -28)
        for block in page.get_text("blocks"):
            assert pymupdf.Rect(block[:4]) in inner


def _spans(doc: pymupdf.Document) -> list[dict]:
    return [
        span
        for page in doc
        for block in page.get_text("dict")["blocks"]
        for line in block.get("lines", ())
        for span in line["spans"]
    ]


def test_body_text_is_13_to_14_points_and_the_motto_as_the_decree_sets_it(doc):
    spans = _spans(doc)
    body = [s for s in spans if s["text"].startswith(("1. Thời gian", "2. Địa điểm", "Kỳ họp"))]
    assert body and all(13 <= s["size"] <= 14 for s in body)
    motto = next(s for s in spans if s["text"] == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    slogan = next(s for s in spans if s["text"] == "Độc lập - Tự do - Hạnh phúc")
    assert 12 <= motto["size"] <= 13 and 13 <= slogan["size"] <= 14
    assert "Bold" in motto["font"] and "Bold" in slogan["font"]
    dateline = next(s for s in spans if s["text"].startswith("Hà Nội, ngày"))
    assert "Italic" in dateline["font"] and 13 <= dateline["size"] <= 14


def test_a_draft_says_du_thao_on_every_page_and_a_final_one_nowhere():
    with pymupdf.open("pdf", minutes_pdf(_large_session(draft=True))) as doc:
        assert doc.page_count > 2
        for page in doc:
            assert "DỰ THẢO" in page.get_text()
    with pymupdf.open("pdf", minutes_pdf(_large_session())) as doc:
        assert not any("DỰ THẢO" in page.get_text() for page in doc)


def test_a_frozen_version_names_its_number_on_every_page():
    with pymupdf.open("pdf", minutes_pdf(_session(version=3))) as doc:
        for page in doc:
            assert "Phiên bản 3" in page.get_text()
            assert "DỰ THẢO" not in page.get_text()


def test_an_open_session_says_it_has_not_ended():
    with pymupdf.open("pdf", minutes_pdf(_session(closed="", draft=True))) as doc:
        text = _flat("\n".join(page.get_text() for page in doc))
    assert "Kỳ họp chưa kết thúc" in text and "kết thúc lúc" not in text


def test_a_session_closing_after_midnight_gives_the_closing_date():
    session = _session(closed="00 giờ 30 phút", closed_on="16 tháng 12 năm 2026")
    with pymupdf.open("pdf", minutes_pdf(session)) as doc:
        text = _flat("\n".join(page.get_text() for page in doc))
    assert "Kỳ họp kết thúc lúc 00 giờ 30 phút, ngày 16 tháng 12 năm 2026." in text


WARD_POINTS = (Person("Điểm cầu Tổ dân phố số 1", "Điểm cầu"), Person("Điểm cầu Trường THCS"))


def test_ward_points_on_video_are_counted_and_named_apart(text):
    with pymupdf.open("pdf", minutes_pdf(_session(ward_points=WARD_POINTS))) as doc:
        part = _flat(_between("\n".join(p.get_text() for p in doc), "II. THÀNH", "III. NỘI"))
    assert "Tham dự trực tuyến: 1 đại biểu và 2 điểm cầu." in part
    points = part.partition("Điểm cầu trực tuyến: 2")[2]
    assert all(point.name in points for point in WARD_POINTS)
    assert "Có mặt: 7/9 đại biểu" in part  # ward points are not delegates


RECORDS = (
    ItemRecord(*ITEMS[0]),
    ItemRecord(*ITEMS[1], "Các đại biểu thống nhất dự toán.", "Thông qua dự toán năm 2027."),
    ItemRecord(*ITEMS[2], "", "Giao Thường trực HĐND phường hoàn thiện hồ sơ."),
)


def test_the_secretary_s_summary_and_the_conclusion_stand_under_their_item():
    session = _session(
        records=RECORDS,
        opening="Chủ tọa khai mạc kỳ họp và giới thiệu đại biểu.",
        other="Chủ tọa phát biểu bế mạc kỳ họp.",
        recipients=("Thường trực HĐND phường;", "Lưu: VT."),
        chair_title="Chủ tịch HĐND phường",
    )
    with pymupdf.open("pdf", minutes_pdf(session)) as doc:
        text = _flat("\n".join(page.get_text() for page in doc))
        spans = _spans(doc)
        last = doc[-1]
        recipients = last.search_for("Nơi nhận:")
        signature = last.search_for("THƯ KÝ")
    budget = _between(text, ITEMS[1][1], ITEMS[2][1])
    assert "Các đại biểu thống nhất dự toán." in budget
    assert "Kết luận: Thông qua dự toán năm 2027." in budget
    assert "Kết luận: Giao Thường trực HĐND phường hoàn thiện hồ sơ." in text
    assert text.index("Chủ tọa khai mạc kỳ họp") < text.index(ITEMS[0][1], text.index("III."))
    assert "Chủ tọa phát biểu bế mạc kỳ họp." in text
    assert any(s["text"].startswith("Kết luận:") and "Bold" in s["font"] for s in spans)
    head = next(s for s in spans if s["text"].startswith("Nơi nhận"))
    assert "Bold It" in head["font"] and head["size"] == 12
    lines = [s for s in spans if s["text"].startswith("- ") and "VT" in s["text"]]
    assert lines and lines[0]["text"] == "- Lưu: VT." and lines[0]["size"] == 11
    assert "- Thường trực HĐND phường;" in text
    assert recipients and signature and recipients[0].y0 > signature[0].y0
    assert "CHỦ TỊCH HĐND PHƯỜNG" in text


def test_a_large_session_flows_over_many_pages():
    """How fast: bench/minutes.py measures it (a timed unit test fails on a busy machine)."""
    pdf = minutes_pdf(_large_session())
    with pymupdf.open("pdf", pdf) as doc:
        assert doc.page_count > 5
        text = "\n".join(page.get_text() for page in doc)
    assert text.count("Kết quả: Thông qua.") == 10
    assert ("Nguyễn Văn An 1", "Tán thành") in _named_pairs(text)


def test_a_frozen_version_comes_back_from_its_json_as_it_was():
    session = _session(
        records=RECORDS,
        ward_points=WARD_POINTS,
        issuer=("HỘI ĐỒNG NHÂN DÂN", "PHƯỜNG BA ĐÌNH"),
        recipients=("Lưu: VT.",),
        closed_on="16 tháng 12 năm 2026",
        version=2,
    )
    kept = json.loads(json.dumps(session.to_dict()))
    back = MinutesData.from_dict(kept)
    assert json.loads(json.dumps(back.to_dict())) == kept
    assert minutes_pdf(back) == minutes_pdf(session)


def test_a_one_page_document_gets_no_page_number_and_does_not_fail():
    doc = pymupdf.open()
    doc.new_page()
    number_pages_on_top(doc)
    assert doc[0].get_text().strip() == ""
