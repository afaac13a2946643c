"""Guessing passwords all at once buys no extra guesses: each try takes its place before the
password is checked, on one process and across processes sharing Redis."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
import uvicorn
from redis import Redis
from redis.exceptions import RedisError

from server.app import create_app
from tests.browser import free_port
from tests.conftest import PASSWORD, need

REDIS_URL = os.environ.get("PHONGHOP_TEST_REDIS", "redis://127.0.0.1:6379/0")
AT_ONCE = 40


class Served:
    """An app served by uvicorn on its own thread and event loop, its password checks counted."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.url = f"http://127.0.0.1:{free_port()}"
        self.checked = 0
        passwords = app.state.passwords
        verify = passwords.verify

        async def counted(stored_hash: str | None, password: str) -> tuple[bool, bool]:
            self.checked += 1  # the real argon2 check follows
            return await verify(stored_hash, password)

        passwords.verify = counted


@contextlib.contextmanager
def serving(*apps: Any) -> Iterator[list[Served]]:
    servers = [Served(app) for app in apps]
    running = []
    try:
        for served in servers:
            port = int(served.url.rsplit(":", 1)[1])
            server = uvicorn.Server(
                uvicorn.Config(served.app, host="127.0.0.1", port=port, log_config=None)
            )
            thread = threading.Thread(target=server.run, daemon=True)
            thread.start()
            running.append((server, thread))
            while not server.started:
                if not thread.is_alive():
                    raise RuntimeError("the test server did not start")
                threading.Event().wait(0.02)
        yield servers
    finally:
        for server, _ in running:
            server.should_exit = True
        for _, thread in running:
            thread.join(timeout=15)


async def sign_ins(urls: list[str], logins: list[tuple[str, str]]) -> list[httpx.Response]:
    """All `logins` (username, password) at once, spread over the servers at `urls`."""
    clients = [httpx.AsyncClient(base_url=url, timeout=60) for url in urls]
    try:
        for client in clients:
            await client.get("/login")

        async def one(n: int, username: str, password: str) -> httpx.Response:
            client = clients[n % len(clients)]
            return await client.post(
                "/login",
                json={"username": username, "password": password},
                headers={"X-CSRFToken": client.cookies["csrftoken"]},
            )

        return await asyncio.gather(*(one(n, *login) for n, login in enumerate(logins)))
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))


def answers(responses: list[httpx.Response]) -> Counter[tuple[int, str]]:
    return Counter(
        (r.status_code, r.json()["code"] if r.status_code != 200 else "ok") for r in responses
    )


@pytest.fixture
def redis_settings(settings):
    """Settings for processes sharing a Redis, under a prefix of their own."""
    client = Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except RedisError:
        need(False, "Redis is not running on 127.0.0.1:6379")
    prefix = f"test-{secrets.token_hex(4)}"
    yield replace(settings, redis_url=REDIS_URL, redis_prefix=prefix)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)
    client.close()


async def test_forty_wrong_passwords_at_once_get_only_the_limit_checked(settings, accounts):
    accounts.user("daibieu21")
    limit = settings.login_max_failures
    with serving(create_app(settings)) as (served,):
        responses = await sign_ins([served.url], [("daibieu21", "sai")] * AT_ONCE)
        assert answers(responses) == {
            (401, "bad_credentials"): limit,
            (429, "login_throttled"): AT_ONCE - limit,
        }
        assert served.checked == limit
        # the right password waits out the window like everyone else
        (late,) = await sign_ins([served.url], [("daibieu21", PASSWORD)])
        assert late.status_code == 429 and served.checked == limit


async def test_one_address_guessing_many_accounts_at_once_gets_only_its_limit(settings, accounts):
    limit = settings.address_max_failures
    with serving(create_app(settings)) as (served,):
        logins = [(f"doan{n:02}", "sai") for n in range(limit + 10)]
        responses = await sign_ins([served.url], logins)
        assert answers(responses) == {(401, "bad_credentials"): limit, (429, "login_throttled"): 10}
        assert served.checked == limit


async def test_a_hall_signing_in_at_once_through_one_address_all_get_in(settings, accounts):
    """Tries in progress hold places, so the ones beyond the limit wait for theirs instead of
    being refused: right passwords give their places back."""
    names = [f"daibieu{n:02}" for n in range(30)]
    for username in names:
        accounts.user(username)
    with serving(create_app(replace(settings, address_max_failures=3))) as (served,):
        responses = await sign_ins([served.url], [(name, PASSWORD) for name in names])
        assert answers(responses) == {(200, "ok"): len(names)}
        assert served.checked == len(names)


async def test_a_right_password_clears_the_account_and_gives_back_its_place(settings, accounts):
    accounts.user("daibieu22")
    limit = settings.login_max_failures
    with serving(create_app(settings)) as (served,):
        for _ in range(2):  # twice the limit of wrong tries, each run ended by a sign-in
            logins = [("daibieu22", "sai")] * (limit - 1) + [("daibieu22", PASSWORD)]
            for login in logins:
                await sign_ins([served.url], [login])
        (again,) = await sign_ins([served.url], [("daibieu22", PASSWORD)])
        assert again.status_code == 200


async def test_two_servers_sharing_redis_check_only_the_limit_together(redis_settings, accounts):
    accounts.user("daibieu23")
    limit = redis_settings.login_max_failures
    apps = create_app(redis_settings), create_app(redis_settings)
    with serving(*apps) as servers:
        urls = [served.url for served in servers]
        responses = await sign_ins(urls, [("daibieu23", "sai")] * AT_ONCE)
        assert answers(responses) == {
            (401, "bad_credentials"): limit,
            (429, "login_throttled"): AT_ONCE - limit,
        }
        assert sum(served.checked for served in servers) == limit


async def test_two_servers_sharing_redis_let_a_hall_in_through_one_address(
    redis_settings, accounts
):
    names = [f"daibieu{n:02}" for n in range(30)]
    for username in names:
        accounts.user(username)
    shared = replace(redis_settings, address_max_failures=3)
    with serving(create_app(shared), create_app(shared)) as servers:
        responses = await sign_ins([s.url for s in servers], [(n, PASSWORD) for n in names])
        assert answers(responses) == {(200, "ok"): len(names)}
