"""The video conference page: a ward point's (or the hall's) camera and microphone, the
program from the bridge, and the page the chair presents."""

from __future__ import annotations

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template
from sqlmodel.ext.asyncio.session import AsyncSession

from server.access import meeting_permission
from server.meetings import rules as meeting_rules


@get(
    "/meetings/{meeting_id:int}/conference",
    guards=[meeting_permission],
    opt={"permission": "conference"},
)
async def conference(
    request: Request, db: NamedDependency[AsyncSession], meeting_id: FromPath[int]
) -> Template:
    view = await meeting_rules.meeting_view(db, request.state.access)
    agenda = meeting_rules.item_titles(view["tree"])
    return Template("conference.html", context={**view, "agenda": agenda})


ROUTES = [conference]
