"""Votes (biểu quyết): one ballot per voter, nothing after the close, secret means secret,
and the result is computed once, in the closing transaction, and kept."""

from __future__ import annotations

from server.votes.api import LIVE, router
from server.votes.desk import Votes
from server.votes.rules import VOTERS, chosen_options, decide, needed
from server.votes.store import locked_vote, options_of

__all__ = [
    "VOTERS",
    "LIVE",
    "Votes",
    "chosen_options",
    "decide",
    "locked_vote",
    "needed",
    "options_of",
    "router",
]
