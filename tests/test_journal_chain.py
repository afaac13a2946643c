"""A journal nobody can quietly change: each event carries the hash of the one before it (per
meeting); `phonghop journal verify` and the meeting's page say whether the chain holds and
where it breaks; a frozen document names the head it was made from; a secret vote's box holds
as many ballots as voters who cast, with nothing linking one to the other."""

from __future__ import annotations

import asyncio
import secrets
import subprocess
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pymupdf
import pytest
import sqlalchemy as sa
from alembic import command
from sqlmodel import Session, select

from server import chain, db, journal
from server.models import (
    Ballot,
    BallotCast,
    BallotCount,
    JournalEvent,
    Meeting,
    RecordVersion,
    User,
)
from tests.conftest import POSTGRES_URL, have, listening, need, throwaway_postgres
from tests.test_cli import phonghop
from tests.test_record import conclude, freeze, make_council, pdf_text, run_session
from tests.test_votes import add_delegates, device, http, new_vote


def meeting(database: Session, body_id: int, title: str) -> int:
    row = Meeting(body_id=body_id, title=title, starts_at=datetime(2026, 12, 15, tzinfo=UTC))
    database.add(row)
    database.commit()
    assert row.id is not None
    return row.id


async def append_many(url: str, plan: list[tuple[int, int]]) -> None:
    """Appends events: per step (meeting, how many in one transaction)."""
    engine = db.make_engine(url)
    sessions = db.session_maker(engine)
    try:
        for n, (mid, together) in enumerate(plan):
            async with sessions() as session:
                for k in range(together):
                    payload = {"n": n, "k": k, "text": "Tán thành ✓", "at": datetime.now(UTC)}
                    await journal.append(session, mid, "note.added", payload, None)
                await session.commit()
    finally:
        await engine.dispose()


def verify(settings, *args: str) -> subprocess.CompletedProcess:  # type: ignore[no-untyped-def]
    return phonghop(settings, "journal", "verify", *args)


def events(database: Session, mid: int) -> list[JournalEvent]:
    database.rollback()
    query = select(JournalEvent).where(JournalEvent.meeting_id == mid).order_by(JournalEvent.seq)
    return list(database.exec(query).all())


@pytest.fixture
def two_meetings(settings, accounts, database):
    body = accounts.body()
    first = meeting(database, body.id, "Kỳ họp thứ nhất")
    second = meeting(database, body.id, "Kỳ họp thứ hai")
    plan = [(first if n % 3 else second, 1 + n % 2) for n in range(40)]
    asyncio.run(append_many(settings.database_url, plan))
    return first, second


def test_a_chain_across_many_events_and_two_meetings_holds(settings, database, two_meetings):
    first, second = two_meetings
    for mid in (first, second):
        rows = events(database, mid)
        assert [e.seq for e in rows] == list(range(1, len(rows) + 1))
        previous = ""
        for event in rows:  # each hash is the documented function of the one before
            assert event.hash == chain.event_hash(
                previous,
                mid,
                event.seq,
                event.type,
                event.payload,
                event.actor_id,
                event.private_to,
                event.at,
            )
            previous = event.hash
    done = verify(settings)
    assert done.returncode == 0, done.stdout + done.stderr
    head = events(database, first)[-1]
    assert (
        f"phiên họp {first} «Kỳ họp thứ nhất»: chuỗi nhật ký nguyên vẹn: "
        f"{head.seq} sự kiện, đầu chuỗi {head.hash[:16]}"
    ) in done.stdout
    assert f"phiên họp {second} «Kỳ họp thứ hai»: chuỗi nhật ký nguyên vẹn" in done.stdout
    one = verify(settings, str(second))
    assert one.returncode == 0 and f"phiên họp {first}" not in one.stdout


def test_a_payload_changed_in_the_database_is_reported_at_its_seq(settings, database, two_meetings):
    first, second = two_meetings
    target = events(database, first)[6]
    database.execute(
        sa.text("UPDATE journalevent SET payload = :p WHERE id = :id"),
        {"p": '{"n": 999, "text": "Không tán thành"}', "id": target.id},
    )
    database.commit()
    done = verify(settings)
    assert done.returncode == 1
    assert (
        f"phiên họp {first} «Kỳ họp thứ nhất»: CHUỖI NHẬT KÝ BỊ PHÁ VỠ tại sự kiện "
        f"#{target.seq}: dòng đã bị sửa"
    ) in done.stdout
    assert f"phiên họp {second} «Kỳ họp thứ hai»: chuỗi nhật ký nguyên vẹn" in done.stdout
    assert verify(settings, str(second)).returncode == 0


def test_a_deleted_row_is_reported_as_the_missing_seq(settings, database, two_meetings):
    first, _ = two_meetings
    target = events(database, first)[9]
    database.execute(sa.text("DELETE FROM journalevent WHERE id = :id"), {"id": target.id})
    database.commit()
    done = verify(settings, str(first))
    assert done.returncode == 1
    assert f"tại sự kiện #{target.seq}: thiếu sự kiện" in done.stdout
    last = events(database, first)[-1]  # the tail cut off is missing too
    database.execute(sa.text("DELETE FROM journalevent WHERE id = :id"), {"id": last.id})
    database.commit()
    assert f"tại sự kiện #{target.seq}:" in verify(settings, str(first)).stdout


def test_a_cut_tail_is_reported(settings, database, two_meetings):
    first, _ = two_meetings
    last = events(database, first)[-1]
    database.execute(sa.text("DELETE FROM journalevent WHERE id = :id"), {"id": last.id})
    database.commit()
    done = verify(settings, str(first))
    assert done.returncode == 1
    assert f"tại sự kiện #{last.seq}: thiếu sự kiện" in done.stdout


@pytest.mark.parametrize("apart", [1, 3])
def test_two_rows_with_their_seq_swapped_are_reported_as_reordered(
    settings, database, two_meetings, apart
):
    first, _ = two_meetings
    rows = events(database, first)
    a, b = rows[4], rows[4 + apart]
    for row_id, seq in ((a.id, -1), (b.id, a.seq), (a.id, b.seq)):
        database.execute(
            sa.text("UPDATE journalevent SET seq = :s WHERE id = :id"), {"s": seq, "id": row_id}
        )
    database.commit()
    done = verify(settings, str(first))
    assert done.returncode == 1
    assert (
        f"tại sự kiện #{a.seq}: thứ tự bị đảo (event #{a.seq} holds what was event #{b.seq})"
    ) in done.stdout


def test_an_unknown_meeting_fails(settings, database):
    done = verify(settings, "4242")
    assert done.returncode == 1 and "không có phiên họp 4242" in done.stdout


# ---------------------------------------------------------------------------
# Writers at once keep one chain


async def append_at_once(url: str, mid: int, writers: int, each: int) -> None:
    engine = db.make_engine(url)
    sessions = db.session_maker(engine)

    async def writer(w: int) -> None:
        for n in range(each):
            for attempt in range(50):
                try:
                    async with sessions() as session:
                        await journal.append(session, mid, "note.added", {"w": w, "n": n}, None)
                        await journal.append(session, mid, "note.seen", {"w": w, "n": n}, None)
                        await session.commit()
                    break
                except sa.exc.OperationalError:  # SQLite busy past its timeout: try again
                    if attempt == 49:
                        raise

    try:
        await asyncio.gather(*(writer(w) for w in range(writers)))
        async with sessions() as session:
            verdict = await journal.verify_meeting(session, mid)
        assert verdict.holds, verdict.broken
        assert verdict.events == writers * each * 2
    finally:
        await engine.dispose()


def test_appends_at_once_on_sqlite_keep_the_chain(settings, accounts, database):
    mid = meeting(database, accounts.body().id, "Kỳ họp")
    asyncio.run(append_at_once(settings.database_url, mid, writers=8, each=10))
    assert verify(settings, str(mid)).returncode == 0


@pytest.mark.postgres
def test_appends_at_once_on_postgresql_keep_the_chain(settings):
    with throwaway_postgres("phonghop_chain") as url:
        db.upgrade(url)
        engine = db.make_sync_engine(url)
        with Session(engine, expire_on_commit=False) as database:
            from tests.conftest import Accounts

            accounts = Accounts(database, replace(settings, database_url=url))
            mid = meeting(database, accounts.body().id, "Kỳ họp")
            accounts.passwords.close()
        engine.dispose()
        asyncio.run(append_at_once(url, mid, writers=16, each=10))


# ---------------------------------------------------------------------------
# The migration chains the events kept before it


def _old_rows(connection: sa.Connection) -> int:
    connection.execute(
        sa.text(
            "INSERT INTO body (name, kind, place, term) "
            "VALUES ('HĐND phường', 'hdnd', 'Hà Nội', '')"
        )
    )
    body_id = connection.execute(sa.text("SELECT max(id) FROM body")).scalar_one()
    for title in ("A", "B"):
        connection.execute(
            sa.text(
                "INSERT INTO meeting (body_id, title, description, starts_at, place, status, "
                "last_seq, created_at, updated_at) "
                "VALUES (:b, :t, '', :at, '', 'closed', 5, :at, :at)"
            ),
            {"b": body_id, "t": title, "at": datetime(2026, 12, 15, tzinfo=UTC)},
        )
    ids = [row[0] for row in connection.execute(sa.text("SELECT id FROM meeting ORDER BY id"))]
    for mid in ids:
        for seq in (3, 1, 5, 2, 4):  # stored out of order: hashed in seq order all the same
            connection.execute(
                sa.text(
                    "INSERT INTO journalevent (meeting_id, seq, type, payload, actor_id, "
                    "private_to, at) VALUES (:m, :s, 'note', :p, NULL, NULL, :at)"
                ),
                {
                    "m": mid,
                    "s": seq,
                    "p": f'{{"seq": {seq}, "text": "Biểu quyết"}}',
                    "at": datetime(2026, 12, 15, 8, seq, 0, 123456, tzinfo=UTC),
                },
            )
    connection.execute(
        sa.text(
            "INSERT INTO recordversion (meeting_id, kind, version, content, sha256, pdf_sha256, "
            "journal_seq, frozen_at) VALUES (:m, 'minutes', 1, '{}', '', '', 4, :at)"
        ),
        {"m": ids[0], "at": datetime(2026, 12, 16, tzinfo=UTC)},
    )
    return ids[0]


def _migrate_old_rows(url: str) -> None:
    config = db.alembic_config(url)
    command.upgrade(config, "0007")
    engine = db.make_sync_engine(url)
    with engine.begin() as connection:
        first = _old_rows(connection)
    command.upgrade(config, "0008")
    with Session(engine) as session:
        rows = list(
            session.exec(
                select(JournalEvent).order_by(JournalEvent.meeting_id, JournalEvent.seq)
            ).all()
        )
        assert len(rows) == 10
        verdicts = {}
        for mid in {r.meeting_id for r in rows}:
            mine = [
                chain.Row(
                    r.meeting_id, r.seq, r.type, r.payload, r.actor_id, r.private_to, r.at, r.hash
                )
                for r in rows
                if r.meeting_id == mid
            ]
            verdicts[mid] = chain.verify(mid, mine, 5)
        assert all(v.holds and v.events == 5 for v in verdicts.values()), verdicts
        version = session.exec(select(RecordVersion)).one()
        fourth = next(r for r in rows if r.meeting_id == first and r.seq == 4)
        assert version.journal_hash == fourth.hash != ""
    engine.dispose()
    command.upgrade(config, "head")


def test_the_migration_hashes_the_events_kept_before_it_on_sqlite(settings):
    _migrate_old_rows(settings.database_url)


@pytest.mark.postgres
def test_the_migration_hashes_the_events_kept_before_it_on_postgresql():
    need(listening(POSTGRES_URL), "PostgreSQL is not running on 127.0.0.1:5432")
    with throwaway_postgres(f"phonghop_mig{secrets.token_hex(2)}") as url:
        _migrate_old_rows(url)


# ---------------------------------------------------------------------------
# The record carries the head; the meeting's page says whether the chain holds


def render(pdf: bytes, stem: Path) -> list[Path]:
    """The PDF's pages as PNG, as pdftoppm draws them (to look at by eye)."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    source = stem.with_suffix(".pdf")
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "70", str(source), str(stem)], check=True)
    return sorted(stem.parent.glob(f"{stem.name}-*.png"))


async def test_the_frozen_minutes_and_notice_print_the_head_they_were_made_from(
    client, accounts, database, new_client, settings, tmp_path
):
    council = await make_council(client, accounts, database, new_client)
    mid = council["id"]
    await run_session(client, mid)
    await conclude(council)
    assert (await freeze(client, mid)).status_code == 201
    assert (await freeze(client, mid, "notice")).status_code == 201
    database.rollback()
    versions = {
        v.kind: v
        for v in database.exec(select(RecordVersion).where(RecordVersion.meeting_id == mid))
    }
    minutes = versions["minutes"]
    rows = events(database, mid)
    made_from = next(e for e in rows if e.seq == minutes.journal_seq)
    assert minutes.journal_hash == made_from.hash and len(made_from.hash) == 64
    line = f"Lập từ nhật ký phiên họp: sự kiện #{minutes.journal_seq}, mã {made_from.hash[:16]}"
    pdf = await client.get(f"/api/meetings/{mid}/minutes/versions/1.pdf")
    assert line in pdf_text(pdf.content)
    notice = versions["notice"]
    notice_pdf = await client.get(f"/api/meetings/{mid}/notice/versions/1.pdf")
    assert f"sự kiện #{notice.journal_seq}, mã {notice.journal_hash[:16]}" in pdf_text(
        notice_pdf.content
    )
    draft = await client.get(f"/api/meetings/{mid}/minutes.pdf")  # a draft names no head
    assert "Lập từ nhật ký" not in pdf_text(draft.content)
    if have("pdftoppm"):  # the line is drawn on the last page, not only in the text
        pages = await asyncio.to_thread(render, pdf.content, tmp_path / "minutes")
        assert pages and all(page.stat().st_size > 0 for page in pages)

    checked = verify(settings, str(mid), "--record", "minutes:1")
    assert checked.returncode == 0, checked.stdout
    assert (
        f"biên bản bản 1: lập từ sự kiện #{minutes.journal_seq}, mã {made_from.hash[:16]}; "
        "khớp chuỗi nhật ký"
    ) in checked.stdout
    with pymupdf.open(stream=pdf.content) as opened:
        assert opened.page_count >= 1

    # an event before the head is rewritten, hash and all: the document no longer matches
    first = rows[0]
    forged = chain.event_hash("", mid, 1, first.type, {"forged": True}, None, None, first.at)
    database.execute(
        sa.text("UPDATE journalevent SET payload = :p, actor_id = NULL, hash = :h WHERE id = :id"),
        {"p": '{"forged": true}', "h": forged, "id": first.id},
    )
    database.commit()
    broken = verify(settings, str(mid), "--record", "minutes:1")
    assert broken.returncode == 1
    assert "tại sự kiện #2: dòng đã bị sửa" in broken.stdout  # #2 chained to the old #1
    assert "biên bản bản 1" in broken.stdout and "khớp chuỗi" not in broken.stdout

    page = await client.get(f"/meetings/{mid}")
    assert 'class="journal-chain broken"' in page.text and 'data-seq="2"' in page.text
    assert "Nhật ký đã bị sửa đổi: chuỗi bị phá vỡ tại sự kiện #2" in page.text
    hidden = await council["delegate"].get(f"/meetings/{mid}")
    assert hidden.status_code == 200 and 'class="journal-chain' not in hidden.text


async def test_the_meeting_page_says_the_chain_holds_to_those_who_run_it(
    client, accounts, database, new_client
):
    council = await make_council(client, accounts, database, new_client)
    mid = council["id"]
    await run_session(client, mid)
    head = events(database, mid)[-1]
    page = await client.get(f"/meetings/{mid}")
    assert (
        f"✓ Chuỗi nhật ký nguyên vẹn: {head.seq} sự kiện, đầu chuỗi <code>{head.hash[:16]}</code>"
    ) in page.text
    assert 'class="journal-chain' not in (await council["delegate"].get(f"/meetings/{mid}")).text


# ---------------------------------------------------------------------------
# Votes: the count of secret ballots equals the voters who cast, and nothing links them


async def test_a_secret_vote_holds_as_many_ballots_as_voters_and_no_link(
    served, accounts, database, settings
):
    body = accounts.body()
    mid = meeting(database, body.id, "Kỳ họp")
    accounts.join(accounts.user("chutoa"), mid, "chair")
    add_delegates(accounts, mid, 7)
    chair = await device(served, "chutoa", mid)
    vote_id = await new_vote(chair, mid, secret=True)
    tablets = [await device(served, f"db{n:03d}", mid) for n in range(1, 7)]
    choices = ["yes", "no", "yes", "abstain", "yes", "no"]
    await asyncio.gather(
        *(
            t.request("vote.cast", vote_id=vote_id, option=c)
            for t, c in zip(tablets, choices, strict=True)
        )
    )
    closed = (await http(chair, "POST", f"/api/votes/{vote_id}/close")).json()
    result = closed["result"]
    assert result["ballots"] == result["voters"] == 6 and "named" not in result
    database.expire_all()
    assert database.get(BallotCount, vote_id).ballots == 6
    # no shared id, no voter, no time, no order: the ballots are per-option totals
    assert set(Ballot.model_fields) == {"id", "vote_id", "option_id", "weight", "voter_id"}
    totals = database.exec(select(Ballot).where(Ballot.vote_id == vote_id)).all()
    assert len(totals) == 3 and all(b.voter_id is None for b in totals)
    assert set(BallotCount.model_fields) == {"vote_id", "ballots"}
    assert set(BallotCast.model_fields) == {"id", "vote_id", "voter_id", "weight"}
    done = verify(settings, str(mid))
    assert done.returncode == 0, done.stdout
    assert "bỏ phiếu kín «Thông qua Nghị quyết dự toán ngân sách 2027»: 6 phiếu = 6 người" in (
        done.stdout
    )
    # a ballot slipped into the box afterwards is caught
    database.execute(
        sa.text("UPDATE ballotcount SET ballots = 7 WHERE vote_id = :v"), {"v": vote_id}
    )
    database.commit()
    bad = verify(settings, str(mid))
    assert bad.returncode == 1 and "CẢNH BÁO: bỏ phiếu kín" in bad.stdout
    assert "7 phiếu ≠ 6 người đã bỏ phiếu" in bad.stdout
    for tablet in (chair, *tablets):
        await tablet.close()


async def test_a_named_vote_gives_each_voter_their_recorded_choice(served, accounts, database):
    body = accounts.body()
    mid = meeting(database, body.id, "Kỳ họp")
    accounts.join(accounts.user("chutoa"), mid, "chair")
    add_delegates(accounts, mid, 3)
    chair = await device(served, "chutoa", mid)
    vote_id = await new_vote(chair, mid)
    tablets = [await device(served, f"db{n:03d}", mid) for n in range(1, 4)]
    for tablet, choice in zip(tablets, ("yes", "no", "abstain"), strict=True):
        await tablet.request("vote.cast", vote_id=vote_id, option=choice)
    await http(chair, "POST", f"/api/votes/{vote_id}/close")
    seen = (await http(tablets[1], "GET", f"/api/votes/{vote_id}")).json()
    database.rollback()
    me = database.exec(select(User).where(User.username == "db002")).one()
    mine = [p for p in seen["result"]["named"] if p["user_id"] == me.id]
    assert mine and mine[0]["choices"] == ["no"]  # vote-result.js says it to them first
    for tablet in (chair, *tablets):
        await tablet.close()
