"""Liveness for load balancers and operators: the database answers, the loop is not stalled."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from litestar import Response, get
from litestar.params import FromQuery

from server.house import House


@get("/healthz")
async def healthz(state: House, window: FromQuery[float] = 60.0) -> Response[dict[str, Any]]:
    """`{"status": "ok", "db": "ok", "loop_lag": {...}}`; 503 when the database does not answer."""
    try:
        async with state.db_read() as db:
            await db.exec(sa.text("SELECT 1"))  # type: ignore[call-overload]
        db_status = "ok"
    except Exception as exc:  # the point is to report any failure, not to raise it
        db_status = f"error: {type(exc).__name__}"
    body = {
        "status": "ok" if db_status == "ok" else "error",
        "db": db_status,
        "loop_lag": state.loop_lag.summary(max(1.0, min(window, 120.0))),
    }
    return Response(body, status_code=200 if db_status == "ok" else 503)
