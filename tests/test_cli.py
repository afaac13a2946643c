"""The IT officer's command line: accounts one by one, a council from CSV, the demo seed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlmodel import Session, select

from server import db
from server.models import AgendaItem, Document, Member, Participant, User


def phonghop(settings, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PHONGHOP_DATA_DIR": str(settings.data_dir),
        "PHONGHOP_LOG_LEVEL": "WARNING",
    }
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def users(settings) -> list[User]:
    engine = db.make_sync_engine(settings.database_url)
    with Session(engine) as session:
        found = list(session.exec(select(User).order_by(User.username)).all())
    engine.dispose()
    return found


def test_create_user_reads_the_password_from_stdin(settings):
    done = phonghop(
        settings,
        "create-user",
        "ThuKy",
        "--role",
        "secretary",
        "--name",
        "Nguyễn Thị Hồng",
        "--password-stdin",
        stdin="mat-khau-dai\n",
    )
    assert done.returncode == 0, done.stderr
    [user] = users(settings)
    assert (user.username, user.full_name, user.role) == ("thuky", "Nguyễn Thị Hồng", "secretary")
    assert user.password_hash.startswith("$argon2id$")
    again = phonghop(
        settings,
        "create-user",
        "thuky",
        "--role",
        "secretary",
        "--password-stdin",
        stdin="mat-khau-dai\n",
    )
    assert again.returncode == 1
    assert "already exists" in again.stderr


def test_create_user_refuses_a_bad_role_or_short_password(settings):
    bad_role = phonghop(
        settings, "create-user", "a1", "--role", "king", "--password-stdin", stdin="mat-khau-dai\n"
    )
    assert bad_role.returncode == 1 and "role" in bad_role.stderr
    short = phonghop(
        settings, "create-user", "a2", "--role", "delegate", "--password-stdin", stdin="ngan\n"
    )
    assert short.returncode == 1 and "8 characters" in short.stderr
    assert users(settings) == []


def test_import_users_takes_a_whole_council(settings, tmp_path: Path):
    csv_file = tmp_path / "daibieu.csv"
    csv_file.write_text(
        "username,full_name,role,password,title,body\n"
        "daibieu01,Trần Văn An,delegate,mat-khau-01,Đại biểu,HĐND phường Ba Đình\n"
        "daibieu02,Lê Thị Bình,delegate,,Đại biểu,HĐND phường Ba Đình\n"
        "diemcau1,Điểm cầu Tổ 1,ward,mat-khau-03,,\n",
        encoding="utf-8",
    )
    done = phonghop(settings, "import-users", str(csv_file))
    assert done.returncode == 0, done.stderr
    assert "imported 3 accounts" in done.stdout
    assert "daibieu02," in done.stdout  # the generated password is shown once
    made = users(settings)
    assert [u.username for u in made] == ["daibieu01", "daibieu02", "diemcau1"]
    assert made[0].body_id is not None and made[0].body_id == made[1].body_id


def test_bad_csv_rows_are_reported_by_line_and_nothing_is_imported(settings, tmp_path: Path):
    csv_file = tmp_path / "sai.csv"
    csv_file.write_text(
        "username,full_name,role,password\n"
        "daibieu01,Trần Văn An,delegate,mat-khau-01\n"
        "Dai Bieu,Tên có dấu cách,delegate,mat-khau-02\n"
        "daibieu03,Ngô Văn C,president,mat-khau-03\n"
        "daibieu01,Trùng tên,delegate,mat-khau-04\n"
        "daibieu05,,delegate,mat-khau-05\n"
        "daibieu06,Mật khẩu ngắn,delegate,ngan\n",
        encoding="utf-8",
    )
    done = phonghop(settings, "import-users", str(csv_file))
    assert done.returncode == 1
    for line in (3, 4, 5, 6, 7):
        assert f"line {line}:" in done.stderr
    assert "line 2:" not in done.stderr
    assert "nothing imported" in done.stderr
    assert users(settings) == []


def test_import_refuses_a_file_without_the_needed_columns(settings, tmp_path: Path):
    csv_file = tmp_path / "cot.csv"
    csv_file.write_text("name,role\nAn,delegate\n", encoding="utf-8")
    done = phonghop(settings, "import-users", str(csv_file))
    assert done.returncode == 1
    assert "missing column" in done.stderr


def test_demo_seed_is_complete_and_idempotent(settings):
    first = phonghop(settings, "demo", "--seed-only")
    assert first.returncode == 0, first.stderr
    assert "thuky" in first.stdout and "demo2026" in first.stdout
    second = phonghop(settings, "demo", "--seed-only")
    assert second.returncode == 0, second.stderr
    engine = db.make_sync_engine(settings.database_url)
    with Session(engine) as session:
        roles = [p.role for p in session.exec(select(Participant)).all()]
        items = session.exec(select(AgendaItem)).all()
        documents = session.exec(select(Document)).all()
        roster = session.exec(select(Member)).all()
    engine.dispose()
    assert roles.count("delegate") == 20
    assert len(roster) == 21  # the chair and the delegates, in two groups
    assert {m.group for m in roster} == {"Tổ đại biểu số 1", "Tổ đại biểu số 2"}
    assert roles.count("ward_point") == 3
    assert roles.count("chair") == 1 and roles.count("secretary") == 1
    top_level = [i for i in items if i.parent_id is None]
    assert 6 <= len(top_level) <= 10
    assert any(i.parent_id is not None for i in items)
    assert len(documents) >= 6
    for document in documents:
        blob = settings.blobs_dir / document.sha256[:2] / f"{document.sha256}.pdf"
        assert blob.read_bytes().startswith(b"%PDF")
        assert document.page_count >= 2
