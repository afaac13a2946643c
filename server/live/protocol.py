"""The tablet protocol: commands by name, the role each needs, and the errors they answer.

Each capability that speaks on the socket exports one `Live`: its commands, its parts of the
snapshot, what it does when a tablet comes and goes. `create_app` gathers them into one
`Protocol`, which the socket route and the snapshots read. A command gets the tablet's
`Session` and the message, and returns extra fields for its `ack` (or None), or raises
`Refusal`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from sqlmodel.ext.asyncio.session import AsyncSession

from server.access import MeetingAccess
from server.ids import ID_MAX
from server.live.hub import Connection, Hub
from server.models import User

if TYPE_CHECKING:
    from server.house import House


class Refusal(Exception):
    """An `error` answer: `code` for programs, `message` (English msgid) for people."""

    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.params = params


@dataclass
class Session:
    """One tablet's socket in one meeting, as commands see it."""

    state: House
    meeting_id: int
    user: User
    connection: Connection
    language: str = "vi"
    following: bool = True
    seen_ids: set[str] = field(default_factory=set)

    @property
    def user_id(self) -> int:
        return cast(int, self.user.id)  # a stored account always has one

    @property
    def hub(self) -> Hub:
        return self.state.hub

    @property
    def access(self) -> MeetingAccess:
        """The socket's rights now: `server.live.rights` keeps them in step with the roster."""
        return self.connection.access


Handler = Callable[[Session, dict[str, Any]], Awaitable[dict[str, Any] | None]]
Hook = Callable[[Session], Awaitable[None]]
Reader = Callable[[AsyncSession, Session, int], Awaitable[Any]]  # (db, tablet, journal position)
SharedReader = Callable[[AsyncSession, "House", int], Awaitable[Any]]  # (db, state, meeting)


@dataclass(frozen=True)
class Command:
    """Messages of type `name`, handled by `handler`, allowed to holders of `permission`."""

    name: str
    handler: Handler
    permission: str = "view"


@dataclass(frozen=True)
class Part:
    """`state[name]` of the snapshot, read for one tablet."""

    name: str
    read: Reader


@dataclass(frozen=True)
class SharedPart:
    """`state[name]` of the snapshot, of the meeting alone: alike for every tablet."""

    name: str
    read: SharedReader


@dataclass(frozen=True)
class Live:
    """What one capability adds to the meeting socket."""

    commands: Sequence[Command] = ()
    parts: Sequence[Part] = ()
    shared_parts: Sequence[SharedPart] = ()
    on_connect: Sequence[Hook] = ()  # after a tablet joins (attendance, presence)
    on_disconnect: Sequence[Hook] = ()


class Protocol:
    """The capabilities' `Live`s together; a name given twice is a mistake caught at start."""

    def __init__(self, capabilities: Iterable[Live]) -> None:
        lives = list(capabilities)
        self.commands = _by_name(c for live in lives for c in live.commands)
        self.parts = list(_by_name(p for live in lives for p in live.parts).values())
        self.shared_parts = list(_by_name(p for live in lives for p in live.shared_parts).values())
        _by_name([*self.parts, *self.shared_parts])  # one snapshot, one namespace
        self.on_connect = [hook for live in lives for hook in live.on_connect]
        self.on_disconnect = [hook for live in lives for hook in live.on_disconnect]


def _by_name(named: Iterable[Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for thing in named:
        if thing.name in found:
            raise ValueError(f"{thing.name} is given twice")
        found[thing.name] = thing
    return found


def field_of(message: dict[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    """`message[name]`, checked to be of `kind` (bool is never taken for int)."""
    value = message.get(name)
    if isinstance(value, bool) and kind in (int, (int, float)):
        value = None
    if isinstance(value, int) and not -ID_MAX - 1 <= value <= ID_MAX:
        value = None  # no id, page or count of ours is that large
    if not isinstance(value, kind):
        raise Refusal(
            "bad_message", "The message is missing “{field}” or it is not valid.", field=name
        )
    return value
