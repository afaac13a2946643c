"""The HTTP contract as OpenAPI says it: who may call an /api route and what a refusal looks like.

Each route's guards decide its security scheme: the recorder's routes hold a bearer key, a
route without guards is open to anyone, every other one needs the session cookie (and the
CSRF header when it changes something). Every /api route may answer with the `Error` shape.
"""

from typing import Any

import msgspec
from litestar.openapi import OpenAPIConfig
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins import ReceiveRoutePlugin
from litestar.routes import BaseRoute, HTTPRoute

from server.access import recorder_only
from server.auth import SESSION_COOKIE

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class Error(msgspec.Struct):
    """A refusal: `code` for programs, `message` in the caller's language for people."""

    code: str
    message: str
    errors: list[dict[str, Any]] | None = None  # only a 400 for a malformed body lists them
    problems: list[dict[str, Any]] | None = None  # a refused CSV import: the lines to fix


SECURITY_SCHEMES: dict[str, SecurityScheme | Any] = {
    "session": SecurityScheme(
        type="apiKey",
        name=SESSION_COOKIE,
        security_scheme_in="cookie",
        description="The session cookie set by POST /login.",
    ),
    "csrf": SecurityScheme(
        type="apiKey",
        name="x-csrftoken",
        security_scheme_in="header",
        description="The value of the csrftoken cookie, on every request that changes something.",
    ),
    "recorder": SecurityScheme(
        type="http", scheme="bearer", description="The recorder's key (PHONGHOP_RECORDER_KEY)."
    ),
}


def _refusal(description: str) -> ResponseSpec:
    return ResponseSpec(data_container=Error, description=description, generate_examples=False)


BAD_REQUEST = {400: _refusal("The request was refused; nothing changed.")}
SIGNED_IN_ERRORS = {
    **BAD_REQUEST,
    401: _refusal("Not signed in."),
    403: _refusal("Signed in, but not allowed to do this (or the CSRF header is missing)."),
    404: _refusal("No such thing, or not one this person may see."),
}
RECORDER_ERRORS = {**BAD_REQUEST, 401: _refusal("Not the recorder's key.")}


class ApiContract(ReceiveRoutePlugin):
    """Declares the security scheme and the error responses of each /api operation."""

    def receive_route(self, route: BaseRoute) -> None:
        if not isinstance(route, HTTPRoute) or not route.path.startswith("/api/"):
            return
        for handler in route.route_handlers:
            if not handler.include_in_schema or handler.http_methods <= SAFE_METHODS - {"GET"}:
                continue
            guards = [guard for layer in handler.ownership_layers for guard in layer.guards or []]
            if recorder_only in guards:
                security, errors = [{"recorder": []}], RECORDER_ERRORS
            elif not guards:
                security, errors = None, BAD_REQUEST
            elif handler.http_methods <= SAFE_METHODS:
                security, errors = [{"session": []}], SIGNED_IN_ERRORS
            else:
                security, errors = [{"session": [], "csrf": []}], SIGNED_IN_ERRORS
            handler.security = handler.security or security
            handler.responses = {**errors, **(handler.responses or {})}


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="phonghop",
        version="0.1.0",
        path="/schema",
        render_plugins=[SwaggerRenderPlugin()],
        components=Components(security_schemes=SECURITY_SCHEMES),
    )


def file_answer(media_type: str, description: str) -> dict[int, ResponseSpec]:
    """The 200 of a route answering with a file's bytes rather than JSON."""
    return {
        200: ResponseSpec(
            data_container=bytes,
            media_type=media_type,
            description=description,
            generate_examples=False,
        )
    }


PDF = file_answer("application/pdf", "The PDF.")
DOCX = file_answer(
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "The Word document, to edit before signing.",
)
CSV = file_answer("text/csv", "The table, one row a line.")
WEBP = file_answer("image/webp", "The page as a picture.")
JPEG = file_answer("image/jpeg", "The picture.")
MP4 = file_answer("video/mp4", "The video; byte ranges are served.")
VIDEO_OR_ZIP = file_answer(
    "video/mp4", "The video, or a ZIP of the segments when the recording was interrupted."
)
VTT = file_answer("text/vtt", "The chapters, one an agenda item, as WebVTT.")
