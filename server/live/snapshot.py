"""The whole state of a meeting as one tablet may see it, assembled from the capabilities."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from server.live.protocol import Session

Part = Callable[[AsyncSession, Session], Awaitable[Any]]
PARTS: dict[str, Part] = {}


def part(name: str) -> Callable[[Part], Part]:
    """Registers a function that gives `state[name]` of the snapshot."""

    def register(function: Part) -> Part:
        PARTS[name] = function
        return function

    return register


async def build(db: AsyncSession, session: Session) -> dict[str, Any]:
    """Every part, read in the caller's (one) transaction so they agree with each other."""
    return {name: await function(db, session) for name, function in PARTS.items()}
