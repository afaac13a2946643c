"""Search covers the agenda book and every paper the reader may read, without minding
diacritics, lists each page once, and names it by its printed label."""

from __future__ import annotations

import re

from agenda.render import fold
from server.models import Document, DocumentPage
from tests.test_confidential import SECRET, hall  # noqa: F401 - the fixture is used by name


def search_url(hall) -> str:  # noqa: F811
    return f"/api/meetings/{hall['id']}/search"


async def found(reader, hall, q: str, **params) -> list[dict]:  # noqa: F811
    response = await reader.get(search_url(hall), params={"q": q, **params})
    assert response.status_code == 200, response.text
    return response.json()["results"]


def squashed(text: str) -> str:
    return " ".join(fold(text).split())


async def test_a_query_over_200_characters_is_refused(hall):  # noqa: F811
    response = await hall["delegate"].get(search_url(hall), params={"q": "dự toán " * 30})
    assert response.status_code == 400
    assert response.json()["code"] == "query_too_long"
    assert await found(hall["delegate"], hall, "") == []
    assert await found(hall["delegate"], hall, " đ ") == []  # one letter finds nothing


async def test_the_books_cover_is_found_with_or_without_diacritics(hall):  # noqa: F811
    book = hall["book"]["document_id"]
    for query in ("ky hop", "kỳ họp", "KỲ HỌP", "Ky Hop"):
        for params in ({"reading": book}, {"document_id": book}, {}):
            hits = await found(hall["delegate"], hall, query, **params)
            cover = hits[0]
            assert (cover["document_id"], cover["page"], cover["label"]) == (book, 1, "i"), query
            assert squashed(cover["parts"][1]) == "ky hop"
            assert cover["parts"][1] in cover["snippet"]


async def test_du_toan_ngan_sach_finds_dự_toán_ngân_sách_as_a_page_of_the_book(hall):  # noqa: F811
    book = hall["book"]["document_id"]
    labels = (await hall["delegate"].get(f"/api/documents/{book}")).json()["page_labels"]
    for query in ("du toan ngan sach", "dự toán ngân sách", "DỰ TOÁN NGÂN SÁCH"):
        hits = await found(hall["delegate"], hall, query, reading=book)
        assert hits, query
        assert all(hit["document_id"] == book for hit in hits)  # not again as the paper
        for hit in hits:
            assert squashed(hit["parts"][1]) == "du toan ngan sach"
            assert hit["label"] == labels[hit["page"] - 1]
            assert hit["paper_title"] == "Tờ trình dự toán"
        words = await hall["delegate"].get(f"/api/documents/{book}/pages/{hits[0]['page']}/words")
        page_text = squashed(" ".join(word[4] for word in words.json()["words"]))
        assert "du toan ngan sach" in page_text  # what the reader highlights


async def test_the_same_page_is_listed_once_where_the_reader_is_reading(hall):  # noqa: F811
    book, paper = hall["book"]["document_id"], hall["public"]["id"]
    in_book = await found(hall["delegate"], hall, "dự toán", reading=book)
    in_paper = await found(hall["delegate"], hall, "dự toán", reading=paper)
    anywhere = await found(hall["delegate"], hall, "dự toán")
    assert {hit["document_id"] for hit in in_paper} == {paper}
    # anywhere: the paper's own pages, and the book's contents page that no paper holds
    assert [hit for hit in anywhere if hit["document_id"] != book] == in_paper
    assert [hit["label"] for hit in anywhere if hit["document_id"] == book] == ["ii"]
    assert {hit["document_id"] for hit in in_book} == {book}
    # the paper's pages in the book, plus the contents page that lists it by title
    pages = [(hit["document_id"], hit["page"]) for hit in in_book]
    assert len(pages) == len(set(pages)) == len(in_paper) + 1
    assert [hit["label"] for hit in in_paper] == [str(hit["page"]) for hit in in_paper]


async def test_đ_folds_to_d(hall):  # noqa: F811
    book = hall["book"]["document_id"]
    for query in ("hdnd", "HĐND", "hđnd"):
        hits = await found(hall["delegate"], hall, query, reading=book)
        assert hits and hits[0]["page"] == 1, query
        assert squashed(hits[0]["parts"][1]) == "hdnd"


async def test_an_observer_finds_no_confidential_text_anywhere(hall):  # noqa: F811
    book, secret = hall["book"]["document_id"], hall["secret"]["id"]
    for params in ({}, {"reading": book}, {"reading": secret}, {"document_id": secret}):
        assert await found(hall["observer"], hall, SECRET, **params) == [], params
        assert await found(hall["observer"], hall, SECRET.lower(), **params) == [], params
    hits = await found(hall["delegate"], hall, SECRET, reading=book)
    assert hits and {hit["document_id"] for hit in hits} == {secret}  # not in the book
    assert [hit["label"] for hit in hits] == ["1", "2"]


async def test_hits_stop_at_200(hall, database):  # noqa: F811
    long = Document(
        meeting_id=hall["id"],
        item_id=hall["public"]["item_id"],
        title="Phụ lục dài",
        sha256="d" * 64,
        page_count=250,
    )
    database.add(long)
    database.commit()
    database.add_all(
        DocumentPage(
            document_id=long.id,
            page=n,
            width=595,
            height=842,
            text=f"Phụ lục {n}: vườn ươm",
            folded=f"phu luc {n}: vuon uom",
        )  # fmt: skip
        for n in range(1, 251)
    )
    database.commit()
    response = await hall["delegate"].get(search_url(hall), params={"q": "vườn ươm"})
    body = response.json()
    assert len(body["results"]) == 200
    assert [hit["label"] for hit in body["results"][:3]] == ["1", "2", "3"]
    assert re.fullmatch(r"Phụ lục 1: vườn ươm", body["results"][0]["snippet"])
