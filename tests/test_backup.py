"""`phonghop backup` and `restore`: everything comes back, on SQLite and PostgreSQL; damaged
archives and non-empty targets are refused and change nothing."""

from __future__ import annotations

import hashlib
import secrets
import tarfile
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

from server import db
from server.backup import BackupError, backup, restore
from server.models import (
    Annotation,
    Ballot,
    BallotCast,
    Body,
    JournalEvent,
    Vote,
    VoteOption,
)
from tests.conftest import throwaway_postgres
from tests.test_cli import phonghop
from tests.test_documents import budget_paper, upload


@pytest.fixture
async def council(client, accounts, database, settings):
    """A meeting with nested agenda items, a real PDF, an annotation, a vote with ballots,
    journal events and a recording's files."""
    body = accounts.body()
    secretary = accounts.user("thuky", "secretary", body)
    voter = accounts.user("daibieu01", "delegate", body)
    await client.login("thuky")
    created = await client.post(
        "/api/meetings", json={"title": "Kỳ họp thứ 9", "starts_at": "2026-12-15T08:00:00+07:00"}
    )
    mid = created.json()["id"]
    items = [
        (await client.post(f"/api/meetings/{mid}/items", json={"title": t})).json()["id"]
        for t in ("Khai mạc", "Ngân sách")
    ]
    sub = await client.post(
        f"/api/meetings/{mid}/items", json={"title": "Dự toán", "parent_id": items[1]}
    )
    # The first item now hangs under one made after it: restore must insert parents first.
    moved = await client.patch(f"/api/items/{items[0]}", json={"parent_id": sub.json()["id"]})
    assert moved.status_code == 200, moved.text
    uploaded = await upload(client, items[1], budget_paper(), title="Tờ trình dự toán")
    assert uploaded.status_code == 201, uploaded.text
    document_id = uploaded.json()["id"]
    _add_rows(database, mid, document_id, secretary.id, voter.id)
    segment = settings.data_dir / "recordings" / str(mid) / "1" / "segments" / "00001.ts"
    segment.parent.mkdir(parents=True)
    segment.write_bytes(secrets.token_bytes(5000))
    return mid


def _add_rows(session, meeting_id: int, document_id: int, secretary: int, voter: int) -> None:
    session.add(
        Annotation(
            id=uuid.uuid4(),
            owner_id=voter,
            document_id=document_id,
            page=1,
            kind="ink",
            data={"points": [[0.1, 0.2], [0.3, 0.4]], "color": "#d00"},
        )
    )
    vote = Vote(meeting_id=meeting_id, title="Thông qua dự toán", status="closed", secret=False)
    vote.opened_at = datetime(2026, 12, 15, 2, 0, tzinfo=UTC)
    vote.result = {"passed": True, "tally": {"yes": 1}}
    empty = Vote(meeting_id=meeting_id, title="Chưa biểu quyết")
    session.add_all([vote, empty])
    session.flush()
    yes = VoteOption(vote_id=vote.id, key="yes", label="Tán thành")
    session.add(yes)
    session.flush()
    session.add(BallotCast(vote_id=vote.id, voter_id=voter, weight=1))
    session.add(Ballot(vote_id=vote.id, option_id=yes.id, voter_id=voter))
    session.add(
        JournalEvent(meeting_id=meeting_id, seq=1, type="note", payload=None, actor_id=secretary)
    )
    session.flush()
    # The ORM writes JSON null; SQL NULL must come back as SQL NULL, and JSON null as JSON null.
    session.execute(sa.update(Vote).where(Vote.id == empty.id).values(result=sa.null()))
    session.commit()


def everything(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, read with the models' types."""
    engine = db.make_sync_engine(url)
    with engine.connect() as connection:
        rows = {
            table.name: connection.execute(
                sa.select(table).order_by(*table.primary_key.columns)
            ).all()
            for table in SQLModel.metadata.sorted_tables
        }
        rows["votes without result"] = connection.execute(
            sa.text("SELECT id FROM vote WHERE result IS NULL")
        ).all()
        rows["journal payloads that are SQL NULL"] = connection.execute(
            sa.text("SELECT id FROM journalevent WHERE payload IS NULL")
        ).all()
    engine.dispose()
    return rows


def files_of(data_dir: Path) -> dict[str, bytes]:
    kept = [data_dir / "secret_key", data_dir / "recorder_key"]
    for folder in ("blobs", "recordings"):
        kept += [p for p in (data_dir / folder).rglob("*") if p.is_file()]
    return {str(p.relative_to(data_dir)): p.read_bytes() for p in kept}


def fresh(settings, tmp_path: Path, name: str, url: str | None = None):
    data_dir = tmp_path / name
    return replace(
        settings, data_dir=data_dir, database_url=url or f"sqlite:///{data_dir / 'phonghop.db'}"
    )


def check_restored(source, restored) -> None:
    before, after = everything(source.database_url), everything(restored.database_url)
    assert after == before
    assert after["meeting"] and after["document"] and after["annotation"] and after["ballot"]
    assert len(after["votes without result"]) == 1
    for document in after["document"]:
        blob = restored.blobs_dir / document.sha256[:2] / f"{document.sha256}.pdf"
        assert hashlib.sha256(blob.read_bytes()).hexdigest() == document.sha256
    assert files_of(restored.data_dir) == files_of(source.data_dir)


async def test_restore_into_an_empty_data_dir_finds_everything(council, settings, tmp_path):
    said: list[str] = []
    archive = tmp_path / "phonghop.tar"
    manifest = backup(settings, archive, said.append)
    assert manifest["database"]["revision"] and any("annotation" in line for line in said)
    restored = fresh(settings, tmp_path, "restored")
    restore(restored, archive, said.append)
    check_restored(settings, restored)
    with db.make_sync_engine(restored.database_url).begin() as connection:
        version = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    assert version == manifest["database"]["revision"]


@pytest.fixture
def postgres_database():
    """A throwaway PostgreSQL database, dropped afterwards."""
    with throwaway_postgres("phonghop_backup") as url:
        yield url


@pytest.mark.postgres
async def test_sqlite_to_postgresql_and_back(council, settings, tmp_path, postgres_database):
    archive = tmp_path / "from-sqlite.tar"
    backup(settings, archive, lambda _: None)
    on_postgres = fresh(settings, tmp_path, "postgres", postgres_database)
    restore(on_postgres, archive, lambda _: None)
    check_restored(settings, on_postgres)
    engine = db.make_sync_engine(postgres_database)
    with engine.begin() as connection:  # the sequences were moved past the restored ids
        new_id = connection.execute(
            sa.insert(Body).values(name="Mới", place="")
        ).inserted_primary_key
        assert new_id[0] > max(b.id for b in everything(settings.database_url)["body"])
        connection.execute(sa.delete(Body).where(Body.id == new_id[0]))
    engine.dispose()

    again = tmp_path / "from-postgres.tar"
    backup(on_postgres, again, lambda _: None)
    back_on_sqlite = fresh(settings, tmp_path, "back")
    restore(back_on_sqlite, again, lambda _: None)
    check_restored(settings, back_on_sqlite)


def _flip_a_byte_of_the_pdf(archive: Path) -> None:
    with tarfile.open(archive) as tar:
        blob = next(m for m in tar.getmembers() if m.name.startswith("files/blobs/"))
    with archive.open("r+b") as raw:
        raw.seek(blob.offset_data + blob.size // 2)
        byte = raw.read(1)
        raw.seek(-1, 1)
        raw.write(bytes([byte[0] ^ 0xFF]))


@pytest.mark.parametrize("damage", ["flipped byte", "truncated", "not a tar"])
async def test_a_damaged_archive_is_refused_and_leaves_nothing(council, settings, tmp_path, damage):
    archive = tmp_path / "phonghop.tar"
    backup(settings, archive, lambda _: None)
    if damage == "flipped byte":
        _flip_a_byte_of_the_pdf(archive)
    elif damage == "truncated":
        archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    else:
        archive.write_bytes(b"%PDF-1.7 not a backup" * 100)
    target = fresh(settings, tmp_path, "restored")
    with pytest.raises(BackupError, match="damaged or is not a phonghop backup"):
        restore(target, archive, lambda _: None)
    assert not target.data_dir.exists()


async def test_restore_refuses_a_used_target_and_changes_nothing(council, settings, tmp_path):
    archive = tmp_path / "phonghop.tar"
    done = phonghop(settings, "backup", str(archive))
    assert done.returncode == 0, done.stderr
    assert "backup written to" in done.stdout and "database: annotation" in done.stderr
    rows, files = everything(settings.database_url), files_of(settings.data_dir)

    refused = phonghop(settings, "restore", str(archive))
    assert refused.returncode == 1
    assert "already has tables" in refused.stderr and "nothing was changed" in refused.stderr
    assert everything(settings.database_url) == rows and files_of(settings.data_dir) == files

    # An empty database, but a data dir that holds someone's documents.
    used = fresh(settings, tmp_path, "used")
    (used.blobs_dir / "ab").mkdir(parents=True)
    (used.blobs_dir / "ab" / "other.pdf").write_bytes(b"%PDF-1.7")
    with pytest.raises(BackupError, match="data dir .* is not empty"):
        restore(used, archive, lambda _: None)
    assert sorted(p.name for p in used.data_dir.rglob("*")) == ["ab", "blobs", "other.pdf"]


async def test_a_restore_that_fails_halfway_takes_back_what_it_wrote(
    council, settings, tmp_path, monkeypatch
):
    archive = tmp_path / "phonghop.tar"
    backup(settings, archive, lambda _: None)
    target = fresh(settings, tmp_path, "restored")

    def disk_full(tar, manifest, data_dir, made, report):
        (data_dir / "blobs").mkdir()
        made.append(data_dir / "blobs" / "half.pdf")
        made[-1].write_bytes(b"%PDF")
        raise OSError("No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr("server.backup._copy_files", disk_full)
        with pytest.raises(BackupError, match="No space left on device"):
            restore(target, archive, lambda _: None)
    assert [p for p in target.data_dir.rglob("*") if p.is_file() and p.suffix != ".db"] == []
    engine = db.make_sync_engine(target.database_url)
    with engine.connect() as connection:
        assert sa.inspect(connection).get_table_names() == []
    engine.dispose()
    restore(target, archive, lambda _: None)  # empty again, so a second try works
    check_restored(settings, target)


async def test_the_command_line_restores_into_a_new_data_dir(council, settings, tmp_path):
    archive = tmp_path / "phonghop.tar"
    assert phonghop(settings, "backup", str(archive)).returncode == 0
    target = fresh(settings, tmp_path, "new-machine")
    done = phonghop(target, "restore", str(archive))
    assert done.returncode == 0, done.stderr
    assert "restored the backup of" in done.stdout
    check_restored(settings, target)
    assert phonghop(target, "restore", "--check", str(archive)).returncode == 0
    _flip_a_byte_of_the_pdf(archive)
    damaged = phonghop(target, "restore", "--check", str(archive))
    assert damaged.returncode == 1 and "does not match its checksum" in damaged.stderr
