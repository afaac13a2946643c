"""The OpenAPI document at /schema tells a program what each /api route answers, how it
refuses ({code, message}) and what it needs to be called (cookie + CSRF, or the recorder's key)."""

from typing import Any

import jsonschema
import pytest

from tests.conftest import Client

METHODS = ("get", "put", "post", "delete", "patch")
# Anyone may call these; the recorder's routes hold its bearer key instead of a session.
PUBLIC = {("post", "/api/verify")}
RECORDER = "/api/recorder/"


@pytest.fixture
async def openapi(client: Client) -> dict[str, Any]:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def api_operations(openapi: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in openapi["paths"].items()
        if path.startswith("/api/")
        for method, operation in item.items()
        if method in METHODS
    ]


def resolve(openapi: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        return openapi["components"]["schemas"][name]  # type: ignore[no-any-return]
    return schema


def says_what(
    openapi: dict[str, Any], schema: dict[str, Any], media_type: str, top: bool = True
) -> bool:
    """A schema a program can rely on: named fields, a list of those, a map of typed values,
    a file (a string in a media type of its own), or a choice of such."""
    schema = resolve(openapi, schema)
    if "oneOf" in schema or "anyOf" in schema:
        choices = schema.get("oneOf", schema.get("anyOf"))
        return all(says_what(openapi, s, media_type, top) for s in choices)
    kind = schema.get("type")
    if kind == "array":
        return says_what(openapi, schema.get("items", {}), media_type, top=False)
    if kind == "object":
        values = schema.get("additionalProperties")
        return bool(schema.get("properties")) or (isinstance(values, dict) and bool(values))
    if kind == "string":  # a whole answer that is a string in JSON is a file mislabelled
        return not top or media_type != "application/json" or "enum" in schema
    return kind in ("integer", "number", "boolean", "null")


def untyped(openapi: dict[str, Any]) -> list[str]:
    found = []
    for method, path, operation in api_operations(openapi):
        answers = {code: r for code, r in operation["responses"].items() if code.startswith("2")}
        assert answers, f"{method} {path} has no 2xx response"
        for code, answer in answers.items():
            content = answer.get("content") or {}
            if not content and code in ("202", "204"):
                continue
            if not content or not all(
                says_what(openapi, m.get("schema", {}), media_type)
                for media_type, m in content.items()
            ):
                found.append(f"{method.upper()} {path} {code} {content}")
    return found


async def test_every_api_route_says_what_it_answers(openapi: dict[str, Any]) -> None:
    assert len(api_operations(openapi)) > 100
    assert untyped(openapi) == []


def test_a_bare_object_answer_is_caught() -> None:
    openapi = {
        "components": {"schemas": {"Meeting": {"type": "object", "properties": {"id": {}}}}},
        "paths": {
            "/api/x": {
                "get": {
                    "responses": {
                        "200": {"content": {"application/json": {"schema": {"type": "object"}}}}
                    }
                },
                "post": {
                    "responses": {
                        "201": {
                            "content": {
                                "application/json": {
                                    "schema": {"additionalProperties": {}, "type": "object"}
                                }
                            }
                        }
                    }
                },
                "put": {"responses": {"200": {"content": {"application/json": {"schema": {}}}}}},
                "patch": {
                    "responses": {
                        "200": {"content": {"application/json": {"schema": {"type": "string"}}}}
                    }
                },
                "delete": {"responses": {"204": {}}},
            },
            "/api/y": {
                "get": {
                    "responses": {
                        "200": {
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/Meeting"},
                                    }
                                }
                            }
                        }
                    }
                },
                "post": {
                    "responses": {
                        "200": {"content": {"application/pdf": {"schema": {"type": "string"}}}}
                    }
                },
            },
        },
    }
    assert [line.split(" {")[0] for line in untyped(openapi)] == [
        "GET /api/x 200",
        "POST /api/x 201",
        "PUT /api/x 200",
        "PATCH /api/x 200",
    ]


async def test_a_refusal_is_the_error_shape(openapi: dict[str, Any]) -> None:
    error = openapi["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"code", "message"}
    for method, path, operation in api_operations(openapi):
        refusals = {code: r for code, r in operation["responses"].items() if code.startswith("4")}
        assert "400" in refusals, f"{method} {path}"
        for code, refusal in refusals.items():
            schema = refusal["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Error"}, f"{method} {path} {code}"


async def test_who_may_call_each_route_is_declared(openapi: dict[str, Any]) -> None:
    schemes = openapi["components"]["securitySchemes"]
    assert schemes["session"] == {
        "type": "apiKey",
        "in": "cookie",
        "name": "phonghop_session",
        "description": schemes["session"]["description"],
    }
    assert (schemes["csrf"]["type"], schemes["csrf"]["in"]) == ("apiKey", "header")
    assert schemes["csrf"]["name"] == "x-csrftoken"
    assert (schemes["recorder"]["type"], schemes["recorder"]["scheme"]) == ("http", "bearer")
    assert "security" not in openapi  # nothing is signed-in by default: each route says
    for method, path, operation in api_operations(openapi):
        security = operation.get("security")
        if (method, path) in PUBLIC:
            assert security is None, f"{method} {path}"
        elif path.startswith(RECORDER):
            assert security == [{"recorder": []}], f"{method} {path}"
            assert "401" in operation["responses"]
        elif method == "get":
            assert security == [{"session": []}], f"{method} {path}"
            assert {"401", "403"} <= operation["responses"].keys()
        else:
            assert security == [{"session": [], "csrf": []}], f"{method} {path}"
            assert {"401", "403"} <= operation["responses"].keys()


def answer_schema(openapi: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    responses = openapi["paths"][path][method]["responses"]
    code = next(c for c in responses if c.startswith("2"))
    schema = responses[code]["content"]["application/json"]["schema"]
    return {**schema, "components": openapi["components"]}


async def test_real_answers_match_what_the_schema_says(
    client: Client, accounts: Any, openapi: dict[str, Any]
) -> None:
    """A meeting with an agenda item and a vote, read back: each answer fits its schema."""
    body = accounts.body()
    accounts.user("thuky", "secretary", body)
    await client.login("thuky")
    made = await client.post(
        "/api/meetings",
        json={"title": "Kỳ họp thứ 5", "starts_at": "2026-12-20T08:00:00", "body_id": body.id},
    )
    meeting = made.json()["id"]
    item = await client.post(f"/api/meetings/{meeting}/items", json={"title": "Báo cáo"})
    vote = await client.post(f"/api/meetings/{meeting}/votes", json={"title": "Thông qua"})
    assert (made.status_code, item.status_code, vote.status_code) == (201, 201, 201), vote.text
    answers = {
        ("post", "/api/meetings"): made.json(),
        ("post", "/api/meetings/{meeting_id}/items"): item.json(),
        ("post", "/api/meetings/{meeting_id}/votes"): vote.json(),
    }
    for path, url in [
        ("/api/meetings", "/api/meetings"),
        ("/api/meetings/{meeting_id}", f"/api/meetings/{meeting}"),
        ("/api/meetings/{meeting_id}/votes", f"/api/meetings/{meeting}/votes"),
        ("/api/votes/{vote_id}", f"/api/votes/{vote.json()['id']}"),
        ("/api/meetings/{meeting_id}/publish", f"/api/meetings/{meeting}/publish"),
        ("/api/bodies", "/api/bodies"),
        ("/api/notifications", "/api/notifications"),
    ]:
        response = await client.get(url)
        assert response.status_code == 200, (url, response.text)
        answers["get", path] = response.json()
    for (method, path), answer in answers.items():
        schema = answer_schema(openapi, method, path)
        jsonschema.validate(answer, schema, cls=jsonschema.Draft202012Validator)
    refused = await client.get("/api/meetings/999999")
    assert refused.status_code == 404
    error = {"$ref": "#/components/schemas/Error", "components": openapi["components"]}
    jsonschema.validate(refused.json(), error, cls=jsonschema.Draft202012Validator)
