"""A secretary seeds a demo session: the agenda of a year-end People's Council session,
with papers that look and read like real Vietnamese council documents on the delegates'
tablets (right diacritics, searchable text, real tables, nothing cut off at the edges)."""

from __future__ import annotations

import ast
import datetime
import re
import unicodedata
from pathlib import Path

import pymupdf
import pytest

from agenda import demo_papers, fonts
from agenda.demo_papers import DemoItem, DemoPaper, demo_session

COUNCIL = "Hội đồng nhân dân phường Ba Đình"
SESSION_DAY = datetime.date(2026, 12, 8)
DOCUMENT_KINDS = {"Tờ trình": "TỜ TRÌNH", "Báo cáo": "BÁO CÁO", "Dự thảo nghị quyết": "NGHỊ QUYẾT"}
MARGIN = 28  # 10 mm: nothing may be printed closer to the paper's edge


@pytest.fixture(scope="module")
def agenda() -> list[DemoItem]:
    return demo_session(COUNCIL, "Hà Nội", SESSION_DAY)


@pytest.fixture(scope="module")
def papers(agenda: list[DemoItem]) -> list[DemoPaper]:
    return [paper for item in agenda for paper in item.papers]


@pytest.fixture(scope="module")
def texts(papers: list[DemoPaper]) -> dict[str, str]:
    return {paper.filename: "\n".join(page.get_text() for page in _open(paper)) for paper in papers}


def _open(paper: DemoPaper) -> pymupdf.Document:
    return pymupdf.open("pdf", paper.pdf)


def _bordered_tables(page: pymupdf.Page) -> list:
    """Tables drawn with ruling lines, found from the lines alone (fast)."""
    try:
        return page.find_tables(use_layout=False).tables
    except TypeError:  # PyMuPDF before 2.0 has no layout model to switch off
        return page.find_tables().tables


def _first_table_of_three_rows(doc: pymupdf.Document):
    for page in doc:
        for table in _bordered_tables(page):
            if table.row_count >= 3:
                return page, table
    return None


def _kind_heading(paper: DemoPaper) -> str:
    return next(
        heading for prefix, heading in DOCUMENT_KINDS.items() if paper.title.startswith(prefix)
    )


def test_the_agenda_is_a_regular_session_with_eight_items_and_sub_items(agenda):
    top_level = [item for item in agenda if "." not in item.number]
    sub_items = [item for item in agenda if "." in item.number]

    assert 6 <= len(top_level) <= 10
    assert sub_items
    assert len({item.number for item in agenda}) == len(agenda)
    assert "Khai mạc" in top_level[0].title
    assert "bế mạc" in top_level[-1].title
    assert any("chất vấn" in item.title.lower() for item in agenda)


def test_sub_items_come_right_after_their_parent(agenda):
    numbers = [item.number for item in agenda]
    for position, number in enumerate(numbers):
        if "." in number:
            parent = number.split(".")[0]
            previous = numbers[position - 1]
            assert previous == parent or previous.startswith(parent + ".")


def test_most_items_carry_one_to_three_papers_and_procedural_ones_none(agenda):
    with_papers = [item for item in agenda if item.papers]

    assert len(with_papers) > len(agenda) / 2
    assert all(1 <= len(item.papers) <= 3 for item in with_papers)
    assert agenda[0].papers == ()


def test_every_paper_is_an_a4_pdf_of_two_to_six_pages(papers):
    for paper in papers:
        doc = _open(paper)
        assert 2 <= doc.page_count <= 6, paper.filename
        assert all(
            abs(page.rect.width - 595) < 1 and abs(page.rect.height - 842) < 1 for page in doc
        )


def test_file_names_are_unique_ascii_pdf_names(papers):
    names = [paper.filename for paper in papers]

    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"[a-z0-9-]+\.pdf", name) for name in names)


def test_each_paper_opens_with_motto_issuer_number_and_its_heading(papers, texts):
    for paper in papers:
        first_page = _open(paper)[0].get_text()
        assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in first_page
        assert "Độc lập - Tự do - Hạnh phúc" in first_page
        assert "PHƯỜNG BA ĐÌNH" in first_page
        assert "Số:" in first_page
        assert "Hà Nội, ngày" in first_page
        assert _kind_heading(paper) in first_page, paper.filename


def test_each_paper_ends_with_signature_and_recipients(papers):
    for paper in papers:
        last_page = _open(paper)[-1].get_text()
        assert "Nơi nhận:" in last_page
        assert "CHỦ TỊCH" in last_page or "TRƯỞNG BAN" in last_page


def test_vietnamese_text_comes_back_intact_for_search(texts):
    everything = "\n".join(texts.values())

    assert unicodedata.normalize("NFC", everything) == everything
    for phrase in (
        "ngân sách",
        "Ủy ban nhân dân phường",
        "Hội đồng nhân dân phường",
        "kế hoạch đầu tư công",
        "chất vấn",
        "triệu đồng",
    ):
        assert phrase in everything
    for letter in "ươăđấầẩẫậếệốộợựỹ":
        assert letter in everything.lower(), letter


def test_a_delegate_can_search_the_budget_estimate(papers):
    estimate = next(paper for paper in papers if paper.filename.startswith("to-trinh-du-toan"))
    hits = [rect for page in _open(estimate) for rect in page.search_for("dự toán chi ngân sách")]

    assert hits


def test_amounts_are_written_the_vietnamese_way(texts):
    estimate = next(text for name, text in texts.items() if name.startswith("to-trinh-du-toan"))

    assert re.search(r"\b\d{1,3}(\.\d{3})+ triệu đồng", estimate)
    assert re.search(r"\b\d+,\d\b", estimate)  # percentages with a decimal comma


def test_every_paper_has_a_bordered_table_with_a_header_and_rows(papers):
    for paper in papers:
        doc = _open(paper)
        found = _first_table_of_three_rows(doc)
        assert found, paper.filename
        page, table = found
        assert "STT" in page.get_text(clip=table.rows[0].bbox)


def test_the_default_table_finder_reads_the_budget_estimate_table(papers):
    estimate = next(paper for paper in papers if paper.filename.startswith("to-trinh-du-toan"))
    page = _open(estimate)[0]
    table = max(page.find_tables().tables, key=lambda found: found.row_count)
    # read the cells through the page text: Table.extract() drops spaces in PyMuPDF 2.0
    inside = page.get_text(clip=table.bbox)

    assert table.row_count >= 3
    assert "Chi đầu tư phát triển" in inside
    assert re.search(r"\b\d{1,3}(\.\d{3})+\b", inside)


def test_nothing_is_printed_outside_the_page_margins(papers):
    for paper in papers:
        for page in _open(paper):
            inside = page.rect + (MARGIN, MARGIN, -MARGIN, -MARGIN)
            for block in page.get_text("blocks"):
                assert pymupdf.Rect(block[:4]) in inside, (paper.filename, page.number, block)
            for drawing in page.get_drawings():
                assert drawing["rect"] in inside, (paper.filename, page.number)


def test_pages_are_numbered_at_the_bottom(papers):
    for paper in papers:
        doc = _open(paper)
        for page in doc:
            label = f"Trang {page.number + 1}/{doc.page_count}"
            hits = page.search_for(label)
            assert hits and hits[0].y0 > page.rect.height * 0.9


def test_only_the_embedded_noto_sans_font_is_used(papers):
    for paper in papers:
        doc = _open(paper)
        for page in doc:
            for xref, ext, _, name, _, _ in doc.get_page_fonts(page.number):
                assert fonts.FONT_FAMILY in name, name
                assert ext == "ttf" and doc.extract_font(xref)[3], name


def test_the_font_covers_the_vietnamese_alphabet_in_regular_and_bold():
    letters = "ăâđêôơưÂĂĐÊÔƠƯấầẩẫậắằẳẵặếềểễệốồổỗộớờởỡợứừửữựỳỷỹỵ"
    for bold in (False, True):
        font = fonts.font(bold)
        assert all(font.has_glyph(ord(letter)) for letter in letters)
        assert fonts.font_buffer(bold)[:4] in (b"\x00\x01\x00\x00", b"true", b"OTTO")


def test_the_same_session_gives_the_same_papers(agenda):
    again = demo_session(COUNCIL, "Hà Nội", SESSION_DAY)

    assert [item.title for item in again] == [item.title for item in agenda]
    assert [p.pdf for i in again for p in i.papers] == [p.pdf for i in agenda for p in i.papers]


def test_agenda_stays_a_pure_library_without_web_or_database_imports():
    forbidden = {"litestar", "sqlmodel", "sqlalchemy", "server"}
    for module in (fonts, demo_papers):
        tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
        imported = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        }
        imported |= {
            node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
        }
        assert not {name.split(".")[0] for name in imported} & forbidden, module.__name__
