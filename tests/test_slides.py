"""The page the chair presents, as the program's still picture for points on weak lines: the
book's page fitted sharp in 1280x720, changed when the chair turns the page, given to a
conference that starts after the page went up, never a confidential paper; the same through
a bridge of its own reached over HTTP."""

from __future__ import annotations

import asyncio
import io
import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pymupdf
import pytest
from PIL import Image
from sqlmodel import select

from server.blobs import BlobStore
from server.conference.slides import BACKGROUND, HEIGHT, WIDTH, render_width, slide_picture
from server.models import Document
from tests.conftest import Client
from tests.live import Served, Tablet, bridge_serving, serving
from tests.points import Point
from tests.test_documents import papers, upload
from tests.test_publish import publish

SHOWN_DIR = os.environ.get("PHONGHOP_TEST_SLIDES_DIR")  # to look at the slides by eye


def test_a_portrait_page_is_fitted_to_the_height_and_centred_on_the_grey():
    page = Image.new("RGB", (640, 905), "white")  # A4 at the 640 bucket
    page.paste((0, 0, 0), (100, 100, 540, 140))  # a black bar of "text"
    frame = slide_picture(_png(page))
    assert (frame.width, frame.height, frame.format.name) == (WIDTH, HEIGHT, "yuv420p")
    rgb = frame.to_ndarray(format="rgb24")
    fitted = round(640 * HEIGHT / 905)  # 509: the page's shape kept
    left = (WIDTH - fitted) // 2
    assert _near(rgb[360, left - 5], BACKGROUND) and _near(rgb[360, left + fitted + 5], BACKGROUND)
    assert _near(rgb[360, left + 5], (255, 255, 255))
    bar = rgb[int(100 * HEIGHT / 905) + 3 : int(140 * HEIGHT / 905) - 3, left + 100 : left + 400]
    assert bar.max() < 40  # still black: no blur across it


def test_a_wide_slide_fills_the_picture():
    frame = slide_picture(_png(Image.new("RGB", (1280, 720), (10, 60, 120))))
    rgb = frame.to_ndarray(format="rgb24")
    assert _near(rgb[2, 2], (10, 60, 120)) and _near(rgb[717, 1277], (10, 60, 120))


def test_the_render_width_is_a_cached_bucket_no_smaller_than_the_fitted_page():
    assert render_width((595, 842)) == 640  # portrait A4: 509 px wide fitted
    assert render_width((842, 595)) == 1280  # landscape A4: 1019 px
    assert render_width((960, 540)) == 1280  # a 16:9 slide deck
    assert render_width(None) == 1280


def test_an_image_too_large_for_a_slide_is_refused():
    with pytest.raises(ValueError, match="larger than a slide"):
        slide_picture(_png(Image.new("L", (4000, 7000))))


@pytest.fixture
def people(accounts):
    body = accounts.body()
    accounts.user("thuky", "secretary", body)
    return {name: accounts.user(name) for name in ("chutoa", "phuong1")}


async def test_the_presented_book_page_is_the_slide_of_the_conference(
    served, people, accounts, database, settings
):
    book = await _published_meeting(served, people, accounts, database)
    meeting_id = book["meeting_id"]
    chair = await _chair(served, meeting_id)
    # presented before anyone joined: no conference, nothing rendered for it
    await _present(chair, book["book"], 1)
    point = await Point(served.url, "phuong1", meeting_id).join()
    try:
        conference = served.app.state.conferences.get(meeting_id)
        cover = await _slide_of(conference, lambda s: s is not None)  # told on the join
        _check_page(cover, _expected(settings, book, 1))
        _keep(cover, "book-page-1.png")

        await _present(chair, book["book"], 2)
        contents = await _slide_of(conference, lambda s: s is not cover and s is not None)
        _check_page(contents, _expected(settings, book, 2))
        assert _changed(contents, cover) > 0.01  # another page, not the cover touched up
        _keep(contents, "book-page-2.png")

        # a confidential paper is read watermarked for one person; the slide is everyone's
        await _present(chair, book["confidential"], 1)
        await _slide_of(conference, lambda s: s is None)
        await _present(chair, book["book"], 2)
        again = await _slide_of(conference, lambda s: s is not None)
        _check_page(again, _expected(settings, book, 2))
        # a page told late (an older seq: a slow render, another server) changes nothing
        late = _png(Image.new("RGB", (640, 905), "white"))
        await _on_loop(served, served.app.state.conferences.present(meeting_id, 1, late))
        assert conference.program.slide is again
    finally:
        await point.leave()
        await chair.close()


async def test_a_meeting_where_nothing_was_presented_has_no_slide_and_renders_nothing(
    served, people, accounts, database, settings
):
    book = await _published_meeting(served, people, accounts, database)
    meeting_id = book["meeting_id"]
    point = await Point(served.url, "phuong1", meeting_id).join()
    try:
        conference = served.app.state.conferences.get(meeting_id)
        seq, image = await _on_loop(served, served.app.state.slides.slide_image(meeting_id))
        assert (seq, image) == (0, None)
        assert conference.program.slide is None
        assert not (settings.data_dir / "cache").exists() or not any(
            (settings.data_dir / "cache").rglob("*.webp")
        )
    finally:
        await point.leave()


async def test_the_slide_reaches_a_bridge_of_its_own_over_http(
    people, accounts, database, settings
):
    with bridge_serving(settings) as bridge:
        apart = replace(settings, bridge_urls=[bridge.url])
        with serving(apart) as served:
            book = await _published_meeting(served, people, accounts, database)
            meeting_id = book["meeting_id"]
            chair = await _chair(served, meeting_id)
            await _present(chair, book["book"], 2)
            point = await Point(served.url, "phuong1", meeting_id).join()
            try:
                conference = bridge.app.state.conferences.get(meeting_id)
                assert served.app.state.conferences.__class__.__name__ == "Bridges"
                contents = await _slide_of(conference, lambda s: s is not None)
                _check_page(contents, _expected(settings, book, 2))
                await _present(chair, book["book"], 1)
                cover = await _slide_of(conference, lambda s: s is not contents)
                _check_page(cover, _expected(settings, book, 1))
                await _present(chair, book["confidential"], 1)
                await _slide_of(conference, lambda s: s is None)
            finally:
                await point.leave()
                await chair.close()


# --- the meeting ------------------------------------------------------------------------------


async def _published_meeting(served: Served, people, accounts, database) -> dict[str, Any]:
    """A meeting with a paper and a confidential paper, its book published by the secretary;
    `chutoa` chairs it and `phuong1` is a ward point."""
    async with httpx.AsyncClient(base_url=served.url, timeout=60) as http:
        secretary = Client(http)
        await secretary.login("thuky")
        created = await secretary.post(
            "/api/meetings",
            json={"title": "Kỳ họp thứ ba", "starts_at": "2026-12-15T08:00:00+07:00"},
        )
        meeting_id = created.json()["id"]
        item = await secretary.post(
            f"/api/meetings/{meeting_id}/items", json={"title": "Ngân sách"}
        )
        item_id = item.json()["id"]
        paper = papers()[0]
        assert (await upload(secretary, item_id, paper.pdf, title=paper.title)).status_code == 201
        secret = await upload(secretary, item_id, papers()[1].pdf, title="Mật", confidential="1")
        assert secret.status_code == 201, secret.text
        assert (await publish(secretary, meeting_id))["state"] == "done"
    accounts.join(people["chutoa"], meeting_id, "chair")
    accounts.join(people["phuong1"], meeting_id, "ward_point")
    database.expire_all()
    book = database.exec(
        select(Document).where(Document.meeting_id == meeting_id, Document.kind == "book")
    ).one()
    return {
        "meeting_id": meeting_id,
        "book": book.id,
        "sha256": book.sha256,
        "confidential": secret.json()["id"],
    }


async def _chair(served: Served, meeting_id: int) -> Tablet:
    chair = await (await Tablet(served, "chutoa").sign_in()).connect(meeting_id)
    await chair.answer(await chair.send("hello", since=None), within=30)
    return chair


async def _present(chair: Tablet, document_id: int, page: int) -> None:
    ack = await chair.request("page.present", document_id=document_id, page=page)
    assert ack["type"] == "ack", ack


async def _slide_of(conference: Any, wanted: Any, within: float = 60) -> Any:
    """The conference's slide once `wanted(slide)` holds (the render pool may be cold)."""
    deadline = time.monotonic() + within
    while not wanted(conference.program.slide):
        assert time.monotonic() < deadline, f"the slide is still {conference.program.slide}"
        await asyncio.sleep(0.05)
    return conference.program.slide


async def _on_loop(served: Served, coroutine: Any) -> Any:
    """Awaits `coroutine` on the server's own event loop (its pools and database are there)."""
    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, served.loop))


# --- the pictures -------------------------------------------------------------------------------


def _expected(settings, book: dict[str, Any], page: int) -> np.ndarray:
    """The book's page as the slide should show it, rendered here straight from the PDF."""
    blob = BlobStore(settings.blobs_dir).path(book["sha256"])
    with pymupdf.open(blob) as pdf:
        sheet = pdf[page - 1]
        zoom = render_width((sheet.rect.width, sheet.rect.height)) / sheet.rect.width
        png = sheet.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), alpha=False).tobytes("png")
    return slide_picture(png).to_ndarray(format="rgb24")


def _check_page(slide: Any, expected: np.ndarray) -> None:
    assert (slide.width, slide.height, slide.format.name) == (WIDTH, HEIGHT, "yuv420p")
    rgb = slide.to_ndarray(format="rgb24")
    grey = rgb.mean(axis=2)
    assert grey.mean() > 200  # a light page on the light grey
    assert (grey < 100).sum() > 500  # with dark text on it
    assert _changed(slide, expected) < 0.001  # that page, as rendered from the book


def _changed(slide: Any, other: Any) -> float:
    """The share of pixels whose brightness differs by more than a quarter of the range."""
    ours = slide.to_ndarray(format="rgb24").astype(np.int16).mean(axis=2)
    theirs = other if isinstance(other, np.ndarray) else other.to_ndarray(format="rgb24")
    return float((np.abs(ours - theirs.astype(np.int16).mean(axis=2)) > 64).mean())


def _keep(slide: Any, name: str) -> None:
    if SHOWN_DIR:
        Path(SHOWN_DIR).mkdir(parents=True, exist_ok=True)
        slide.to_image().save(Path(SHOWN_DIR) / name)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _near(pixel: Any, colour: tuple[int, int, int], tolerance: int = 6) -> bool:
    return all(abs(int(a) - b) <= tolerance for a, b in zip(pixel, colour, strict=True))
