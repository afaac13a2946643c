"""Forms a browser would never send: each is a clear 400, never a crash, and keeps nothing."""

from __future__ import annotations

from tests.conftest import Client


def multipart(fields: list[tuple[str, bytes]], boundary: str = "B") -> bytes:
    parts = [
        b'--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
        % (boundary.encode(), name.encode(), value)
        for name, value in fields
    ]
    return b"".join(parts) + b"--%s--\r\n" % boundary.encode()


async def test_a_sign_in_form_that_is_not_utf8_is_a_400(client: Client):
    body = multipart([("username", b"\xff\xfe"), ("password", b"x")])
    answer = await client.post(
        "/login", content=body, headers={"Content-Type": "multipart/form-data; boundary=B"}
    )
    assert answer.status_code == 400 and answer.json()["code"] == "bad_form"


async def test_an_upload_whose_title_is_not_utf8_is_a_400_and_keeps_nothing(
    client: Client, accounts, settings
):
    accounts.user("thuky", "secretary", accounts.body())
    await client.login("thuky")
    created = await client.post(
        "/api/meetings", json={"title": "Kỳ họp", "starts_at": "2026-12-15T08:00:00+07:00"}
    )
    item = await client.post(f"/api/meetings/{created.json()['id']}/items", json={"title": "A"})
    body = multipart([("title", b"\xff\xfe")])
    answer = await client.post(
        f"/api/items/{item.json()['id']}/documents",
        content=body,
        headers={"Content-Type": "multipart/form-data; boundary=B"},
    )
    assert answer.status_code == 400 and answer.json()["code"] == "bad_form"
    assert not list(settings.blobs_dir.glob("**/*.pdf"))


async def test_a_vote_weight_in_superscript_digits_is_not_a_crash(client: Client, accounts):
    accounts.user("thuky", "secretary", accounts.body())
    accounts.user("daibieu20")
    await client.login("thuky")
    created = await client.post(
        "/api/meetings", json={"title": "Kỳ họp", "starts_at": "2026-12-15T08:00:00+07:00"}
    )
    answer = await client.post(
        f"/meetings/{created.json()['id']}/participants",
        data={"username": "daibieu20", "role": "delegate", "vote_weight": "²"},
    )
    assert answer.status_code == 200
    meeting = await client.get(f"/api/meetings/{created.json()['id']}")
    [joined] = [p for p in meeting.json()["participants"] if p["username"] == "daibieu20"]
    assert joined["vote_weight"] == 1
