"""A commune's first day: the first administrator, the only council every account and meeting
goes to, the first meeting naming its council, Vietnamese whatever the browser says."""

from __future__ import annotations

import logging

import pytest
from sqlmodel import select

from server.cli import say_how_to_begin
from server.models import AdminChange, Body, Meeting, User
from tests.test_cli import phonghop, users

HX = {"HX-Request": "true"}
FIRST = {"title": "Kỳ họp thứ nhất", "starts_at": "2027-01-10T08:00", "place": "Hội trường xã"}


def bodies(database) -> list[Body]:
    database.expire_all()
    return list(database.exec(select(Body)).all())


def meetings(database) -> list[Meeting]:
    database.expire_all()
    return list(database.exec(select(Meeting)).all())


def changes(database) -> list[str]:
    database.expire_all()
    return [c.action for c in database.exec(select(AdminChange).order_by(AdminChange.id)).all()]


# ---------- the command line


def test_create_user_refuses_a_bad_council_name_and_makes_nothing(settings, database):
    for bad in ("   ", "x" * 201, "HĐND\nxã"):
        done = phonghop(
            settings, "create-user", "admin", "--role", "admin", "--body", bad,
            "--password-stdin", stdin="mat-khau-dai\n",
        )  # fmt: skip
        assert done.returncode == 1 and "council" in done.stderr, (bad, done.stderr)
    assert users(settings) == [] and bodies(database) == []


def test_the_second_account_joins_the_only_council(settings, database):
    first = phonghop(
        settings, "create-user", "admin", "--role", "admin", "--body", " HĐND xã Hòa Bình ",
        "--password-stdin", stdin="mat-khau-dai\n",
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    assert "HĐND xã Hòa Bình" in first.stdout
    second = phonghop(
        settings, "create-user", "thuky", "--role", "secretary", "--password-stdin",
        stdin="mat-khau-dai\n",
    )  # fmt: skip
    assert second.returncode == 0, second.stderr
    [council] = bodies(database)
    assert council.name == "HĐND xã Hòa Bình"
    assert [(u.username, u.body_id) for u in users(settings)] == [
        ("admin", council.id),
        ("thuky", council.id),
    ]
    assert changes(database) == ["body.create", "user.create", "user.create"]


def test_without_a_password_on_stdin_or_a_terminal_nothing_is_made(settings, database):
    done = phonghop(settings, "create-user", "admin", "--role", "admin")
    assert done.returncode == 2 and "--password-stdin" in done.stderr
    assert users(settings) == []


def test_serve_on_an_empty_install_logs_how_to_make_the_first_admin(
    settings, database, accounts, caplog
):
    with caplog.at_level(logging.WARNING, logger="phonghop.cli"):
        say_how_to_begin(settings)
    assert "phonghop create-user admin --role admin" in caplog.text
    caplog.clear()
    accounts.user("admin", "admin")
    with caplog.at_level(logging.WARNING, logger="phonghop.cli"):
        say_how_to_begin(settings)
    assert "create-user" not in caplog.text


# ---------- the login page


async def test_login_page_says_how_to_make_the_first_admin_until_there_is_one(client, accounts):
    page = await client.get("/login")
    assert "phonghop create-user admin --role admin" in page.text
    assert "Chưa có tài khoản nào" in page.text
    accounts.user("admin", "admin")
    page = await client.get("/login")
    assert "create-user" not in page.text


# ---------- the first meeting names the first council


@pytest.fixture
async def admin(client, accounts):
    made = accounts.user("admin", "admin")
    await client.login("admin")
    return made


async def test_first_meeting_form_asks_for_the_council(client, admin):
    page = await client.get("/meetings")
    assert 'name="council_name"' in page.text and 'name="council_kind"' in page.text
    assert "Hội đồng nhân dân (HĐND)" in page.text and "Ủy ban nhân dân (UBND)" in page.text


@pytest.mark.parametrize(
    ("council", "code"),
    [({"council_name": "   "}, "no_council_name"),
     ({"council_name": "x" * 201}, "council_name_long"),
     ({"council_name": "HĐND xã Hòa Bình", "council_kind": "king"}, "bad_body_kind")],
)  # fmt: skip
async def test_a_bad_council_is_refused_and_nothing_is_made(client, admin, database, council, code):
    response = await client.post("/meetings", data={**FIRST, **council}, headers=HX)
    assert response.status_code == 400 and f'data-code="{code}"' in response.text
    assert bodies(database) == [] and meetings(database) == []


async def test_a_bad_meeting_makes_no_council_either(client, admin, database):
    form = {**FIRST, "title": " ", "council_name": "HĐND xã Hòa Bình", "council_kind": "hdnd"}
    response = await client.post("/meetings", data=form, headers=HX)
    assert response.status_code == 400
    assert bodies(database) == [] and meetings(database) == []


async def test_admin_makes_the_first_meeting_and_its_council(client, admin, accounts, database):
    secretary = accounts.user("thuky", "secretary")
    form = {**FIRST, "council_name": " HĐND  xã Hòa Bình ", "council_kind": "hdnd"}
    response = await client.post("/meetings", data=form, headers=HX)
    assert response.status_code in (200, 201), response.text
    [council] = bodies(database)
    assert (council.name, council.kind) == ("HĐND xã Hòa Bình", "hdnd")
    [meeting] = meetings(database)
    assert meeting.body_id == council.id
    assert response.headers["HX-Redirect"] == f"/meetings/{meeting.id}/edit"
    database.refresh(secretary)
    assert secretary.body_id == council.id  # every account without a council joins it
    assert changes(database) == ["body.create", "user.council", "user.council"]
    again = await client.post("/meetings", data=form, headers=HX)
    assert again.status_code == 409 and len(bodies(database)) == 1


async def test_a_secretary_on_a_fresh_install_makes_the_first_meeting(client, accounts, database):
    accounts.user("thuky", "secretary")
    await client.login("thuky")
    page = await client.get("/meetings")
    assert 'name="council_name"' in page.text
    form = {**FIRST, "council_name": "UBND xã Hòa Bình", "council_kind": "ubnd"}
    response = await client.post("/meetings", data=form, headers=HX)
    assert response.status_code in (200, 201), response.text
    editor = await client.get(response.headers["HX-Redirect"])
    assert editor.status_code == 200 and "Kỳ họp thứ nhất" in editor.text
    second = await client.post("/meetings", data={**FIRST, "title": "Kỳ họp 2"}, headers=HX)
    assert second.status_code in (200, 201)  # the only council, without choosing it
    assert {m.body_id for m in meetings(database)} == {bodies(database)[0].id}


async def test_a_delegate_cannot_name_the_first_council(client, accounts, database):
    accounts.user("daibieu01")
    await client.login("daibieu01")
    page = await client.get("/meetings")
    assert "council_name" not in page.text
    form = {**FIRST, "council_name": "HĐND xã Hòa Bình", "council_kind": "hdnd"}
    response = await client.post("/meetings", data=form, headers=HX)
    assert response.status_code == 403
    assert bodies(database) == [] and meetings(database) == []


async def test_a_secretary_of_a_council_cannot_name_another_first_council(client, accounts):
    from server.access import founds_first_council

    assert not founds_first_council(User(username="x", role="secretary", body_id=3))
    assert founds_first_council(User(username="x", role="secretary"))
    assert founds_first_council(User(username="x", role="admin", body_id=3))


# ---------- Vietnamese first, English plurals


async def test_minutes_per_item_are_shown_with_the_right_plural(client, accounts):
    accounts.user("thuky", "secretary", accounts.body())
    await client.login("thuky")
    created = await client.post(
        "/api/meetings", json={"title": "K", "starts_at": "2026-12-20T08:00:00+07:00"}
    )
    mid = created.json()["id"]
    for title, minutes in (("Khai mạc", "1"), ("Tờ trình", "25")):
        form = {"title": title, "duration_minutes": minutes}
        await client.post(f"/meetings/{mid}/items", data=form, headers=HX)
    editor = await client.get(f"/meetings/{mid}/edit", headers={"Accept-Language": "en"})
    assert (
        "1 phút" in editor.text and "25 phút" in editor.text and "Tổng cộng 26 phút" in editor.text
    )
    assert "Thụt vào" in editor.text and "Xuống" in editor.text
    client.raw.cookies.set("lang", "en")
    editor = await client.get(f"/meetings/{mid}/edit")
    assert "1 minute<" in editor.text and "25 minutes" in editor.text
    assert "In all 26 minutes" in editor.text and "Indent" in editor.text


def test_csv_rows_without_a_council_join_the_only_one(settings, database, accounts, tmp_path):
    from server.passwords import Passwords
    from server.users import import_users

    council = accounts.body("HĐND xã Hòa Bình")
    sheet = tmp_path / "hoa-binh.csv"
    sheet.write_text(
        "username,full_name,role,password\ndaibieu01,Lê Văn Một,delegate,mat-khau-dai\n",
        encoding="utf-8",
    )
    passwords = Passwords(settings)
    try:
        import_users(database, passwords, sheet)
    finally:
        passwords.close()
    [delegate] = [u for u in users(settings) if u.username == "daibieu01"]
    assert delegate.body_id == council.id
