"""An account's e-mail address (where its giấy mời go): typed by the admin on the account
forms or given in a CSV import's `email` column; a bad address is refused and nothing kept."""

from __future__ import annotations

from sqlmodel import select

from server.models import User


async def _admin(accounts, client):  # type: ignore[no-untyped-def]
    accounts.user("quantri", "admin")
    await client.login("quantri")
    return client


def _user(database, username: str) -> User | None:
    database.rollback()  # a new read: see what the server committed
    return database.exec(select(User).where(User.username == username)).first()


async def test_the_admin_gives_an_address_and_a_bad_one_is_refused(accounts, client, database):
    admin = await _admin(accounts, client)
    made = await admin.post(
        "/api/admin/accounts",
        json={
            "username": "daibieu07",
            "full_name": "Lê Văn Bảy",
            "role": "delegate",
            "email": " bay@hdnd.example.vn ",
        },
    )
    assert made.status_code == 201, made.text
    assert _user(database, "daibieu07").email == "bay@hdnd.example.vn"
    for bad in ("bay@", "bay hdnd@example.vn", "a@b", "x@example.vn\r\nBcc: y@example.vn"):
        refused = await admin.post(
            "/api/admin/accounts",
            json={"username": "daibieu08", "full_name": "Tám", "role": "delegate", "email": bad},
        )
        assert refused.status_code == 400, bad
        assert refused.json()["code"] == "bad_email"
        assert "không hợp lệ" in refused.json()["message"]
        assert _user(database, "daibieu08") is None


async def test_the_account_form_changes_the_address_and_refuses_a_bad_one(
    accounts, client, database
):
    admin = await _admin(accounts, client)
    person = accounts.user("daibieu09", full_name="Chín")
    form = {"full_name": "Chín", "title": "", "role": "delegate", "body_id": ""}
    refused = await admin.post(
        f"/admin/accounts/{person.id}",
        data={**form, "email": "chin.at.example.vn"},
        headers={"HX-Request": "true"},
    )
    assert refused.status_code == 400
    assert "Địa chỉ thư điện tử chin.at.example.vn không hợp lệ." in refused.text
    assert _user(database, "daibieu09").email == ""
    saved = await admin.post(
        f"/admin/accounts/{person.id}",
        data={**form, "email": "chin@example.vn"},
        headers={"HX-Request": "true"},
    )
    assert saved.status_code == 200, saved.text
    assert 'value="chin@example.vn"' in saved.text
    assert _user(database, "daibieu09").email == "chin@example.vn"
    cleared = await admin.post(
        f"/admin/accounts/{person.id}", data={**form, "email": ""}, headers={"HX-Request": "true"}
    )
    assert cleared.status_code == 200
    assert _user(database, "daibieu09").email == ""


async def test_a_csv_brings_addresses_and_a_bad_one_imports_nothing(accounts, client, database):
    admin = await _admin(accounts, client)
    bad = (
        "username,full_name,role,email\n"
        "daibieu01,Nguyễn Văn An,delegate,an@example.vn\n"
        "daibieu02,Lê Thị Bình,delegate,binh-at-example.vn\n"
    )
    refused = await admin.post("/api/admin/import", json={"csv": bad})
    assert refused.status_code == 400
    (problem,) = refused.json()["problems"]
    assert problem["line"] == 3 and "binh-at-example.vn" in problem["message"]
    assert _user(database, "daibieu01") is None
    good = bad.replace("binh-at-example.vn", "") + "daibieu03,Trần Ba,delegate,ba@example.vn\n"
    preview = await admin.post("/api/admin/import/preview", json={"csv": good})
    assert [r["email"] for r in preview.json()["rows"]] == ["an@example.vn", "", "ba@example.vn"]
    done = await admin.post("/api/admin/import", json={"csv": good})
    assert done.status_code == 201, done.text
    assert _user(database, "daibieu01").email == "an@example.vn"
    assert _user(database, "daibieu02").email == ""
