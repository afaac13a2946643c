"""`phonghop backup` and `phonghop restore`: one archive holding the whole installation.

The archive is a plain tar file:

- `database/NNN-<table>.jsonl.gz`: every row of one table as a JSON object per line, the
  tables numbered in foreign-key order, so a dump restores into SQLite or PostgreSQL alike;
- `files/…`: the data dir's `blobs/`, `recordings/`, `secret_key` and `recorder_key`;
- `manifest.json` (last): the Alembic revision the dump was taken at, each table's columns
  and how their values are written, and the sha256 and size of every other member.

Restore checks every member against the manifest before it changes anything, and only
fills an empty data dir and an empty database.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import hashlib
import json
import os
import shutil
import sys
import tarfile
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime
from datetime import time as clock_time
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import IO, Any

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlmodel import SQLModel

from server import db, models  # noqa: F401  (registers the tables whose types we use)
from server.settings import Settings

FORMAT = "phonghop-backup/1"
MANIFEST = "manifest.json"
KEPT_SECRETS = ("secret_key", "recorder_key")
FOLDERS = ("blobs", "recordings")
BATCH = 1000
CHUNK = 1 << 20

Report = Callable[[str], None]


class BackupError(Exception):
    """A backup or restore that cannot go on; the message is for the IT officer."""


def to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# Values: how a column's values are written as JSON, and read back.

_KINDS: list[tuple[str, type]] = [
    ("datetime", datetime),  # before date: a datetime is a date
    ("date", date),
    ("time", clock_time),
    ("uuid", uuid.UUID),
    ("bytes", bytes),
    ("decimal", Decimal),
]
_ENCODE: dict[str, Callable[[Any], Any]] = {
    "datetime": lambda v: v.isoformat(),
    "date": lambda v: v.isoformat(),
    "time": lambda v: v.isoformat(),
    "uuid": str,
    "bytes": lambda v: base64.b64encode(v).decode("ascii"),
    "decimal": str,
}
_DECODE: dict[str, Callable[[Any], Any]] = {
    "datetime": datetime.fromisoformat,
    "date": date.fromisoformat,
    "time": clock_time.fromisoformat,
    "uuid": uuid.UUID,
    "bytes": base64.b64decode,
    "decimal": Decimal,
}


def _kind(type_: sa.types.TypeEngine[Any]) -> str:
    while isinstance(type_, sa.TypeDecorator):
        type_ = type_.impl_instance
    if isinstance(type_, sa.JSON):
        return "json"  # written as [value], or null for SQL NULL, which JSON "null" is not
    try:
        python = type_.python_type
    except NotImplementedError:
        return "plain"
    return next((kind for kind, cls in _KINDS if issubclass(python, cls)), "plain")


def _encode(kind: str, value: Any, sql_null: bool = False) -> Any:
    if kind == "json":
        return None if sql_null else [value]
    if value is None or kind == "plain":
        return value
    return _ENCODE[kind](value)


def _decode(kind: str, value: Any) -> Any:
    if kind == "json":
        if value is None:
            return None
        return sa.JSON.NULL if value[0] is None else value[0]
    if value is None or kind == "plain":
        return value
    return _DECODE[kind](value)


def _typed(table: sa.Table) -> sa.TableClause:
    """The table with our models' types where they know the column (so datetimes come back
    aware and UUIDs as UUIDs on any database), the database's own types otherwise."""
    model = SQLModel.metadata.tables.get(table.name)
    columns = []
    for column in table.columns:
        known = model.columns.get(column.name) if model is not None else None
        type_ = known.type if known is not None else column.type
        if isinstance(type_, sa.JSON):
            type_ = sa.JSON(none_as_null=True)
        columns.append(sa.column(column.name, type_))
    return sa.table(table.name, *columns)


# The database: one consistent snapshot out, the same rows in.


@contextlib.contextmanager
def _snapshot(engine: sa.Engine) -> Iterator[sa.Connection]:
    """One read transaction: every table as it was at the same moment."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection = connection.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
        with connection.begin():
            yield connection


def _tables(connection: sa.Connection) -> list[sa.Table]:
    metadata = sa.MetaData()
    metadata.reflect(bind=connection)
    return [t for t in metadata.sorted_tables if t.name != "alembic_version"]


def _revision(connection: sa.Connection) -> str:
    if not sa.inspect(connection).has_table("alembic_version"):
        raise BackupError("the database has never been migrated: run `phonghop db upgrade`")
    return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one()


def _dump_table(connection: sa.Connection, table: sa.Table, out: Path) -> dict[str, Any]:
    typed = _typed(table)
    kinds = {c.name: _kind(c.type) for c in typed.columns}
    json_columns = [name for name, kind in kinds.items() if kind == "json"]
    nulls = [typed.c[name].is_(None).label(f"{name} is null") for name in json_columns]
    order = [typed.c[c.name] for c in table.primary_key.columns]
    query = sa.select(typed, *nulls).order_by(*order)
    rows = 0
    with gzip.open(out, "wt", encoding="utf-8") as lines:
        result = connection.execution_options(yield_per=BATCH).execute(query)
        for row in result.mappings():
            encoded = {
                name: _encode(kind, row[name], bool(row.get(f"{name} is null")))
                for name, kind in kinds.items()
            }
            lines.write(json.dumps(encoded, ensure_ascii=False) + "\n")
            rows += 1
    return {"name": table.name, "columns": kinds, "rows": rows}


def _parents_first(rows: list[dict[str, Any]], key: str, parent: str) -> list[dict[str, Any]]:
    """Rows of a table that refers to itself, each after the row it refers to."""
    placed: set[Any] = set()
    ordered: list[dict[str, Any]] = []
    waiting = rows
    while waiting:
        ready = [r for r in waiting if r[parent] is None or r[parent] in placed]
        if not ready:  # a loop, which the database would refuse anyway
            ready = waiting
        placed.update(r[key] for r in ready)
        ordered += ready
        waiting = [r for r in waiting if r[key] not in placed]
    return ordered


def _self_reference(table: sa.Table) -> tuple[str, str] | None:
    for fk in table.foreign_keys:
        if fk.column.table is table:
            return fk.column.name, fk.parent.name
    return None


def _batches(rows: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert_rows(
    connection: sa.Connection, table: sa.Table, dumped: dict[str, Any], lines: IO[str]
) -> None:
    kinds: dict[str, str] = dumped["columns"]
    missing = set(kinds) - set(table.columns.keys())
    if missing:
        raise BackupError(f"table {table.name} has no column {', '.join(sorted(missing))}")
    typed = _typed(table)
    rows: Iterable[dict[str, Any]] = (
        {name: _decode(kinds[name], value) for name, value in json.loads(line).items()}
        for line in lines
    )
    link = _self_reference(table)
    if link:
        rows = _parents_first(list(rows), *link)
    for batch in _batches(rows):
        connection.execute(typed.insert(), batch)


def _reset_sequences(connection: sa.Connection, tables: Iterable[sa.Table]) -> None:
    """PostgreSQL hands out ids from sequences that the inserted rows did not move."""
    quote = connection.dialect.identifier_preparer.quote
    for table in tables:
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not isinstance(keys[0].type, sa.Integer):
            continue
        name, key = quote(table.name), quote(keys[0].name)
        connection.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence(:table, :key), "
                f"coalesce(max({key}), 0) + 1, false) FROM {name}"
            ),
            {"table": name, "key": keys[0].name},
        )


# The archive.


class _Archive:
    """A tar file being written, remembering each member's sha256 and size."""

    def __init__(self, tar: tarfile.TarFile) -> None:
        self.tar = tar
        self.members: dict[str, dict[str, Any]] = {}

    def add_file(self, path: Path, name: str) -> int:
        with path.open("rb") as source:
            size = os.fstat(source.fileno()).st_size
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = size, int(path.stat().st_mtime), 0o600
            digest = hashlib.sha256()
            self.tar.addfile(info, _Hashing(source, digest))
        self.members[name] = {"sha256": digest.hexdigest(), "size": size}
        return size

    def add_bytes(self, data: bytes, name: str) -> None:
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = len(data), int(time.time()), 0o600
        self.tar.addfile(info, _Hashing(_BytesReader(data), hashlib.sha256()))


class _Hashing:
    """A file opened for reading that hashes what is read through it."""

    def __init__(self, source: Any, digest: Any) -> None:
        self.source, self.digest = source, digest

    def read(self, size: int = -1) -> bytes:
        data = self.source.read(size)
        self.digest.update(data)
        return data


class _BytesReader:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def read(self, size: int = -1) -> bytes:
        end = len(self.data) if size < 0 else self.at + size
        chunk, self.at = self.data[self.at : end], min(end, len(self.data))
        return chunk


class _Progress:
    """Says how far copying files got, every few seconds and at the end."""

    def __init__(self, report: Report, doing: str) -> None:
        self.report, self.doing = report, doing
        self.files = self.bytes = 0
        self.said = time.monotonic()

    def add(self, size: int) -> None:
        self.files += 1
        self.bytes += size
        if time.monotonic() - self.said > 2:
            self.say()

    def say(self) -> None:
        self.said = time.monotonic()
        self.report(f"{self.doing}: {self.files} files, {self.bytes / 1e6:.1f} MB")


def _data_files(data_dir: Path) -> Iterator[tuple[Path, str]]:
    """The files to keep, each with its name in the archive."""
    for name in KEPT_SECRETS:
        if (data_dir / name).is_file():
            yield data_dir / name, f"files/{name}"
    for folder in FOLDERS:
        root = data_dir / folder
        for path in sorted(root.rglob("*")) if root.is_dir() else []:
            if path.is_file() and not path.name.startswith(".incoming-"):
                yield path, f"files/{path.relative_to(data_dir).as_posix()}"


def backup(settings: Settings, target: Path, report: Report = to_stderr) -> dict[str, Any]:
    """Writes the archive to `target` (whole or not at all) and returns its manifest."""
    partial = target.with_name(target.name + ".partial")
    try:
        with (
            tempfile.TemporaryDirectory(prefix="phonghop-backup-") as scratch,
            tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as tar,
        ):
            archive = _Archive(tar)
            revision, tables = _dump_database(settings.database_url, Path(scratch), archive, report)
            # Blobs are only ever added, so what the dump refers to is there now.
            progress = _Progress(report, "files")
            for path, name in _data_files(settings.data_dir):
                with contextlib.suppress(FileNotFoundError):  # e.g. a recording pruned just now
                    progress.add(archive.add_file(path, name))
            progress.say()
            manifest = {
                "format": FORMAT,
                "created_at": datetime.now(UTC).isoformat(),
                "database": {"dialect": _dialect(settings.database_url), "revision": revision},
                "tables": tables,
                "members": archive.members,
            }
            archive.add_bytes(json.dumps(manifest, indent=1).encode(), MANIFEST)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return manifest


def _dialect(url: str) -> str:
    return sa.make_url(db.driver_url(url, asynchronous=False)).get_backend_name()


def _dump_database(
    url: str, scratch: Path, archive: _Archive, report: Report
) -> tuple[str, list[dict[str, Any]]]:
    engine = db.make_sync_engine(url)
    dumped = []
    try:
        with _snapshot(engine) as connection:
            revision = _revision(connection)
            for number, table in enumerate(_tables(connection), start=1):
                out = scratch / f"{number:03d}-{table.name}.jsonl.gz"
                dumped.append(_dump_table(connection, table, out))
                report(f"database: {table.name}, {dumped[-1]['rows']} rows")
                dumped[-1]["member"] = f"database/{out.name}"
                archive.add_file(out, dumped[-1]["member"])
    finally:
        engine.dispose()
    return revision, dumped


# Restore.


def _damaged(archive: Path, why: object) -> BackupError:
    return BackupError(
        f"{archive} is damaged or is not a phonghop backup ({why}); nothing was restored"
    )


def _allowed_name(name: str) -> bool:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or len(path.parts) < 2:
        return False
    if path.parts[0] == "database":
        return len(path.parts) == 2
    if path.parts[0] != "files":
        return False
    if path.parts[1] in FOLDERS:
        return len(path.parts) > 2
    return path.parts[1] in KEPT_SECRETS and len(path.parts) == 2


def verify(archive: Path, report: Report = to_stderr) -> dict[str, Any]:
    """The archive's manifest, once every member is checked against it."""
    try:
        with tarfile.open(archive, "r:") as tar:
            manifest = json.load(tar.extractfile(MANIFEST))  # type: ignore[arg-type]
            if manifest.get("format") != FORMAT:
                raise _damaged(archive, f"unknown format {manifest.get('format')!r}")
            expected: dict[str, dict[str, Any]] = manifest["members"]
            seen: set[str] = set()
            progress = _Progress(report, "checking")
            for member in tar.getmembers():
                if member.name == MANIFEST:
                    continue
                want = expected.get(member.name)
                if want is None or not member.isfile() or not _allowed_name(member.name):
                    raise _damaged(archive, f"unexpected member {member.name}")
                if _sha256(tar.extractfile(member)) != want["sha256"]:
                    raise _damaged(archive, f"{member.name} does not match its checksum")
                seen.add(member.name)
                progress.add(member.size)
            progress.say()
    except (tarfile.TarError, OSError, EOFError, ValueError, KeyError, TypeError) as problem:
        raise _damaged(archive, problem) from problem
    absent = sorted(set(expected) - seen)
    if absent:
        raise _damaged(archive, f"{len(absent)} members are missing, e.g. {absent[0]}")
    return manifest


def _sha256(source: IO[bytes] | None) -> str:
    digest = hashlib.sha256()
    while source is not None and (chunk := source.read(CHUNK)):
        digest.update(chunk)
    return digest.hexdigest()


def _sqlite_file(url: str) -> Path | None:
    parsed = sa.make_url(db.driver_url(url, asynchronous=False))
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).resolve()


def _refuse_unless_empty(settings: Settings) -> None:
    """Restore fills only a new installation: a data dir with at most its generated keys,
    and a database without tables."""
    database_file = _sqlite_file(settings.database_url)
    if database_file is None or database_file.exists():
        engine = sa.create_engine(db.driver_url(settings.database_url, asynchronous=False))
        try:
            with engine.connect() as connection:
                tables = sorted(sa.inspect(connection).get_table_names())
        finally:
            engine.dispose()
        if tables:
            raise BackupError(
                f"the database already has tables ({', '.join(tables[:4])}…): restore needs a "
                "new, empty database; nothing was changed"
            )
    kept = [
        p for p in _files_under(settings.data_dir) if not _generated(p, settings, database_file)
    ]
    if kept:
        shown = ", ".join(str(p.relative_to(settings.data_dir)) for p in kept[:4])
        raise BackupError(
            f"the data dir {settings.data_dir} is not empty ({shown}…): restore needs a new, "
            "empty data dir; nothing was changed"
        )


def _files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if not p.is_dir()] if root.is_dir() else []


def _generated(path: Path, settings: Settings, database_file: Path | None) -> bool:
    """Made by merely starting a command here: the kept keys, an empty SQLite file."""
    if path.parent == settings.data_dir and path.name in KEPT_SECRETS:
        return True
    if database_file is None:
        return False
    return path.parent.resolve() == database_file.parent and path.name.startswith(
        database_file.name
    )


def restore(settings: Settings, archive: Path, report: Report = to_stderr) -> dict[str, Any]:
    """Fills an empty data dir and database from `archive`; on any failure, takes back
    what it added and raises BackupError."""
    _refuse_unless_empty(settings)
    manifest = verify(archive, report)
    revision = manifest["database"]["revision"]
    try:
        ScriptDirectory.from_config(db.alembic_config(settings.database_url)).get_revision(revision)
    except CommandError as problem:
        raise BackupError(
            f"the backup is at database revision {revision}, which this phonghop does not "
            "know: restore it with the version that made it, or a newer one"
        ) from problem
    made: list[Path] = []
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(archive, "r:") as tar:
            report(f"database: migrating to {revision}")
            command.upgrade(db.alembic_config(settings.database_url), revision)
            _load_database(settings.database_url, tar, manifest, report)
            _copy_files(tar, manifest, settings.data_dir, made, report)
        report("database: migrating to the newest revision")
        db.upgrade(settings.database_url)
    except BaseException as problem:  # also Ctrl-C: leave the target empty again
        _take_back(settings, made)
        if isinstance(problem, Exception) and not isinstance(problem, BackupError):
            raise BackupError(f"restore failed, nothing was kept: {problem}") from problem
        raise
    return manifest


def _load_database(
    url: str, tar: tarfile.TarFile, manifest: dict[str, Any], report: Report
) -> None:
    engine = db.make_sync_engine(url)
    try:
        with engine.begin() as connection:
            tables = {t.name: t for t in _tables(connection)}
            for dumped in manifest["tables"]:
                table = tables.get(dumped["name"])
                if table is None:
                    raise BackupError(f"the database has no table {dumped['name']}")
                source = tar.extractfile(dumped["member"])
                with gzip.open(source, "rt", encoding="utf-8") as lines:  # type: ignore[arg-type]
                    _insert_rows(connection, table, dumped, lines)
                report(f"database: {table.name}, {dumped['rows']} rows")
            if connection.dialect.name == "postgresql":
                _reset_sequences(connection, tables.values())
    finally:
        engine.dispose()


def _copy_files(
    tar: tarfile.TarFile, manifest: dict[str, Any], data_dir: Path, made: list[Path], report: Report
) -> None:
    progress = _Progress(report, "files")
    for name, member in manifest["members"].items():
        if not name.startswith("files/"):
            continue
        target = data_dir / name.removeprefix("files/")
        target.parent.mkdir(parents=True, exist_ok=True)
        made.append(target)
        with target.open("wb") as out:
            shutil.copyfileobj(tar.extractfile(name), out, CHUNK)  # type: ignore[misc]
        target.chmod(0o600)
        progress.add(member["size"])
    progress.say()


def _take_back(settings: Settings, made: list[Path]) -> None:
    """Removes what a failed restore added, so the target is empty again."""
    for path in made:
        path.unlink(missing_ok=True)
    for folder in FOLDERS:
        for directory in sorted((settings.data_dir / folder).glob("**/"), reverse=True):
            with contextlib.suppress(OSError):
                directory.rmdir()  # only the empty ones go
    engine = db.make_sync_engine(settings.database_url)
    try:
        metadata = sa.MetaData()
        with engine.begin() as connection:
            metadata.reflect(bind=connection)
            metadata.drop_all(bind=connection)
    finally:
        engine.dispose()
