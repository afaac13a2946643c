"""The meeting socket is wired by `create_app` from each capability's `LIVE`, not by imports:
a capability left out of the list is not on the socket, and a name given twice stops the start."""

from __future__ import annotations

import pytest

from server import app as application
from server.live.protocol import Command, Live, Part, Protocol, SharedPart


async def _nothing(*args):  # type: ignore[no-untyped-def]
    return None


def test_a_command_given_by_two_capabilities_is_refused_at_start():
    twice = [Live(commands=[Command("page.present", _nothing)])] * 2
    with pytest.raises(ValueError, match="page.present is given twice"):
        Protocol(twice)


def test_a_snapshot_part_and_a_shared_part_cannot_share_a_name():
    live = Live(parts=[Part("vote", _nothing)], shared_parts=[SharedPart("vote", _nothing)])
    with pytest.raises(ValueError, match="vote is given twice"):
        Protocol([live])


def test_the_socket_knows_only_what_create_app_gathers(settings, database):
    served = application.create_app(settings)
    protocol = served.state.protocol
    assert {"page.present", "vote.cast", "speaker.request", "annotation.put"} <= set(
        protocol.commands
    )
    assert [p.name for p in protocol.shared_parts] == [
        "attendance",
        "meeting",
        "presented",
        "speakers",
    ]
    assert protocol.commands["vote.cast"].permission == "vote"

    without_votes = Protocol(
        live for live in application.LIVE if live is not application.votes.LIVE
    )
    assert "vote.cast" not in without_votes.commands
    assert "vote" not in [p.name for p in without_votes.parts]
