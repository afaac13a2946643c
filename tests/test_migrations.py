"""The migrations build the schema the models describe, on SQLite and on PostgreSQL."""

from __future__ import annotations

import secrets
from dataclasses import replace

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from litestar.testing import AsyncTestClient
from sqlmodel import Session, SQLModel

from server import db, models  # noqa: F401  (registers the tables)
from server.app import create_app
from server.settings import Settings
from tests.conftest import POSTGRES_URL, Accounts, Client, listening, need


def schema_differences(engine: sa.Engine) -> list:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, SQLModel.metadata)


def test_sqlite_migrations_match_the_models_and_use_wal_with_foreign_keys(settings):
    db.upgrade(settings.database_url)
    engine = db.make_sync_engine(settings.database_url)
    assert schema_differences(engine) == []
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_upgrade_twice_changes_nothing(settings):
    url = settings.database_url
    db.upgrade(url)
    db.upgrade(url)
    engine = db.make_sync_engine(url)
    with engine.connect() as connection:
        version = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    assert version == ScriptDirectory.from_config(db.alembic_config(url)).get_current_head()
    engine.dispose()


@pytest.fixture
def postgres_url():
    need(listening(POSTGRES_URL), "PostgreSQL is not running on 127.0.0.1:5432")
    schema = f"phonghop_{secrets.token_hex(4)}"
    admin = sa.create_engine(db.driver_url(POSTGRES_URL, asynchronous=False))
    with admin.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    with admin.begin() as connection:
        connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    admin.dispose()


@pytest.mark.postgres
def test_postgres_migrations_match_the_models(postgres_url):
    db.upgrade(postgres_url)
    engine = db.make_sync_engine(postgres_url)
    assert schema_differences(engine) == []
    with engine.connect() as connection:
        tables = set(sa.inspect(connection).get_table_names())
    assert {"user", "meeting", "participant", "ballotcast", "ballot", "journalevent"} <= tables
    engine.dispose()


@pytest.mark.postgres
async def test_a_secretary_works_on_postgres(postgres_url, tmp_path, monkeypatch):
    monkeypatch.setenv("PHONGHOP_DATA_DIR", str(tmp_path / "data"))
    settings = replace(Settings.from_env(), database_url=postgres_url)
    db.upgrade(postgres_url)
    engine = db.make_sync_engine(postgres_url)
    with Session(engine, expire_on_commit=False) as session:
        accounts = Accounts(session, settings)
        accounts.user("thuky", "secretary", accounts.body())
        accounts.passwords.close()
    engine.dispose()
    async with AsyncTestClient(app=create_app(settings), base_url="http://testserver.local") as raw:
        client = Client(raw)
        assert (await client.get("/healthz")).json()["db"] == "ok"
        await client.login("thuky")
        created = await client.post(
            "/api/meetings", json={"title": "Kỳ họp", "starts_at": "2026-12-15T08:00:00+07:00"}
        )
        assert created.status_code == 201
        item = await client.post(f"/api/meetings/{created.json()['id']}/items", json={"title": "A"})
        assert item.status_code == 201
