"""The pages a secretary and a delegate see, in Vietnamese first, with htmx fragments."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD

HTML = {"Accept": "text/html"}


@pytest.fixture
async def secretary(client, accounts):
    accounts.user("thuky", "secretary", accounts.body(), full_name="Nguyễn Thị Hồng")
    await client.login("thuky")


async def test_login_page_is_vietnamese_and_sets_the_csrf_cookie(client):
    response = await client.get("/login")
    assert response.status_code == 200
    assert "Đăng nhập" in response.text and '<html lang="vi">' in response.text
    assert "csrftoken" in client.raw.cookies
    assert "/static/vendor/htmx.min.js" in response.text


async def test_english_can_be_chosen_and_is_remembered(client):
    response = await client.get("/lang/en?next=/login")
    assert response.status_code in (302, 303) and response.headers["location"] == "/login"
    page = await client.get("/login")
    assert "Sign in" in page.text and '<html lang="en">' in page.text


async def test_pages_send_a_signed_out_visitor_to_the_login_page(client):
    response = await client.get("/meetings", headers=HTML)
    assert response.status_code in (302, 303)
    assert response.headers["location"] == "/login?next=/meetings"


async def test_secretary_creates_a_meeting_from_the_form(client, secretary):
    page = await client.get("/meetings")
    assert "Cuộc họp mới" in page.text
    response = await client.post(
        "/meetings",
        data={"title": "Kỳ họp chuyên đề", "starts_at": "2026-12-20T14:00", "place": "Hội trường"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code in (200, 201)
    target = response.headers["HX-Redirect"]
    editor = await client.get(target)
    assert "Kỳ họp chuyên đề" in editor.text
    assert 'value="2026-12-20T14:00"' in editor.text  # the council's clock, both ways
    listing = await client.get("/meetings")
    assert "Kỳ họp chuyên đề" in listing.text and "14:00 20/12/2026" in listing.text


async def test_editor_adds_and_moves_items_with_htmx(client, secretary):
    created = await client.post(
        "/api/meetings", json={"title": "K", "starts_at": "2026-12-20T08:00:00+07:00"}
    )
    mid = created.json()["id"]
    for title in ("Khai mạc", "Báo cáo"):
        fragment = await client.post(
            f"/meetings/{mid}/items", data={"title": title}, headers={"HX-Request": "true"}
        )
        assert fragment.status_code in (200, 201)
        assert "<html" not in fragment.text  # a fragment, not a page
    items = (await client.get(f"/api/meetings/{mid}")).json()["items"]
    second = items[1]["id"]
    fragment = await client.post(f"/items/{second}/move/in", headers={"HX-Request": "true"})
    assert "1.1." in fragment.text
    fragment = await client.post(f"/items/{second}/move/out", headers={"HX-Request": "true"})
    assert "2." in fragment.text and "1.1." not in fragment.text


async def test_editor_error_comes_back_as_a_readable_message(client, secretary):
    created = await client.post(
        "/api/meetings", json={"title": "K", "starts_at": "2026-12-20T08:00:00+07:00"}
    )
    mid = created.json()["id"]
    response = await client.post(
        f"/meetings/{mid}/participants",
        data={"username": "khongco", "role": "delegate"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 404
    assert response.text.startswith('<p class="error" role="alert"')
    assert "Không có tài khoản tên khongco" in response.text


async def test_delegate_sees_their_meeting_but_not_the_editor(client, accounts, new_client):
    accounts.user("thuky", "secretary", accounts.body())
    await client.login("thuky")
    created = await client.post(
        "/api/meetings", json={"title": "Kỳ họp", "starts_at": "2026-12-20T08:00:00+07:00"}
    )
    mid = created.json()["id"]
    accounts.user("daibieu01", full_name="Trần Văn An")
    await client.post(
        f"/api/meetings/{mid}/participants", json={"username": "daibieu01", "role": "delegate"}
    )
    delegate = await new_client()
    await delegate.login("daibieu01", PASSWORD)
    listing = await delegate.get("/meetings")
    assert "Kỳ họp" in listing.text and "Cuộc họp mới" not in listing.text
    page = await delegate.get(f"/meetings/{mid}")
    assert page.status_code == 200 and "Chỉnh sửa cuộc họp" not in page.text
    assert "/move/" not in page.text  # the agenda is read-only here
    editor = await delegate.get(f"/meetings/{mid}/edit", headers=HTML)
    assert editor.status_code == 403
    assert "Bạn không có quyền" in editor.text


async def test_health_check_reports_database_and_loop(client):
    response = await client.get("/healthz")
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ok" and body["db"] == "ok"
    assert {"p50_ms", "p99_ms", "max_ms", "samples"} <= set(body["loop_lag"])


async def test_openapi_schema_lists_the_json_routes(client):
    schema = (await client.get("/schema/openapi.json")).json()
    for path in (
        "/api/meetings",
        "/api/meetings/{meeting_id}",
        "/api/items/{item_id}",
        "/api/meetings/{meeting_id}/participants",
        "/api/meetings/{meeting_id}/items",
    ):
        assert path in schema["paths"], path
