"""Ward points for the tests: bench/points.py's `Point`, signed in with the fixtures'
password unless told otherwise, and a meeting to call them into."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from bench import points
from bench.points import PointError, mean_rgb
from server.models import Meeting
from tests.conftest import PASSWORD

__all__ = ["Point", "PointError", "conference_meeting", "mean_rgb"]


class Point(points.Point):
    def __init__(self, *args: Any, password: str = PASSWORD, **options: Any) -> None:
        super().__init__(*args, password=password, **options)


def conference_meeting(accounts: Any, database: Any, ward_points: Iterable[str]) -> int:
    """A meeting chaired by `chutoa`, with these ward points; returns its id."""
    meeting = Meeting(
        body_id=accounts.body().id, title="Kỳ họp", starts_at=datetime(2026, 12, 15, tzinfo=UTC)
    )
    database.add(meeting)
    database.commit()
    accounts.join(accounts.user("chutoa"), meeting.id, "chair")
    for name in ward_points:
        accounts.join(accounts.user(name), meeting.id, "ward_point")
    return meeting.id
