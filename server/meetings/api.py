"""JSON routes for meetings, participants and agenda items (under /api)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, TypedDict

import msgspec
from litestar import Request, Router, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT
from msgspec import UNSET, UnsetType
from sqlmodel.ext.asyncio.session import AsyncSession

from server.access import MeetingAccess, account_role, meeting_permission, signed_in
from server.bodies import BodyOut, body_json
from server.documents.rules import DocumentOut, document_json
from server.errors import not_found
from server.house import House
from server.i18n import translate
from server.meetings import rules, setup
from server.models import AgendaItem, Body, Meeting, Participant, Role, User

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
Text = Annotated[str, msgspec.Meta(max_length=5000)]


class MeetingIn(msgspec.Struct):
    title: Title
    starts_at: datetime
    place: Annotated[str, msgspec.Meta(max_length=300)] = ""
    description: Text = ""
    body_id: int | None = None


class MeetingPatch(msgspec.Struct):
    title: Title | UnsetType = UNSET
    starts_at: datetime | UnsetType = UNSET
    place: Annotated[str, msgspec.Meta(max_length=300)] | UnsetType = UNSET
    description: Text | UnsetType = UNSET
    secretary_id: int | None | UnsetType = UNSET  # thư ký kỳ họp; null: who created it
    chair_id: int | None | UnsetType = UNSET  # the participant who presides; null: nobody


class ParticipantIn(msgspec.Struct):
    """One person, by account id (the picker) or by username; a blank seat is the roster's."""

    role: str
    username: Annotated[str, msgspec.Meta(max_length=64)] = ""
    user_id: int | None = None
    seat: Annotated[str, msgspec.Meta(max_length=32)] = ""
    vote_weight: int = 1


class RosterIn(msgspec.Struct):
    """The whole roster of the meeting's council, or one group of it."""

    group: Annotated[str, msgspec.Meta(max_length=200)] = ""
    role: str = "delegate"


class CopyIn(msgspec.Struct):
    """Left out: the title marked as a copy, the same date."""

    title: Annotated[str, msgspec.Meta(max_length=300)] = ""
    starts_at: datetime | None = None


class ItemIn(msgspec.Struct):
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    parent_id: int | None = None
    position: Annotated[int, msgspec.Meta(ge=0)] | None = None
    presenter: Annotated[str, msgspec.Meta(max_length=200)] = ""
    duration_minutes: int | None = None
    notes: Text = ""


class ItemPatch(msgspec.Struct):
    """Fields left out stay as they are; `parent_id: null` moves the item to the top level."""

    title: Annotated[str, msgspec.Meta(min_length=1, max_length=500)] | UnsetType = UNSET
    parent_id: int | None | UnsetType = UNSET
    position: Annotated[int, msgspec.Meta(ge=0)] | UnsetType = UNSET
    presenter: Annotated[str, msgspec.Meta(max_length=200)] | UnsetType = UNSET
    duration_minutes: int | None | UnsetType = UNSET
    notes: Text | UnsetType = UNSET


def given(patch: msgspec.Struct) -> dict[str, Any]:
    """The fields a PATCH body actually carried."""
    return {
        name: value
        for name in patch.__struct_fields__
        if (value := getattr(patch, name)) is not UNSET
    }


class MeetingFields(TypedDict):
    id: int | None
    title: str
    place: str
    starts_at: str
    description: str
    status: str
    body_id: int
    secretary_id: int | None


class MeetingOut(MeetingFields, total=False):
    body: BodyOut


class ItemOut(TypedDict):
    id: int | None
    number: str | None
    title: str
    parent_id: int | None
    position: int
    presenter: str
    duration_minutes: int | None
    notes: str


class ItemTreeOut(ItemOut):
    documents: list[DocumentOut]
    children: list[ItemTreeOut]


class ParticipantOut(TypedDict):
    user_id: int | None
    username: str
    full_name: str
    title: str
    role: str
    seat: str
    vote_weight: int


class MeetingView(MeetingOut):
    """The meeting with its agenda tree, papers and people, as its participant may see it."""

    your_role: str | None
    can: dict[str, bool]
    items: list[ItemTreeOut]
    documents: list[DocumentOut]
    participants: list[ParticipantOut]


class PersonFound(TypedDict):
    user_id: int | None
    username: str
    full_name: str
    title: str
    group: str | None
    seat: str | None
    taking_part: bool


def meeting_json(meeting: Meeting, body: Body | None = None) -> MeetingOut:
    data: MeetingOut = {
        "id": meeting.id,
        "title": meeting.title,
        "place": meeting.place,
        "starts_at": meeting.starts_at.isoformat(),
        "description": meeting.description,
        "status": meeting.status,
        "body_id": meeting.body_id,
        "secretary_id": meeting.secretary_id or meeting.created_by,
    }
    if body is not None:
        data["body"] = body_json(body)
    return data


def item_json(item: AgendaItem, number: str | None = None) -> ItemOut:
    return {
        "id": item.id,
        "number": number,
        "title": item.title,
        "parent_id": item.parent_id,
        "position": item.position,
        "presenter": item.presenter,
        "duration_minutes": item.duration_minutes,
        "notes": item.notes,
    }


def participant_json(participant: Participant, user: User) -> ParticipantOut:
    return {
        "user_id": user.id,
        "username": user.username,
        "full_name": user.full_name,
        "title": user.title,
        "role": participant.role,
        "seat": participant.seat,
        "vote_weight": participant.vote_weight,
    }


def _tree_json(tree: list[dict[str, Any]], documents: dict) -> list[ItemTreeOut]:
    return [
        {
            **item_json(node["item"], node["number"]),
            "documents": [document_json(d) for d in documents.get(node["item"].id, [])],
            "children": _tree_json(node["children"], documents),
        }
        for node in tree
    ]


@get("/meetings", guards=[signed_in])
async def list_meetings(request: Request, db: NamedDependency[AsyncSession]) -> list[MeetingOut]:
    return [meeting_json(m) for m in await rules.meetings_for(db, request.user)]


@post("/meetings", guards=[account_role(Role.admin, Role.secretary)], status_code=HTTP_201_CREATED)
async def create_meeting(
    request: Request, db: NamedDependency[AsyncSession], state: House, data: JSONBody[MeetingIn]
) -> MeetingOut:
    fields = msgspec.structs.asdict(data)
    fields["starts_at"] = rules.on_council_clock(data.starts_at, state.settings.tz)
    meeting = await rules.create_meeting(db, request.user, **fields)
    return meeting_json(meeting)


@get("/meetings/{meeting_id:int}", guards=[meeting_permission], opt={"permission": "view"})
async def get_meeting(
    request: Request, db: NamedDependency[AsyncSession], meeting_id: FromPath[int]
) -> MeetingView:
    access: MeetingAccess = request.state.access
    view = await rules.meeting_view(db, access)
    return {
        **meeting_json(view["meeting"], view["body"]),
        "your_role": access.role,
        "can": {p: access.can(p) for p in ("manage", "preside", "vote", "speak")},
        "items": _tree_json(view["tree"], view["documents"]),
        "documents": [document_json(d) for d in view["documents"].get(None, [])],
        "participants": [participant_json(p, u) for p, u in view["participants"]],
    }


@patch("/meetings/{meeting_id:int}", guards=[meeting_permission], opt={"permission": "manage"})
async def patch_meeting(
    db: NamedDependency[AsyncSession],
    state: House,
    meeting_id: FromPath[int],
    data: JSONBody[MeetingPatch],
) -> MeetingOut:
    changes = given(data)
    if "starts_at" in changes:
        changes["starts_at"] = rules.on_council_clock(changes["starts_at"], state.settings.tz)
    meeting = await db.get_one(Meeting, meeting_id)
    if "secretary_id" in changes:
        await rules.check_secretary(db, meeting, changes["secretary_id"])
    if "chair_id" in changes:
        await setup.set_chair(db, meeting, changes.pop("chair_id"))
        state.rights.changed()
    return meeting_json(await rules.update_meeting(db, meeting, changes))


@post(
    "/meetings/{meeting_id:int}/participants",
    guards=[meeting_permission],
    opt={"permission": "manage"},
    status_code=HTTP_201_CREATED,
)
async def add_participant(
    db: NamedDependency[AsyncSession],
    state: House,
    meeting_id: FromPath[int],
    data: JSONBody[ParticipantIn],
) -> ParticipantOut:
    meeting = await db.get_one(Meeting, meeting_id)
    participant, user = await rules.add_participant(db, meeting, **msgspec.structs.asdict(data))
    state.rights.changed()
    return participant_json(participant, user)


@post(
    "/meetings/{meeting_id:int}/roster",
    guards=[meeting_permission],
    opt={"permission": "manage"},
    status_code=HTTP_200_OK,
)
async def add_roster(
    db: NamedDependency[AsyncSession],
    state: House,
    meeting_id: FromPath[int],
    data: JSONBody[RosterIn],
) -> dict[str, int]:
    meeting = await db.get_one(Meeting, meeting_id)
    done = await setup.add_roster(db, meeting, group=data.group, role=data.role)
    state.rights.changed()
    return done.json()


@get("/meetings/{meeting_id:int}/people", guards=[meeting_permission], opt={"permission": "manage"})
async def find_people(
    db: NamedDependency[AsyncSession], meeting_id: FromPath[int], q: FromQuery[str] = ""
) -> list[PersonFound]:
    meeting = await db.get_one(Meeting, meeting_id)
    return [
        {
            "user_id": f.user.id,
            "username": f.user.username,
            "full_name": f.user.full_name,
            "title": f.user.title,
            "group": f.member.group if f.member else None,
            "seat": f.member.seat if f.member else None,
            "taking_part": f.taking_part,
        }
        for f in await setup.find_people(db, meeting, q[:100])
    ]


@post(
    "/meetings/{meeting_id:int}/copy",
    guards=[meeting_permission],
    opt={"permission": "manage"},
    status_code=HTTP_201_CREATED,
)
async def copy_meeting(
    request: Request,
    db: NamedDependency[AsyncSession],
    state: House,
    meeting_id: FromPath[int],
    data: JSONBody[CopyIn],
) -> MeetingOut:
    access: MeetingAccess = request.state.access
    starts_at = data.starts_at or access.meeting.starts_at
    copy = await setup.copy_meeting(
        db,
        request.user,
        access,
        title=data.title or translate(request, "{title} (copy)", title=access.meeting.title),
        starts_at=rules.on_council_clock(starts_at, state.settings.tz),
    )
    return meeting_json(copy)


@delete(
    "/meetings/{meeting_id:int}/participants/{user_id:int}",
    guards=[meeting_permission],
    opt={"permission": "manage"},
    status_code=HTTP_204_NO_CONTENT,
)
async def remove_participant(
    db: NamedDependency[AsyncSession],
    state: House,
    meeting_id: FromPath[int],
    user_id: FromPath[int],
) -> None:
    await rules.remove_participant(db, await db.get_one(Meeting, meeting_id), user_id)
    state.rights.changed()  # their sockets and page requests stop now, on every server


@post(
    "/meetings/{meeting_id:int}/items",
    guards=[meeting_permission],
    opt={"permission": "manage"},
    status_code=HTTP_201_CREATED,
)
async def add_item(
    db: NamedDependency[AsyncSession], meeting_id: FromPath[int], data: JSONBody[ItemIn]
) -> ItemOut:
    meeting = await db.get_one(Meeting, meeting_id)
    item = await rules.add_item(db, meeting, **msgspec.structs.asdict(data))
    return item_json(item)


async def _item(db: AsyncSession, item_id: int) -> AgendaItem:
    item = await db.get(AgendaItem, item_id)
    if item is None:
        raise not_found("agenda item")
    return item


@patch("/items/{item_id:int}", guards=[meeting_permission], opt={"permission": "manage"})
async def patch_item(
    db: NamedDependency[AsyncSession], item_id: FromPath[int], data: JSONBody[ItemPatch]
) -> ItemOut:
    item = await rules.update_item(db, await _item(db, item_id), given(data))
    return item_json(item)


@delete(
    "/items/{item_id:int}",
    guards=[meeting_permission],
    opt={"permission": "manage"},
    status_code=HTTP_204_NO_CONTENT,
)
async def delete_item(db: NamedDependency[AsyncSession], item_id: FromPath[int]) -> None:
    await rules.delete_item(db, await _item(db, item_id))


router = Router(
    path="/api",
    route_handlers=[
        list_meetings,
        create_meeting,
        get_meeting,
        patch_meeting,
        add_participant,
        add_roster,
        find_people,
        copy_meeting,
        remove_participant,
        add_item,
        patch_item,
        delete_item,
    ],
    tags=["meetings"],
)
