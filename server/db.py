"""Database engines, sessions and migrations: SQLite (WAL) by default, or PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import msgspec
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

MIGRATIONS = Path(__file__).parent / "migrations"


def driver_url(url: str, *, asynchronous: bool) -> str:
    """The URL with the driver we use: aiosqlite/pysqlite for SQLite, psycopg 3 for PostgreSQL."""
    scheme, _, rest = url.partition("://")
    base = scheme.split("+")[0]
    if base == "sqlite":
        return f"{'sqlite+aiosqlite' if asynchronous else 'sqlite'}://{rest}"
    if base in ("postgresql", "postgres"):
        return f"postgresql+psycopg://{rest}"
    raise SystemExit(f"PHONGHOP_DATABASE_URL: unsupported database {scheme!r}")


def _tune_sqlite(engine: sa.Engine, writers_lock_first: bool) -> None:
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn):  # type: ignore[no-untyped-def]
        # A writer takes the lock up front, so two writers wait instead of deadlocking;
        # sessions made with phonghop_read_only=True only read and never wait for it.
        read_only = conn.get_execution_options().get("phonghop_read_only", False)
        immediate = writers_lock_first and not read_only
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


# JSON columns (marks, journal payloads) go through msgspec: ink is long lists of numbers.
_JSON = {
    "json_serializer": lambda value: msgspec.json.encode(value).decode(),
    "json_deserializer": msgspec.json.decode,
}


def make_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(driver_url(url, asynchronous=True), pool_size=8, **_JSON)
        _tune_sqlite(engine.sync_engine, writers_lock_first=True)
        return engine
    return create_async_engine(
        driver_url(url, asynchronous=True),
        pool_size=10,
        max_overflow=20,
        pool_pre_ping=True,
        **_JSON,
    )


def make_sync_engine(url: str) -> sa.Engine:
    engine = sa.create_engine(driver_url(url, asynchronous=False))
    if url.startswith("sqlite"):
        # The command line and migrations run alone; their reads must not hold the write lock.
        _tune_sqlite(engine, writers_lock_first=False)
    return engine


def session_maker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", driver_url(url, asynchronous=False).replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Bring the database at `url` to the newest migration."""
    command.upgrade(alembic_config(url), "head")
