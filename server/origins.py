"""Where a browser request comes from: a page of this server or of an allowed origin.

One rule for the meeting socket's handshake and for every unsafe HTTP request. The latter is
defence in depth behind CSRF: a page of another site cannot make a signed-in browser change
anything, even if it got hold of a valid token.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from litestar.connection import ASGIConnection
from litestar.types import ASGIApp, Receive, Scope, Send

from server.errors import AppError
from server.house import house_of

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def allowed_origin(connection: ASGIConnection, origin: str) -> bool:
    """`origin` is one of PHONGHOP_ALLOWED_ORIGINS, or this very server (its Host header), as a
    browser on one of its pages would send it."""
    if origin in house_of(connection).settings.allowed_origins:
        return True
    host = connection.headers.get("host", "")
    return bool(host) and urlsplit(origin).netloc == host


def claimed_origin(connection: ASGIConnection) -> str | None:
    """The Origin header, else the origin of the Referer; None when the request names neither
    (not sent by a page in a browser)."""
    origin = connection.headers.get("origin")
    if origin is not None:
        return origin
    referer = connection.headers.get("referer")
    if referer is None:
        return None
    parts = urlsplit(referer)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else "null"


class OriginCheck:
    """ASGI middleware, app-wide: refuses unsafe requests from another site's pages.

    It skips what CSRF skips (the safe methods, the excluded bearer-key routes), so the two
    checks cover the same requests."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._excluded: re.Pattern[str] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self._checks(scope):
            connection: ASGIConnection = ASGIConnection(scope)
            origin = claimed_origin(connection)
            if origin is not None and not allowed_origin(connection, origin):
                raise AppError(
                    403,
                    "bad_origin",
                    "This request came from another website and was refused. "
                    "Open the page from this server and try again.",
                )
        await self.app(scope, receive, send)

    def _checks(self, scope: Scope) -> bool:
        csrf = scope["litestar_app"].csrf_config
        if scope["method"] in (csrf.safe_methods if csrf else _SAFE_METHODS):
            return False
        if csrf is None:
            return True
        handler = scope.get("route_handler")
        if handler is not None and handler.opt.get(csrf.exclude_from_csrf_key):
            return False
        if self._excluded is None:
            paths = [csrf.exclude] if isinstance(csrf.exclude, str) else csrf.exclude or []
            self._excluded = re.compile("|".join(paths) or r"(?!)")
        return not self._excluded.search(scope["path"])
