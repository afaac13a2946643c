"""The tablet protocol: commands by name, the role each needs, and the errors they answer.

Capability modules register their commands here with `@command(...)`; the socket route
looks them up. A command gets the tablet's `Session` and the message, and returns extra
fields for its `ack` (or None), or raises `Refusal`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from server.access import MeetingAccess
from server.ids import ID_MAX
from server.live.hub import Connection, Hub
from server.models import User


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

    state: Any  # the app's state: db, hub, settings...
    meeting_id: int
    user: User
    connection: Connection
    language: str = "vi"
    following: bool = True
    seen_ids: set[str] = field(default_factory=set)

    @property
    def hub(self) -> Hub:
        return self.state.hub

    @property
    def access(self) -> MeetingAccess:
        """The socket's rights now: `server.live.rights` keeps them in step with the roster."""
        return self.connection.access


Handler = Callable[[Session, dict[str, Any]], Awaitable[dict[str, Any] | None]]


@dataclass(frozen=True)
class Command:
    permission: str
    handler: Handler


COMMANDS: dict[str, Command] = {}
Hook = Callable[["Session"], Awaitable[None]]
CONNECT_HOOKS: list[Hook] = []  # after a tablet joins (attendance, presence)
DISCONNECT_HOOKS: list[Hook] = []


def command(name: str, permission: str = "view") -> Callable[[Handler], Handler]:
    """Registers `handler` for messages of type `name`, allowed to holders of `permission`."""

    def register(handler: Handler) -> Handler:
        COMMANDS[name] = Command(permission, handler)
        return handler

    return register


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
