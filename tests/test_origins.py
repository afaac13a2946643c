"""A page of another site cannot make a signed-in browser change anything here, even holding a
valid CSRF token: unsafe requests from a foreign Origin (or Referer) are refused."""

from __future__ import annotations

from dataclasses import replace

from litestar.testing import AsyncTestClient

from server.app import create_app
from tests.conftest import Client

EVIL = "https://evil.example"
MEETING = {"title": "Kỳ họp", "starts_at": "2026-12-15T08:00:00+07:00"}


async def secretary(client: Client, accounts) -> Client:
    accounts.user("thuky", "secretary", accounts.body())
    await client.login("thuky")
    return client


async def test_a_foreign_origin_is_refused_even_with_a_valid_csrf_token(client, accounts):
    await secretary(client, accounts)
    response = await client.post("/api/meetings", json=MEETING, headers={"Origin": EVIL})
    assert response.status_code == 403
    assert response.json()["code"] == "bad_origin"
    assert "trang web khác" in response.json()["message"]
    listed = await client.get("/api/meetings")
    assert listed.json() == [] or all(m["title"] != "Kỳ họp" for m in listed.json())


async def test_without_an_origin_a_foreign_referer_is_refused(client, accounts):
    await secretary(client, accounts)
    for method, url in (("POST", "/api/meetings"), ("PATCH", "/api/meetings/1")):
        response = await client.request(
            method, url, json=MEETING, headers={"Referer": f"{EVIL}/trap.html"}
        )
        assert (response.status_code, response.json()["code"]) == (403, "bad_origin")
    null = await client.post("/api/meetings", json=MEETING, headers={"Origin": "null"})
    assert (null.status_code, null.json()["code"]) == (403, "bad_origin")


async def test_signing_in_from_another_site_is_refused(client, accounts):
    accounts.user("daibieu31")
    response = await client.post(
        "/login",
        json={"username": "daibieu31", "password": "mat-khau-thu-nghiem"},
        headers={"Origin": EVIL},
    )
    assert (response.status_code, response.json()["code"]) == (403, "bad_origin")


async def test_a_form_from_another_site_gets_the_error_page(client, accounts):
    await secretary(client, accounts)
    response = await client.post(
        "/meetings",
        data={"title": "x", "_csrf_token": client.raw.cookies["csrftoken"]},
        headers={"Origin": EVIL, "Accept": "text/html"},
    )
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")


async def test_this_server_and_the_allowed_origins_pass(settings, database, accounts):
    app = create_app(replace(settings, allowed_origins=["https://hop.example.gov.vn"]))
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as raw:
        client = await secretary(Client(raw), accounts)
        for headers in (
            {"Origin": "http://testserver.local"},  # the page came from this very server
            {"Origin": "https://hop.example.gov.vn"},  # behind the proxy named in settings
            {"Referer": "http://testserver.local/meetings"},
            {"Referer": "https://hop.example.gov.vn/meetings/1"},
            {},  # no browser page at all: CSRF alone decides
        ):
            response = await client.post("/api/meetings", json=MEETING, headers=headers)
            assert response.status_code == 201, (headers, response.text)


async def test_reading_from_another_site_is_left_to_the_other_checks(client, accounts):
    await secretary(client, accounts)
    assert (await client.get("/api/meetings", headers={"Origin": EVIL})).status_code == 200


async def test_csrf_still_applies_when_the_origin_is_ours(client, accounts):
    await secretary(client, accounts)
    response = await client.raw.post(
        "/api/meetings", json=MEETING, headers={"Origin": "http://testserver.local"}
    )
    assert (response.status_code, response.json()["code"]) == (403, "csrf")


async def test_the_recorder_with_its_key_is_not_asked_for_an_origin(app, client, settings):
    response = await client.raw.post(
        "/api/recorder/recordings/1/status",
        json={"status": "recording", "message": ""},
        headers={"Origin": EVIL, "Authorization": f"Bearer {settings.recorder_key}"},
    )
    assert response.status_code != 403, response.text
    assert response.json()["code"] != "bad_origin"
