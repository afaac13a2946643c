"""The `phonghop` command: serve, demo, bridge, recorder, create-user, import-users,
db upgrade, recordings prune, journal verify, backup, restore."""

from __future__ import annotations

import argparse
import gc
import getpass
import logging
import sys
from pathlib import Path

from sqlmodel import Session, select

from server import db, logs
from server.models import Body, User
from server.passwords import Passwords
from server.settings import Settings
from server.users import FIRST_ADMIN_COMMAND

log = logging.getLogger("phonghop.cli")
GC_THRESHOLDS = (50_000, 50, 100)  # Python's are (2_000, 10, 10)
SWITCH_INTERVAL_S = 0.001


def _session(settings: Settings) -> Session:
    return Session(db.make_sync_engine(settings.database_url), expire_on_commit=False)


def serve(settings: Settings) -> None:
    import uvicorn

    from server.app import create_app

    db.upgrade(settings.database_url)
    say_how_to_begin(settings)
    app = create_app(settings)
    # A hall keeps many objects alive (sockets, queued events, cached pages): collecting
    # them all every few thousand allocations cost a hall saying hello a third of its time.
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    # Database calls run in threads; each answer waits for the event loop to let go of the GIL,
    # which a busy loop does only every switch interval (5 ms by default).
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        ws_max_size=1 << 20,
        # Live events are ~150 bytes: compressing each for 500 tablets costs more CPU than
        # it saves bytes on a hall's LAN (see docs/BENCHMARKS.md, fan-out).
        ws_per_message_deflate=False,
        timeout_graceful_shutdown=10,
    )


def say_how_to_begin(settings: Settings) -> None:
    """On an install without accounts, the log says how to make the first administrator."""
    with _session(settings) as session:
        if session.exec(select(User.id).limit(1)).first() is not None:
            return
    log.warning(
        "no accounts yet: create the first administrator with `%s` "
        "(it asks for the password; or add --password-stdin)",
        FIRST_ADMIN_COMMAND,
    )


def cmd_serve(settings: Settings, _: argparse.Namespace) -> int:
    serve(settings)
    return 0


def cmd_bridge(settings: Settings, _: argparse.Namespace) -> int:
    import uvicorn

    from server.conference.standalone import create_bridge_app

    if not settings.redis_url:
        print(
            "error: the bridge tells the servers' tablets what happens through Redis; "
            "set PHONGHOP_REDIS_URL (and the servers' PHONGHOP_BRIDGE_URLS)",
            file=sys.stderr,
        )
        return 2
    app = create_bridge_app(settings)
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None)
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from server.demo import DEMO_PASSWORD, seed

    db.upgrade(settings.database_url)
    passwords = Passwords(settings)
    with _session(settings) as session:
        logins = seed(session, settings, passwords)
    passwords.close()
    url = f"http://{settings.host}:{settings.port}"
    print(f"\nphonghop demo: {url}\n")
    print(f"  {'username':<12} {'role':<10} password")
    for login in logins:
        if login.username in ("admin", "thuky", "chutoa", "daibieu01", "diemcau1", "khach"):
            print(f"  {login.username:<12} {login.who:<10} {DEMO_PASSWORD}")
    print(f"  (and daibieu02 … daibieu20, diemcau2, diemcau3, all with password {DEMO_PASSWORD})\n")
    sys.stdout.flush()
    if not args.seed_only:
        serve(settings)
    return 0


def cmd_create_user(settings: Settings, args: argparse.Namespace) -> int:
    from server.users import NewUser, create_user

    password = _new_password(args.password_stdin)
    if password is None:
        return 2
    db.upgrade(settings.database_url)
    passwords = Passwords(settings)
    try:
        with _session(settings) as session:
            name = args.name or ""
            new = NewUser(args.username.lower(), name, args.role, password, body=args.body)
            user = create_user(session, passwords, new)
            body = session.get(Body, user.body_id) if user.body_id else None
    except ValueError as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    finally:
        passwords.close()
    print(f"created {user.username} ({user.role})" + (f" in «{body.name}»" if body else ""))
    return 0


def _new_password(from_stdin: bool) -> str | None:
    """From standard input, or asked twice at a terminal; None (and said why) when neither."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        print("error: give the password on standard input with --password-stdin", file=sys.stderr)
        return None
    password = getpass.getpass("password for the new account: ")
    if getpass.getpass("the same password again: ") != password:
        print("error: the two passwords differ", file=sys.stderr)
        return None
    return password


def cmd_import_users(settings: Settings, args: argparse.Namespace) -> int:
    from server.users import ImportRefused, import_users

    db.upgrade(settings.database_url)
    passwords = Passwords(settings)
    try:
        with _session(settings) as session:
            rows = import_users(session, passwords, Path(args.file))
    except ImportRefused as refused:
        print(f"nothing imported; fix these lines of {args.file}:", file=sys.stderr)
        for problem in refused.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    except (OSError, UnicodeDecodeError) as problem:
        print(f"error: cannot read {args.file}: {problem}", file=sys.stderr)
        return 1
    finally:
        passwords.close()
    print(f"imported {len(rows)} accounts")
    generated = [r for r in rows if r.generated_password]
    if generated:
        print("generated passwords (hand them out, they are not stored anywhere else):")
        print("username,password")
        for row in generated:
            print(f"{row.username},{row.password}")
    return 0


def cmd_db_upgrade(settings: Settings, _: argparse.Namespace) -> int:
    db.upgrade(settings.database_url)
    print("database is up to date")
    return 0


def cmd_recorder(settings: Settings, args: argparse.Namespace) -> int:
    from server.recordings.standalone import record_until_signalled

    return record_until_signalled(settings, args.meeting, args.server, args.minutes)


def cmd_recordings_prune(settings: Settings, args: argparse.Namespace) -> int:
    from server.recordings import prune

    if settings.recording_retention_days <= 0:
        print("PHONGHOP_RECORDING_RETENTION_DAYS is 0: recordings are kept forever")
        return 0
    db.upgrade(settings.database_url)
    with _session(settings) as session:
        removed = prune(session, settings, dry_run=args.dry_run)
    verb = "would remove" if args.dry_run else "removed"
    for one in removed:
        when = one.started_at.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M")
        print(
            f"{verb} recording {one.recording_id} of «{one.meeting_title}» from {when}, "
            f"{one.size_bytes / 1e6:.1f} MB"
        )
    total = sum(one.size_bytes for one in removed) / 1e6
    freed = "would free" if args.dry_run else "freed"
    print(
        f"{len(removed)} recordings older than {settings.recording_retention_days} days; "
        f"{freed} {total:.1f} MB"
    )
    return 0


def cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    from server.backup import BackupError, backup

    target = Path(args.file)
    if not target.parent.is_dir():
        print(f"error: folder {target.parent} does not exist", file=sys.stderr)
        return 1
    try:
        manifest = backup(settings, target)
    except BackupError as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    rows = sum(table["rows"] for table in manifest["tables"])
    files = sum(name.startswith("files/") for name in manifest["members"])
    print(f"backup written to {target}: {rows} rows, {files} files")
    print("it holds the secret keys and every document: keep it as safe as the server")
    return 0


def cmd_restore(settings: Settings, args: argparse.Namespace) -> int:
    from server.backup import BackupError, restore, verify

    try:
        if args.check:
            manifest = verify(Path(args.file))
            print(f"{args.file} is whole: the backup of {manifest['created_at']}")
            return 0
        manifest = restore(settings, Path(args.file))
    except BackupError as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    print(f"restored the backup of {manifest['created_at']} into {settings.data_dir}")
    return 0


def cmd_journal_verify(settings: Settings, args: argparse.Namespace) -> int:
    import asyncio

    from server.journal_check import verify_all

    db.upgrade(settings.database_url)
    lines, holds = asyncio.run(verify_all(settings.database_url, args.meeting, args.record))
    for line in lines:
        print(line)
    return 0 if holds else 1


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="phonghop", description="Paperless meeting room server")
    commands = top.add_subparsers(dest="command", required=True)

    serve_p = commands.add_parser("serve", help="migrate the database and serve")
    serve_p.add_argument("--host")
    serve_p.add_argument("--port", type=int)
    serve_p.set_defaults(run=cmd_serve)

    demo_p = commands.add_parser("demo", help="seed the demo council, then serve")
    demo_p.add_argument("--host")
    demo_p.add_argument("--port", type=int)
    demo_p.add_argument("--seed-only", action="store_true", help="seed and exit")
    demo_p.set_defaults(run=cmd_demo)

    user_p = commands.add_parser("create-user", help="create one account")
    user_p.add_argument("username")
    user_p.add_argument("--role", required=True)
    user_p.add_argument("--name")
    user_p.add_argument(
        "--body", default="", help="the account's council (created if new; default: the only one)"
    )
    user_p.add_argument("--password-stdin", action="store_true")
    user_p.set_defaults(run=cmd_create_user)

    import_p = commands.add_parser(
        "import-users",
        help="import accounts from CSV (username,full_name,role[,password,title,body])",
    )
    import_p.add_argument("file")
    import_p.set_defaults(run=cmd_import_users)

    db_p = commands.add_parser("db", help="database maintenance")
    db_commands = db_p.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply migrations").set_defaults(run=cmd_db_upgrade)

    bridge_p = commands.add_parser(
        "bridge", help="run the video conferences in their own process, for the servers"
    )
    bridge_p.add_argument("--host")
    bridge_p.add_argument("--port", type=int, default=8100)
    bridge_p.set_defaults(run=cmd_bridge)

    recorder_p = commands.add_parser("recorder", help="record a meeting's conference program")
    recorder_p.add_argument("--meeting", type=int, required=True)
    recorder_p.add_argument("--server", help="the server's URL (default: this host's port)")
    recorder_p.add_argument("--minutes", type=int, help="expected length, for the space check")
    recorder_p.set_defaults(run=cmd_recorder)

    rec_p = commands.add_parser("recordings", help="recordings kept on disk")
    rec_commands = rec_p.add_subparsers(dest="recordings_command", required=True)
    prune_p = rec_commands.add_parser("prune", help="remove recordings past the retention")
    prune_p.add_argument("--dry-run", action="store_true", help="only say what would go")
    prune_p.set_defaults(run=cmd_recordings_prune)

    journal_p = commands.add_parser("journal", help="the meetings' tamper-evident journal")
    journal_commands = journal_p.add_subparsers(dest="journal_command", required=True)
    verify_p = journal_commands.add_parser(
        "verify",
        help="check each meeting's hash chain (or one), its secret votes' counts and, with "
        "--record, that a frozen document's journal head still matches; exit 1 if anything fails",
    )
    verify_p.add_argument("meeting", nargs="?", type=int, help="the meeting's id (default: all)")
    verify_p.add_argument(
        "--record",
        metavar="KIND:VERSION",
        help="a frozen version of the meeting, e.g. minutes:1 or notice:2",
    )
    verify_p.set_defaults(run=cmd_journal_verify)

    backup_p = commands.add_parser(
        "backup", help="write the database, documents, recordings and keys to one archive"
    )
    backup_p.add_argument("file", help="the archive to write, e.g. phonghop-2026-12-01.tar")
    backup_p.set_defaults(run=cmd_backup)

    restore_p = commands.add_parser(
        "restore", help="fill an empty data dir and empty database from a backup archive"
    )
    restore_p.add_argument("file")
    restore_p.add_argument(
        "--check", action="store_true", help="only check the archive's checksums, change nothing"
    )
    restore_p.set_defaults(run=cmd_restore)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = Settings.from_env(getattr(args, "host", None), getattr(args, "port", None))
    logs.configure(settings.log_level)
    return args.run(settings, args)


if __name__ == "__main__":
    sys.exit(main())
