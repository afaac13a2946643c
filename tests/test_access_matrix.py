"""Every role against every meeting route: who is let in, who is refused, and how."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from server.models import AgendaItem, Meeting

MANAGERS = {"admin", "body_secretary", "meeting_secretary"}
MEMBERS = {"chair", "delegate", "ward", "observer"}
STRANGERS = {"other_secretary", "outsider"}
ROLES = sorted(MANAGERS | MEMBERS | STRANGERS | {"anonymous"})


def expected(route: str, role: str) -> int:
    if role == "anonymous":
        return 302 if route.startswith("GET /meetings") else 401
    if route == "GET /api/meetings":
        return 200
    if route == "POST /api/meetings":
        return 201 if role in {"admin", "body_secretary"} else 403
    if role in STRANGERS:
        return 404  # a meeting one is not part of does not exist for them
    if route in ("GET /api/meetings/{id}", "GET /meetings/{id}"):
        return 200
    if role in MEMBERS:
        return 403
    return {"POST": 201, "DELETE": 204}.get(route.split()[0], 200)


def build_world(accounts, database):
    body = accounts.body("HĐND phường A")
    other = accounts.body("HĐND phường B")
    meeting = Meeting(body_id=body.id, title="Kỳ họp", starts_at=datetime(2026, 12, 1, tzinfo=UTC))
    database.add(meeting)
    database.commit()
    users = {
        "admin": accounts.user("admin", "admin"),
        "body_secretary": accounts.user("thuky", "secretary", body),
        "other_secretary": accounts.user("thukyb", "secretary", other),
        "meeting_secretary": accounts.user("thukyhop", "delegate", body),
        "chair": accounts.user("chutoa", "delegate", body),
        "delegate": accounts.user("daibieu", "delegate", body),
        "ward": accounts.user("diemcau", "ward", body),
        "observer": accounts.user("khach", "observer"),
        "outsider": accounts.user("nguoingoai", "delegate", body),
        "target": accounts.user("moi", "delegate", body),
    }
    roles = {
        "meeting_secretary": "secretary",
        "chair": "chair",
        "delegate": "delegate",
        "ward": "ward_point",
        "observer": "observer",
    }
    for name, role in roles.items():
        accounts.join(users[name], meeting.id, role)
    return body, meeting, users


async def call(client, route: str, body_id: int, meeting_id: int, item_id: int):
    method, path = route.split(" ", 1)
    url = path.replace("{id}", str(meeting_id)).replace("{item}", str(item_id))
    payloads = {
        "POST /api/meetings": {
            "title": "Mới",
            "starts_at": "2026-12-20T08:00:00+07:00",
            "body_id": body_id,
        },
        "PATCH /api/meetings/{id}": {"place": "Hội trường"},
        "POST /api/meetings/{id}/participants": {"username": "moi", "role": "observer"},
        "POST /api/meetings/{id}/items": {"title": "Nội dung"},
        "PATCH /api/items/{item}": {"title": "Đổi tên"},
    }
    if method == "GET":
        return await client.get(url, headers={"Accept": "text/html"})
    return await client.request(method, url, json=payloads.get(route, {}))


ROUTES = [
    "GET /api/meetings",
    "POST /api/meetings",
    "GET /api/meetings/{id}",
    "PATCH /api/meetings/{id}",
    "POST /api/meetings/{id}/participants",
    "POST /api/meetings/{id}/items",
    "PATCH /api/items/{item}",
    "DELETE /api/items/{item}",
    "GET /meetings/{id}",
    "GET /meetings/{id}/edit",
]


async def test_each_role_is_allowed_or_refused_on_each_route(new_client, accounts, database):
    body, meeting, users = build_world(accounts, database)
    wrong = []
    for role in ROLES:
        client = await new_client()
        if role != "anonymous":
            await client.login(users[role].username)
        for route in ROUTES:
            item = AgendaItem(meeting_id=meeting.id, title="Mục thử")
            database.add(item)
            database.commit()
            response = await call(client, route, body.id, meeting.id, item.id)
            if response.status_code != expected(route, role):
                wrong.append(
                    f"{role:18} {route:40} got {response.status_code}, want {expected(route, role)}"
                )
            if route == "POST /api/meetings/{id}/participants" and response.status_code == 201:
                await accounts_cleanup(database, meeting.id, users["target"].id)
    assert not wrong, "\n" + "\n".join(wrong)


async def accounts_cleanup(database, meeting_id, user_id):
    from server.models import Participant

    row = database.exec(
        select(Participant).where(
            Participant.meeting_id == meeting_id, Participant.user_id == user_id
        )
    ).one()
    database.delete(row)
    database.commit()


async def test_refusals_say_why_in_the_contract_shape(new_client, accounts, database):
    _, meeting, users = build_world(accounts, database)
    client = await new_client()
    await client.login(users["delegate"].username)
    response = await client.patch(f"/api/meetings/{meeting.id}", json={"place": "x"})
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert response.json()["message"] == "Bạn không có quyền thực hiện thao tác này."
    anonymous = await new_client()
    response = await anonymous.get(f"/api/meetings/{meeting.id}")
    assert response.json()["code"] == "not_signed_in"
