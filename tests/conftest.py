"""Shared fixtures: a fresh data dir and migrated database per test, an HTTP client that
signs in and carries the CSRF token like a browser does, and accounts made on demand."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from litestar.testing import AsyncTestClient
from sqlmodel import Session, select

from server import db
from server.app import create_app
from server.models import Body, Participant, User
from server.passwords import Passwords
from server.settings import Settings

pytest_plugins = ["tests.browser", "tests.live", "tests.mailbox"]

PASSWORD = "mat-khau-thu-nghiem"
IN_CI = os.environ.get("CI") == "true"
POSTGRES_URL = os.environ.get("PHONGHOP_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def need(condition: bool, reason: str) -> None:
    """Skip when an outside service or program is missing; under CI=true, fail instead."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI must provide this: {reason}")
    pytest.skip(reason)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("PHONGHOP_DATA_DIR", str(tmp_path / "data"))
    for name in ("PHONGHOP_DATABASE_URL", "PHONGHOP_SECRET_KEY", "PHONGHOP_ALLOWED_ORIGINS"):
        monkeypatch.delenv(name, raising=False)
    return replace(Settings.from_env(), host="testserver.local", port=80)


@pytest.fixture
def database(settings: Settings) -> Iterator[Session]:
    db.upgrade(settings.database_url)
    engine = db.make_sync_engine(settings.database_url)
    with Session(engine, expire_on_commit=False) as session:
        yield session
    engine.dispose()


class Accounts:
    """Makes bodies, users and participants straight in the database."""

    def __init__(self, session: Session, settings: Settings) -> None:
        self.session = session
        self.passwords = Passwords(settings)
        self._hash = self.passwords.hash_now(PASSWORD)

    def body(self, name: str = "HĐND phường Thử Nghiệm") -> Body:
        found = self.session.exec(select(Body).where(Body.name == name)).first()
        if found:
            return found
        body = Body(name=name)
        self.session.add(body)
        self.session.commit()
        return body

    def user(
        self, username: str, role: str = "delegate", body: Body | None = None, **kw: Any
    ) -> User:
        user = User(
            username=username,
            full_name=kw.pop("full_name", username.title()),
            role=role,
            body_id=body.id if body else None,
            password_hash=kw.pop("password_hash", self._hash),
            **kw,
        )
        self.session.add(user)
        self.session.commit()
        return user

    def join(self, user: User, meeting_id: int, role: str = "delegate") -> Participant:
        participant = Participant(meeting_id=meeting_id, user_id=user.id, role=role)
        self.session.add(participant)
        self.session.commit()
        return participant


@pytest.fixture
def accounts(database: Session, settings: Settings) -> Iterator[Accounts]:
    made = Accounts(database, settings)
    yield made
    made.passwords.close()


class Client:
    """An AsyncTestClient that sends the CSRF cookie back as X-CSRFToken, as our pages do."""

    def __init__(self, raw: httpx.AsyncClient) -> None:
        self.raw = raw
        raw.follow_redirects = False

    async def _csrf(self) -> dict[str, str]:
        if "csrftoken" not in self.raw.cookies:
            await self.raw.get("/healthz")
        return {"X-CSRFToken": self.raw.cookies["csrftoken"]}

    async def get(self, url: str, **kw: Any):  # type: ignore[no-untyped-def]
        return await self.raw.get(url, **kw)

    async def request(self, method: str, url: str, **kw: Any):  # type: ignore[no-untyped-def]
        headers = {**(await self._csrf()), **kw.pop("headers", {})}
        return await self.raw.request(method, url, headers=headers, **kw)

    async def post(self, url: str, **kw: Any):  # type: ignore[no-untyped-def]
        return await self.request("POST", url, **kw)

    async def patch(self, url: str, **kw: Any):  # type: ignore[no-untyped-def]
        return await self.request("PATCH", url, **kw)

    async def delete(self, url: str, **kw: Any):  # type: ignore[no-untyped-def]
        return await self.request("DELETE", url, **kw)

    async def login(self, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
        response = await self.post("/login", json={"username": username, "password": password})
        assert response.status_code == 200, response.text
        return response


@pytest.fixture
async def app(settings: Settings, database: Session):  # type: ignore[no-untyped-def]
    return create_app(settings)


@pytest.fixture
async def client(app) -> AsyncIterator[Client]:  # type: ignore[no-untyped-def]
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as raw:
        yield Client(raw)


@pytest.fixture
async def new_client(app, client: Client) -> AsyncIterator[Any]:  # type: ignore[no-untyped-def]
    """Another browser: its own cookies, same running app (the first client ran its startup)."""
    opened: list[httpx.AsyncClient] = []

    async def make() -> Client:
        raw = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver.local"
        )
        opened.append(raw)
        return Client(raw)

    yield make
    for raw in opened:
        await raw.aclose()


def have(program: str) -> bool:
    return shutil.which(program) is not None


def listening(url: str) -> bool:
    """Something answers on the host and port of `url` (a database, Redis)."""
    address = sa.engine.make_url(url)
    try:
        with socket.create_connection((address.host or "127.0.0.1", address.port), timeout=1):
            return True
    except OSError:
        return False


@contextmanager
def throwaway_postgres(prefix: str) -> Iterator[str]:
    """A new, empty PostgreSQL database for one test or module, dropped afterwards."""
    need(listening(POSTGRES_URL), "PostgreSQL is not running on 127.0.0.1:5432")
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = sa.create_engine(
        db.driver_url(POSTGRES_URL, asynchronous=False), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    try:
        yield sa.engine.make_url(POSTGRES_URL).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()
