"""Votes (biểu quyết): one ballot per voter, nothing after the close, secret means secret,
and the result is computed once, in the closing transaction, and kept."""

from __future__ import annotations

from server.votes.api import router
from server.votes.box import BallotBoxes
from server.votes.clock import VoteClock
from server.votes.rules import VOTERS, chosen_options, decide, needed
from server.votes.store import locked_vote, options_of

__all__ = [
    "VOTERS",
    "BallotBoxes",
    "VoteClock",
    "chosen_options",
    "decide",
    "locked_vote",
    "needed",
    "options_of",
    "router",
]
