"""Numbers in request paths and queries stay within what the database can hold.

Every id column is an INTEGER, which PostgreSQL keeps in 32 bits (SQLite in 64): a row with a
larger id cannot exist, and asking the database for one fails instead of finding nothing. So
the check happens once, before any guard or handler looks the number up: a path number out of
range is 404 (the thing does not exist), a query number out of range is 400.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from litestar.constants import RESERVED_KWARGS
from litestar.exceptions import WebSocketException
from litestar.handlers.base import BaseRouteHandler
from litestar.types import ASGIApp, Receive, Scope, Send
from litestar.typing import FieldDefinition

from server.errors import AppError, not_found

ID_MAX = 2**31 - 1  # PostgreSQL's INTEGER; path numbers (ids, 1-based pages) start at 1
CLOSE_NOT_FOUND = 4404

# What a path number names, as the 404 message says it.
_THINGS = {
    "meeting_id": "meeting",
    "item_id": "agenda item",
    "document_id": "document",
    "vote_id": "vote",
    "user_id": "participant",
    "recording_id": "recording",
}


class IdsInRange:
    """ASGI middleware, app-wide: runs after routing has parsed the path and before any guard.

    It comes after the session middleware, whose user the HTML error page shows."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._queries: dict[BaseRouteHandler, tuple[str, ...]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            self._check(scope)
        await self.app(scope, receive, send)

    def _check(self, scope: Scope) -> None:
        for name, value in scope.get("path_params", {}).items():
            if isinstance(value, int) and not 1 <= value <= ID_MAX:
                if scope["type"] == "websocket":
                    raise WebSocketException(detail=f"not found: {name}", code=CLOSE_NOT_FOUND)
                raise _absent(name, value)
        handler = scope.get("route_handler")
        if handler is None or not scope.get("query_string"):
            return
        if handler not in self._queries:
            self._queries[handler] = int_queries(handler, set(scope["path_params"]))
        wanted = self._queries[handler]
        if not wanted:
            return
        for key, raw in parse_qsl(scope["query_string"].decode("latin-1")):
            if key in wanted and not _fits(raw):
                raise AppError(
                    400, "out_of_range", "The number in {name} is out of range.", name=key
                )


def _absent(name: str, value: int) -> AppError:
    if name == "page":
        return AppError(404, "no_such_page", "This document has no page {page}.", page=value)
    return not_found(_THINGS.get(name, "resource"))


def _fits(raw: str) -> bool:
    """Not a number at all is left to Litestar's own validation (400 as well)."""
    try:
        value = int(raw)
    except ValueError:
        return True
    return -ID_MAX - 1 <= value <= ID_MAX


def int_queries(handler: BaseRouteHandler, path_params: set[str]) -> tuple[str, ...]:
    """The query keys a handler reads as int (or int | None)."""
    skip = RESERVED_KWARGS | path_params | set(handler.resolve_dependencies())
    keys = []
    for name, field in handler.parsed_fn_signature.parameters.items():
        kwarg: Any = field.kwarg_definition
        if name in skip or getattr(kwarg, "header", None) or getattr(kwarg, "cookie", None):
            continue
        if _is_int(field):
            keys.append(getattr(kwarg, "query", None) or name)
    return tuple(keys)


def _is_int(field: FieldDefinition) -> bool:
    types = [t for t in field.inner_types if not t.is_none_type] if field.is_optional else [field]
    return len(types) == 1 and types[0].is_subclass_of(int) and not types[0].is_subclass_of(bool)
