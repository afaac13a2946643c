"""Structured logs: one JSON object per line on stderr, for the server and uvicorn alike.

Every line written while a request or a meeting socket is served carries its `request_id`,
the signed-in `user_id` and `user`, and the `meeting_id` from the path: a context variable
set by `LogContext`, so tasks a request starts carry it too.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import secrets
import sys
from datetime import UTC, datetime
from typing import Any

from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "color_message"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


_NONE: dict[str, Any] = {}  # never changed: the context is replaced, not updated
_context: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar(
    "phonghop_log_context",
    default=_NONE,  # noqa: B039
)
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")  # a proxy's id, if it looks like one
_factory = logging.getLogRecordFactory()


def _record(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _factory(*args, **kwargs)
    for name, value in _context.get().items():
        if name not in record.__dict__:
            setattr(record, name, value)
    return record


def carry_context() -> None:
    """Every log record from now on carries the context (once per process, for any handler)."""
    if logging.getLogRecordFactory() is not _record:
        logging.setLogRecordFactory(_record)


def add_context(**fields: Any) -> None:
    """Adds `fields` to the log lines of the current request or socket, from here on."""
    _context.set({**_context.get(), **fields})


def context() -> dict[str, Any]:
    return _context.get()


def meeting_context(meeting_id: int) -> contextvars.Context:
    """A context for a meeting's own long-lived task: its meeting, nobody's request."""
    fresh = contextvars.Context()
    fresh.run(_context.set, {"meeting_id": meeting_id})
    return fresh


class LogContext:
    """ASGI middleware, app-wide, after sign-in: names the request (its `X-Request-ID` when a
    proxy sent a sane one, else a new one, echoed in the answer), its user and its meeting."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = MutableScopeHeaders(scope).get("x-request-id") or ""
        request_id = given if _REQUEST_ID.fullmatch(given) else secrets.token_hex(8)
        fields: dict[str, Any] = {"request_id": request_id}
        user = scope.get("user")
        if user is not None:
            fields["user_id"], fields["user"] = user.id, user.username
        meeting_id = scope.get("path_params", {}).get("meeting_id")
        if isinstance(meeting_id, int):
            fields["meeting_id"] = meeting_id
        token = _context.set(fields)

        async def send_named(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableScopeHeaders.from_message(message)["x-request-id"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_named if scope["type"] == "http" else send)
        finally:
            _context.reset(token)


def configure(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "litestar"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
