"""Numbers in paths and queries past what the database holds: a clear 404 (or 400), never a 500,
on SQLite and on PostgreSQL, for every route the app has."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import replace

import pytest
from litestar import Litestar
from litestar.exceptions import WebSocketDisconnect
from litestar.routes import WebSocketRoute
from litestar.testing import AsyncTestClient, WebSocketTestSession
from sqlmodel import Session

from server import db
from server.app import create_app
from server.ids import ID_MAX
from tests.conftest import Accounts, Client, throwaway_postgres
from tests.test_live import stroke, tablet

TOO_BIG = (99999999999999999999999, 2**63, 2**31)
NOT_AN_ID = (0, -1)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, settings) -> Iterator[str]:
    """The test's SQLite file, or a throwaway PostgreSQL database; migrated either way."""
    if request.param == "sqlite":
        db.upgrade(settings.database_url)
        yield settings.database_url
        return
    with throwaway_postgres("phonghop_ids") as url:
        db.upgrade(url)
        yield url


@pytest.fixture
def admin_app(settings, database_url) -> Iterator[Litestar]:
    """The app on that database, with an admin account `quantri`."""
    engine = db.make_sync_engine(database_url)
    with Session(engine, expire_on_commit=False) as session:
        accounts = Accounts(session, settings)
        accounts.user("quantri", "admin", accounts.body())
        accounts.passwords.close()
    engine.dispose()
    yield create_app(replace(settings, database_url=database_url))


def routes_with_ids(app: Litestar) -> list[tuple[str, str, list[str]]]:
    """(method or "WS", path template, its int parameters) for every route taking a number."""
    found = []
    for route in app.routes:
        numbers = [name for name, p in route.path_parameters.items() if p.type is int]
        if not numbers:
            continue
        if isinstance(route, WebSocketRoute):
            found.append(("WS", route.path, numbers))
            continue
        for method in sorted(set(route.methods) - {"OPTIONS", "HEAD"}):
            found.append((method, route.path, numbers))
    return found


def fill(template: str, number: int) -> str:
    """Every int parameter gets `number`, others a plain word."""
    return re.sub(r"\{(\w+):(\w+)\}", lambda m: str(number) if m[2] == "int" else "x", template)


def refused_handshake_code(session: WebSocketTestSession) -> int | None:
    """The close code the app answers the handshake with; None when it accepts."""
    try:
        with session:
            return None
    except WebSocketDisconnect as closed:
        return closed.code


async def test_every_number_in_a_path_past_the_database_is_not_found(admin_app):
    async with AsyncTestClient(app=admin_app, base_url="http://testserver.local") as raw:
        client = Client(raw)
        await client.login("quantri")
        routes = routes_with_ids(admin_app)
        assert len(routes) > 40 and any(method == "WS" for method, _, _ in routes)
        for number in TOO_BIG + NOT_AN_ID:
            for method, template, _ in routes:
                url = fill(template, number)
                if method == "WS":
                    session = await raw.websocket_connect(url)
                    code = await asyncio.to_thread(refused_handshake_code, session)
                    assert code == 4404, url
                    continue
                html = not url.startswith(("/api/", "/oparl/"))  # the open data is JSON too
                headers = {"Accept": "text/html"} if html else {}
                if method == "GET":
                    response = await client.get(url, headers=headers)
                else:
                    response = await client.request(method, url, json={}, headers=headers)
                assert response.status_code == 404, (method, url, response.text[:200])
                if html:
                    assert response.headers["content-type"].startswith("text/html"), url
                    assert "<html" in response.text
                else:
                    body = response.json()
                    if url.startswith("/oparl/"):  # OParl's own error object
                        assert body["type"].endswith("/Error"), (method, url, body)
                        assert "resource" not in body["message"], body
                    else:
                        assert body["code"] in ("not_found", "no_such_page"), (method, url)
                    assert body["message"].startswith("Không"), body


async def test_an_id_the_database_can_hold_still_reaches_the_route(admin_app):
    async with AsyncTestClient(app=admin_app, base_url="http://testserver.local") as raw:
        client = Client(raw)
        await client.login("quantri")
        response = await client.get(f"/api/meetings/{ID_MAX}")
        assert (response.status_code, response.json()["code"]) == (404, "not_found")
        assert response.json()["message"] == "Không tìm thấy cuộc họp."


async def test_numbers_in_queries_past_the_database_are_refused_not_a_500(admin_app):
    async with AsyncTestClient(app=admin_app, base_url="http://testserver.local") as raw:
        client = Client(raw)
        await client.login("quantri")
        made = await client.post(
            "/api/meetings", json={"title": "Kỳ họp", "starts_at": "2026-12-15T08:00:00+07:00"}
        )
        assert made.status_code == 201, made.text
        meeting_id = made.json()["id"]
        for number in TOO_BIG:
            for url in (
                f"/api/meetings/{meeting_id}/search?q=ngan+sach&document_id={number}",
                f"/meetings/{meeting_id}/read?page={number}&document={number}",
                f"/meetings/{meeting_id}/recordings?recording={number}",
            ):
                response = await client.get(url)
                assert response.status_code in (200, 400), (url, response.text[:200])
                if response.status_code == 400:
                    assert response.json()["code"] == "out_of_range"
                    assert "ngoài" in response.json()["message"]
        within = await client.get(f"/api/meetings/{meeting_id}/search?q=ab&document_id={ID_MAX}")
        assert within.json() == {"query": "ab", "results": []}


async def test_numbers_past_the_database_in_socket_messages_are_refused_clearly(served, world):
    chair = await tablet(served, "chutoa", world["meeting"])
    huge = 10**23
    sent = [
        ("page.present", {"document_id": huge, "page": 1}),
        ("page.present", {"document_id": world["paper"], "page": 2**63}),
        ("vote.cast", {"vote_id": huge, "option": "yes"}),
        ("speaker.give", {"request_id": huge}),
        ("speaker.request", {"item_id": -huge}),
        ("annotation.put", {"annotation": {**stroke(world["paper"]), "document_id": huge}}),
        ("annotation.put", {"annotation": {**stroke(world["paper"]), "page": huge}}),
    ]
    for kind, fields in sent:
        answer = await chair.request(kind, **fields)
        assert answer["type"] == "error" and answer["code"] == "bad_message", (kind, answer)
    await chair.close()


async def test_an_unknown_address_is_a_404_page_for_a_browser(client):
    for path in ("/nope", "/meetings/abc", "/meetings/1/nothing-here"):
        page = await client.get(path, headers={"Accept": "text/html"})
        assert page.status_code == 404, (path, page.text[:200])
        assert "<html" in page.text
