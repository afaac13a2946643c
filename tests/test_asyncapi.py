"""docs/asyncapi.yaml names every message of the meeting socket: the commands the
capabilities register and the events the server sends, no more and no fewer."""

import ast
import re
from pathlib import Path
from typing import Any

import yaml

from server import record
from server.app import LIVE
from server.live.protocol import Live, Protocol

ROOT = Path(__file__).resolve().parent.parent
DOTTED = re.compile(r"^[a-z_]+\.[a-z_]+$")
# The handshake's own messages, answered by the socket itself (server/live/socket.py).
FLOW_IN, FLOW_OUT = {"hello"}, {"ack", "error", "snapshot"}
# Journal events whose type the code computes; a new computed type must be added here.
COMPUTED = {
    ("server/attendance.py", "kind"): {"meeting.started", "meeting.ended"},
    ("server/record.py", "f'{kind.name}.frozen'"): {
        f"{kind.name}.frozen" for kind in (record.MINUTES, record.NOTICE)
    },
}


def document() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docs" / "asyncapi.yaml").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def documented(direction: str) -> set[str]:
    doc = document()
    channel = doc["channels"]["/ws/meetings/{meeting_id}"]
    names = set()
    for ref in channel[direction]["message"]["oneOf"]:
        message = doc["components"]["messages"][ref["$ref"].rsplit("/", 1)[1]]
        names.add(message["name"])
    return names


def commands(lives: list[Live]) -> set[str]:
    return set(Protocol(lives).commands) | FLOW_IN


def sent_types() -> set[str]:
    """Journal types (literal or in COMPUTED) and `{"type": "x.y", ...}` messages in server/."""
    found, computed = set(FLOW_OUT), set()
    for path in sorted((ROOT / "server").rglob("*.py")):
        name = str(path.relative_to(ROOT))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if _is_journal_append(node):
                kind = node.args[2]  # type: ignore[attr-defined]
                if isinstance(kind, ast.Constant):
                    found.add(kind.value)
                else:
                    key = (name, ast.unparse(kind))
                    assert key in COMPUTED, f"say which types {key} may be, in COMPUTED"
                    computed.add(key)
                    found |= COMPUTED[key]
            if isinstance(node, ast.Dict):
                for key_node, value in zip(node.keys, node.values, strict=True):
                    if (
                        isinstance(key_node, ast.Constant)
                        and key_node.value == "type"
                        and isinstance(value, ast.Constant)
                        and isinstance(value.value, str)
                        and DOTTED.match(value.value)
                    ):
                        found.add(value.value)
    assert computed == set(COMPUTED), "COMPUTED names a call that is gone"
    return found


def _is_journal_append(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "append"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "journal"
    )


def test_every_command_a_tablet_may_send_is_documented() -> None:
    assert documented("publish") == commands(LIVE)


def test_every_message_the_server_sends_is_documented() -> None:
    sent = sent_types()
    assert {"page.presented", "vote.closed", "presence.changed", "minutes.frozen"} <= sent
    assert documented("subscribe") == sent


def test_a_command_added_without_a_word_in_the_document_is_caught() -> None:
    async def shout(session: Any, message: dict[str, Any]) -> None:
        return None

    from server.live.protocol import Command

    louder = [*LIVE, Live(commands=[Command("hall.shout", shout)])]
    assert commands(louder) - documented("publish") == {"hall.shout"}


def test_every_message_in_the_document_is_well_formed() -> None:
    doc = document()
    assert doc["asyncapi"].startswith("2.6")
    for key, message in doc["components"]["messages"].items():
        assert message["name"] == key
        assert "payload" in message, key
