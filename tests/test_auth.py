"""Signing in and out, sessions, CSRF and throttling, as a delegate's tablet meets them."""

from __future__ import annotations

import logging
from dataclasses import replace

from litestar.testing import AsyncTestClient
from sqlmodel import select

from server.app import create_app
from server.auth import SESSION_COOKIE
from server.models import User
from server.passwords import Passwords
from tests.conftest import PASSWORD, Client


async def test_delegate_signs_in_with_json_and_gets_a_safe_cookie(client, accounts):
    accounts.user("daibieu01")
    response = await client.login("daibieu01")
    assert response.json()["user"]["username"] == "daibieu01"
    cookie = response.headers["set-cookie"]
    assert f"{SESSION_COOKIE}=" in cookie
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    assert (await client.get("/api/meetings")).status_code == 200


async def test_form_sign_in_redirects_to_the_page_asked_for(client, accounts):
    accounts.user("daibieu02")
    await client.get("/login")
    response = await client.post(
        "/login",
        data={
            "username": "daibieu02",
            "password": PASSWORD,
            "next": "/meetings",
            "_csrf_token": client.raw.cookies["csrftoken"],
        },
    )
    assert response.status_code in (301, 302, 303)
    assert response.headers["location"] == "/meetings"


async def test_sign_in_never_redirects_to_another_site(client, accounts):
    accounts.user("daibieu03")
    await client.get("/login")
    response = await client.post(
        "/login", data={"username": "daibieu03", "password": PASSWORD, "next": "//evil.example/x"}
    )
    assert response.headers["location"] == "/"


async def test_wrong_password_is_refused_with_a_clear_message(client, accounts):
    accounts.user("daibieu04")
    response = await client.post("/login", json={"username": "daibieu04", "password": "sai"})
    assert response.status_code == 401
    assert response.json()["code"] == "bad_credentials"
    assert "mật khẩu" in response.json()["message"]


async def test_unknown_user_gets_the_same_answer_as_a_wrong_password(client, accounts):
    response = await client.post("/login", json={"username": "khongco", "password": "x" * 10})
    assert response.status_code == 401
    assert response.json()["code"] == "bad_credentials"


async def test_form_sign_in_failure_shows_the_login_page_again(client, accounts):
    accounts.user("daibieu05")
    await client.get("/login")
    response = await client.post("/login", data={"username": "daibieu05", "password": "sai"})
    assert response.status_code == 401
    assert "Sai tên đăng nhập hoặc mật khẩu" in response.text
    assert 'name="password"' in response.text


async def test_every_sign_in_starts_a_new_session_and_ends_the_old_one(client, accounts):
    accounts.user("daibieu06")
    await client.login("daibieu06")
    first = client.raw.cookies[SESSION_COOKIE]
    await client.login("daibieu06")
    second = client.raw.cookies[SESSION_COOKIE]
    assert first != second
    client.raw.cookies.set(SESSION_COOKIE, first)
    assert (await client.get("/api/meetings")).status_code == 401


async def test_sign_out_ends_the_session(client, accounts):
    accounts.user("daibieu07")
    await client.login("daibieu07")
    token = client.raw.cookies[SESSION_COOKIE]
    response = await client.post("/logout", json={})
    assert response.status_code in (200, 201)
    client.raw.cookies.set(SESSION_COOKIE, token)
    assert (await client.get("/api/meetings")).status_code == 401


async def test_a_deactivated_account_loses_its_session(app, client, accounts, database):
    user = accounts.user("daibieu08")
    await client.login("daibieu08")
    assert (await client.get("/api/meetings")).status_code == 200
    user.active = False
    database.add(user)
    database.commit()
    app.state.recent_users.clear()  # what a few seconds do: signed-in users are remembered 5 s
    assert (await client.get("/api/meetings")).status_code == 401


async def test_unsafe_request_without_csrf_token_is_refused(client, accounts):
    accounts.user("daibieu09")
    await client.login("daibieu09")
    response = await client.raw.post("/logout", json={})
    assert response.status_code == 403
    response = await client.raw.post("/api/meetings", json={}, headers={"X-CSRFToken": "forged"})
    assert response.status_code == 403
    assert response.json()["code"] == "csrf"


async def test_htmx_request_without_csrf_token_is_refused(client, accounts):
    accounts.user("daibieu10")
    await client.login("daibieu10")
    response = await client.raw.post(
        "/meetings", data={"title": "x"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 403


async def test_account_is_throttled_after_repeated_failures(client, accounts, settings):
    accounts.user("daibieu11")
    for _ in range(settings.login_max_failures):
        response = await client.post("/login", json={"username": "daibieu11", "password": "sai"})
        assert response.status_code == 401
    response = await client.post("/login", json={"username": "daibieu11", "password": PASSWORD})
    assert response.status_code == 429
    assert response.json()["code"] == "login_throttled"
    assert "phút" in response.json()["message"]
    # another account from the same address is not locked by this one
    accounts.user("daibieu12")
    assert (await client.login("daibieu12")).status_code in (200, 201)


async def test_address_is_throttled_after_many_failures_across_accounts(client, accounts, settings):
    accounts.user("daibieu13")
    for n in range(settings.address_max_failures):
        await client.post("/login", json={"username": f"doan{n}", "password": "sai"})
    response = await client.post("/login", json={"username": "daibieu13", "password": PASSWORD})
    assert response.status_code == 429


async def test_english_is_available_once_picked(client, accounts):
    client.raw.cookies.set("lang", "en")
    response = await client.post("/login", json={"username": "x1", "password": "sai"})
    assert response.json()["message"] == "Wrong username or password."


async def test_a_browser_set_to_english_still_gets_vietnamese(client, accounts):
    english = {"Accept-Language": "en-US,en;q=0.9"}
    wrong = {"username": "x1", "password": "sai"}
    response = await client.post("/login", json=wrong, headers=english)
    assert response.json()["message"] != "Wrong username or password."
    page = await client.get("/login", headers=english)
    assert '<html lang="vi">' in page.text and "Đăng nhập" in page.text


async def test_password_is_rehashed_when_parameters_change(settings, database, accounts):
    weak = Passwords(replace(settings, argon2_memory_kib=8 * 1024, argon2_time_cost=1))
    user = accounts.user("daibieu14", password_hash=weak.hash_now(PASSWORD))
    weak.close()
    app = create_app(settings)
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as raw:
        await Client(raw).login("daibieu14")
    database.expire_all()
    stored = database.exec(select(User).where(User.id == user.id)).one().password_hash
    assert f"m={settings.argon2_memory_kib},t={settings.argon2_time_cost}" in stored
    assert stored.startswith("$argon2id$")


async def test_idle_session_expires(settings, database, accounts):
    accounts.user("daibieu15")
    app = create_app(replace(settings, session_idle_minutes=0))
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as raw:
        client = Client(raw)
        await client.login("daibieu15")
        assert (await client.get("/api/meetings")).status_code == 401


async def test_bad_login_bodies_get_a_400(client):
    assert (
        await client.post("/login", content=b"{oops", headers={"Content-Type": "application/json"})
    ).status_code == 400
    assert (await client.post("/login", json=["a"])).status_code == 400
    assert (await client.post("/login", json={"username": 1, "password": 2})).status_code == 400


async def test_session_cookie_is_secure_behind_tls(app, accounts):
    accounts.user("daibieu16")
    async with AsyncTestClient(app=app, base_url="https://testserver.local") as raw:
        response = await Client(raw).login("daibieu16")
    assert "Secure" in response.headers["set-cookie"]


async def test_signing_in_again_as_another_person_is_logged_under_the_new_name(
    client, accounts, caplog
):
    accounts.user("daibieu04")
    accounts.user("daibieu05")
    await client.login("daibieu04")
    caplog.set_level(logging.INFO, logger="phonghop")
    await client.login("daibieu05")  # the request's log context already names daibieu04
    (line,) = [r for r in caplog.records if r.getMessage() == "login"]
    assert line.user == "daibieu05"
