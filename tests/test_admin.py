"""Administration: accounts, councils, rosters, CSV imports, reset links and the audit list;
every bad input refused with nothing changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
import websockets
from sqlmodel import Session, select

from server.models import AdminChange, Member, PasswordReset, User
from tests.conftest import PASSWORD
from tests.live import Tablet


@pytest.fixture
async def admin(accounts, client):  # type: ignore[no-untyped-def]
    accounts.user("quantri", "admin")
    await client.login("quantri")
    return client


def changes(database: Session) -> list[AdminChange]:
    database.rollback()  # a new read transaction: see what the server committed
    database.expire_all()
    return list(database.exec(select(AdminChange).order_by(AdminChange.id)).all())


def account(database: Session, username: str) -> User | None:
    database.rollback()  # a new read transaction: see what the server committed
    database.expire_all()
    return database.exec(select(User).where(User.username == username)).first()


async def test_admin_creates_an_account_and_the_change_is_listed(admin, database):
    made = await admin.post(
        "/api/admin/accounts",
        json={"username": "daibieu07", "full_name": "Lê Văn Bảy", "role": "delegate"},
    )
    assert made.status_code == 201, made.text
    assert len(made.json()["password"]) >= 8  # generated, shown once
    user = account(database, "daibieu07")
    assert user is not None and user.must_change_password
    assert [c.action for c in changes(database)] == ["user.create"]
    listed = await admin.get("/api/admin/changes")
    assert listed.json()["changes"][0]["actor_name"] == "quantri"


async def test_duplicate_username_is_refused(admin, accounts, database):
    accounts.user("daibieu01")
    again = await admin.post(
        "/api/admin/accounts",
        json={"username": "DaiBieu01", "full_name": "Trùng", "role": "delegate"},
    )
    assert again.status_code == 409
    assert again.json()["code"] == "username_taken"
    assert changes(database) == []


async def test_the_last_active_admin_cannot_be_demoted_or_deactivated(admin, database):
    me = account(database, "quantri")
    demoted = await admin.patch(f"/api/admin/accounts/{me.id}", json={"role": "delegate"})
    assert demoted.status_code == 409 and demoted.json()["code"] == "last_admin"
    stopped = await admin.patch(f"/api/admin/accounts/{me.id}", json={"active": False})
    assert stopped.status_code == 409 and stopped.json()["code"] == "last_admin"
    me = account(database, "quantri")
    assert me.role == "admin" and me.active
    assert changes(database) == []


async def test_a_second_admin_may_be_deactivated(admin, accounts, database):
    other = accounts.user("quantri2", "admin")
    done = await admin.patch(f"/api/admin/accounts/{other.id}", json={"active": False})
    assert done.status_code == 200, done.text
    assert not account(database, "quantri2").active
    assert [c.action for c in changes(database)] == ["user.deactivate"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/admin/accounts"),
        ("GET", "/admin/changes"),
        ("GET", "/admin/import"),
        ("GET", "/api/admin/accounts"),
        ("GET", "/api/admin/changes"),
        ("POST", "/api/admin/accounts"),
        ("POST", "/api/admin/councils"),
    ],
)
async def test_a_non_admin_is_refused_admin_pages_and_api(accounts, client, method, path):
    accounts.user("thuky", "secretary", accounts.body())
    await client.login("thuky")
    answer = await client.request(method, path, json={})
    assert answer.status_code == 403


async def test_a_secretary_keeps_the_roster_of_their_own_council_only(accounts, client, database):
    ours, theirs = accounts.body("HĐND phường A"), accounts.body("HĐND phường B")
    accounts.user("thuky", "secretary", ours)
    accounts.user("thuky2", "secretary", theirs)
    accounts.user("daibieu01")
    await client.login("thuky")
    added = await client.post(
        f"/api/councils/{ours.id}/members",
        json={"username": "daibieu01", "seat": "A1", "group": "Tổ đại biểu số 1"},
    )
    assert added.status_code == 201, added.text
    refused = await client.post(
        f"/api/councils/{theirs.id}/members", json={"username": "daibieu01"}
    )
    assert refused.status_code == 403
    member = database.exec(select(Member)).one()
    other = await new_secretary(client, "thuky2")
    assert (await other.patch(f"/api/members/{member.id}", json={"seat": "B9"})).status_code == 403
    assert (await other.delete(f"/api/members/{member.id}")).status_code == 403
    database.rollback()  # a new read transaction: see what the server committed
    database.expire_all()
    assert database.exec(select(Member)).one().seat == "A1"
    assert [c.action for c in changes(database)] == ["member.add"]


async def new_secretary(client, username):  # type: ignore[no-untyped-def]
    await client.post("/logout", json={})
    client.raw.cookies.clear()
    await client.login(username)
    return client


BAD_CSV = (
    "username,full_name,role,title,seat,group\n"
    "daibieu01,Trần Văn An,delegate,Đại biểu,A1,Tổ 1\n"
    "Dai Bieu,Tên có dấu cách,delegate,,,\n"
    "daibieu03,Ngô Văn C,president,,,\n"
    "daibieu01,Trùng tên,delegate,,,\n"
)


async def test_a_csv_with_bad_rows_imports_nothing_and_names_each_line(admin, database):
    refused = await admin.post("/api/admin/import", json={"csv": BAD_CSV})
    assert refused.status_code == 400
    body = refused.json()
    assert body["code"] == "bad_csv"
    assert [p["line"] for p in body["problems"]] == [3, 4, 5]
    assert account(database, "daibieu01") is None
    assert changes(database) == []


async def test_a_good_csv_imports_all_rows_onto_the_roster(admin, accounts, database):
    body = accounts.body()
    text = BAD_CSV.splitlines()[0] + "\n" + BAD_CSV.splitlines()[1] + "\n"
    text += "daibieu02,Lê Thị Bình,delegate,,A2,Tổ 2\n"
    preview = await admin.post("/api/admin/import/preview", json={"csv": text})
    assert [r["username"] for r in preview.json()["rows"]] == ["daibieu01", "daibieu02"]
    assert account(database, "daibieu01") is None  # a preview writes nothing
    done = await admin.post("/api/admin/import", json={"csv": text, "body_id": body.id})
    assert done.status_code == 201, done.text
    made = done.json()["accounts"]
    assert all(len(row["password"]) >= 8 for row in made)
    assert account(database, "daibieu02").must_change_password
    seats = database.exec(select(Member.seat).order_by(Member.seat)).all()
    assert seats == ["A1", "A2"]
    assert [c.action for c in changes(database)] == ["user.import"]


async def test_a_reset_link_works_once(admin, accounts, database, new_client):
    person = accounts.user("daibieu05")
    made = await admin.post(f"/api/admin/accounts/{person.id}/reset-link")
    assert made.status_code == 201, made.text
    path = made.json()["path"]
    browser = await new_client()
    form = {"password": "mat-khau-moi-05", "confirm": "mat-khau-moi-05"}
    first = await browser.post(path, data=form)
    assert first.status_code in (200, 303), first.text
    await browser.login("daibieu05", "mat-khau-moi-05")
    hash_after = account(database, "daibieu05").password_hash
    second = await browser.post(path, data={"password": "khac-han-06", "confirm": "khac-han-06"})
    assert second.status_code == 410
    assert account(database, "daibieu05").password_hash == hash_after


async def test_an_expired_reset_link_changes_nothing(admin, accounts, database, new_client):
    person = accounts.user("daibieu05")
    made = await admin.post(f"/api/admin/accounts/{person.id}/reset-link")
    database.rollback()  # a new read transaction: see what the server committed
    database.expire_all()
    reset = database.exec(select(PasswordReset)).one()
    reset.expires_at = datetime.now(UTC) - timedelta(minutes=1)
    database.add(reset)
    database.commit()
    browser = await new_client()
    page = await browser.get(made.json()["path"])
    assert page.status_code == 410
    answer = await browser.post(
        made.json()["path"], data={"password": "mat-khau-moi-05", "confirm": "mat-khau-moi-05"}
    )
    assert answer.status_code == 410
    await browser.login("daibieu05", PASSWORD)  # the old password still works


async def test_a_forced_change_comes_before_anything_else(admin, accounts, database, new_client):
    person = accounts.user("daibieu05")
    reset = await admin.post(f"/api/admin/accounts/{person.id}/password")
    once = reset.json()["password"]
    browser = await new_client()
    await browser.login("daibieu05", once)
    page = await browser.get("/meetings", headers={"accept": "text/html"})
    assert page.status_code == 303 and page.headers["location"].startswith("/password")
    api = await browser.get("/api/meetings")
    assert api.status_code == 403 and api.json()["code"] == "must_change_password"
    short = await browser.post("/password", data={"password": "ngan", "confirm": "ngan"})
    assert short.status_code == 400
    chosen = await browser.post(
        "/password", data={"password": "mat-khau-cua-toi", "confirm": "mat-khau-cua-toi"}
    )
    assert chosen.status_code in (200, 303), chosen.text
    assert (await browser.get("/api/meetings")).status_code == 200
    assert not account(database, "daibieu05").must_change_password


def test_the_audit_list_refuses_updates(database):
    database.add(AdminChange(action="user.create", target="user:1 x"))
    database.commit()
    with pytest.raises(sa.exc.DatabaseError):
        database.exec(sa.text("UPDATE adminchange SET action = 'user.delete'"))
    database.rollback()
    with pytest.raises(sa.exc.DatabaseError):
        database.exec(sa.text("DELETE FROM adminchange"))
    database.rollback()
    assert database.exec(select(AdminChange.action)).all() == ["user.create"]


async def test_a_council_needs_a_unique_name_and_enough_members(admin, accounts, database):
    accounts.body("HĐND phường A")
    dup = await admin.post("/api/admin/councils", json={"name": "HĐND phường A"})
    assert dup.status_code == 409
    made = await admin.post(
        "/api/admin/councils",
        json={"name": "HĐND xã B", "kind": "hdnd", "term": "2026-2031", "members": 25},
    )
    assert made.status_code == 201, made.text
    assert [c.action for c in changes(database)] == ["body.create"]


async def test_a_socket_waits_for_a_password_of_ones_own(served, world, database):
    person = account(database, "daibieu01")
    person.must_change_password = True
    database.add(person)
    database.commit()
    tablet = await (await Tablet(served, "daibieu01").sign_in()).connect(world["meeting"])
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await tablet.receive()
    assert closed.value.rcvd.code == 4403
    await tablet.close()
