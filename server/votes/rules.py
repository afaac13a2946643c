"""The rules of a vote, pure: kinds, bases, thresholds, methods, what a rule needs and what
passed. No database, no I/O, so a table test covers them."""

from __future__ import annotations

from datetime import datetime, timedelta
from fractions import Fraction
from typing import Annotated, Any

import msgspec

from server import council
from server.errors import AppError
from server.i18n import N_
from server.models import Vote, VoteOption

KINDS = ("yes_no_abstain", "single", "multiple", "election")
BASES = ("cast", "present", "members")
THRESHOLDS = {"half": None, "two_thirds": Fraction(2, 3), "three_quarters": Fraction(3, 4)}
METHODS = ("electronic", "hands", "paper")  # tablets, a show of hands, paper ballots
YES_NO_ABSTAIN = (
    ("yes", N_("In favour")),
    ("no", N_("Against")),
    ("abstain", N_("Abstain")),
)
VOTERS = council.VOTERS


class VoteIn(msgspec.Struct):
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    kind: str = "yes_no_abstain"
    item_id: int | None = None
    options: list[Annotated[str, msgspec.Meta(min_length=1, max_length=300)]] = []
    secret: bool = False
    majority_base: str | None = None  # None: the law's default for the body (server/council.py)
    threshold: str | None = None  # half | two_thirds | three_quarters | a fraction like "0.6"
    quorum: Annotated[int, msgspec.Meta(ge=1)] | None = None
    max_choices: Annotated[int, msgspec.Meta(ge=1)] = 1
    allow_change: bool = False
    duration_s: Annotated[int, msgspec.Meta(ge=5, le=24 * 3600)] | None = None
    method: str = "electronic"
    counted_by: int | None = None  # who enters a hand count: a participant the chair names


def parse_threshold(text: str) -> Fraction | None:
    """None means "more than half"; a fraction means "at least that share"."""
    if text in THRESHOLDS:
        return THRESHOLDS[text]
    try:
        share = Fraction(text).limit_denominator(1000)
    except (ValueError, ZeroDivisionError) as exc:
        raise _bad_threshold() from exc
    if not 0 < share <= 1:
        raise _bad_threshold()
    return share


def _bad_threshold() -> AppError:
    return AppError(
        400,
        "bad_threshold",
        "The majority must be more than half, two thirds, three quarters or a fraction.",
    )


def check(given: VoteIn) -> list[tuple[str, str]]:
    """The options of a new vote, after checking the vote's rules fit together."""
    if given.kind not in KINDS:
        raise AppError(400, "bad_kind", "Unknown kind of vote: {kind}.", kind=given.kind)
    if given.majority_base not in BASES:
        raise AppError(
            400,
            "bad_base",
            "The majority is counted on votes cast, members present or all members.",
        )
    parse_threshold(given.threshold or "")
    if given.method not in METHODS:
        raise AppError(
            400, "bad_method", "A vote is taken on the tablets, by a show of hands or on paper."
        )
    if given.secret and given.allow_change:
        raise AppError(400, "secret_change", "A secret ballot cannot be changed once cast.")
    if given.method == "hands" and given.secret:
        raise AppError(400, "hands_secret", "A show of hands cannot be secret: use paper ballots.")
    if given.kind == "yes_no_abstain":
        return list(YES_NO_ABSTAIN)
    labels = [label.strip() for label in given.options if label.strip()]
    if len(labels) < 2 or len(set(labels)) != len(labels):
        raise AppError(400, "bad_options", "Give at least two different options.")
    if given.kind in ("multiple", "election") and given.max_choices > len(labels):
        raise AppError(400, "bad_choices", "A voter cannot choose more options than there are.")
    return [(f"o{n}", label) for n, label in enumerate(labels, start=1)]


def with_defaults(given: VoteIn, kind: str) -> VoteIn:
    """The law's majority for the body where the chair left it open."""
    base, threshold = council.DEFAULT_MAJORITY.get(kind, ("cast", "half"))
    return msgspec.structs.replace(
        given,
        majority_base=given.majority_base or base,
        threshold=given.threshold or threshold,
        method=given.method or "electronic",
    )


def check_reachable(vote: Vote, membership: council.Membership) -> None:
    """Refuses a rule the meeting's voters could never meet, before anyone votes on it."""
    if membership.voters > membership.total:
        raise AppError(
            409,
            "members_exceeded",
            "This meeting has {voters} voting delegates but the council has only {total}: "
            "correct the council's total membership first.",
            voters=membership.voters,
            total=membership.total,
        )
    if vote.majority_base == "members" and needed(vote, membership.total) > membership.voters:
        raise AppError(
            400,
            "rule_unreachable",
            "This rule needs {needed} votes in favour out of {total}, but only {voters} "
            "delegates can vote in this meeting.",
            needed=needed(vote, membership.total),
            total=membership.total,
            voters=membership.voters,
        )
    if vote.quorum is not None and vote.quorum > membership.voters:
        raise AppError(
            400,
            "quorum_unreachable",
            "At least {quorum} voters are asked for, but only {voters} delegates can vote.",
            quorum=vote.quorum,
            voters=membership.voters,
        )


def deadline(vote: Vote) -> datetime | None:
    if vote.opened_at is None or not vote.duration_s:
        return None
    return vote.opened_at + timedelta(seconds=vote.duration_s)


def chosen_options(vote: Vote, options: list[VoteOption], choices: list[str]) -> list[VoteOption]:
    by_key = {o.key: o for o in options}
    limit = vote.max_choices if vote.kind in ("multiple", "election") else 1
    if not choices or len(set(choices)) != len(choices) or len(choices) > limit:
        raise AppError(400, "bad_choice", "Choose between 1 and {limit} options.", limit=limit)
    unknown = [c for c in choices if c not in by_key]
    if unknown:
        raise AppError(400, "bad_choice", "Choose between 1 and {limit} options.", limit=limit)
    return [by_key[c] for c in choices]


def needed(vote: Vote, base: int) -> int:
    """The smallest weight that meets the rule on `base`."""
    return council.at_least(parse_threshold(vote.threshold), base)


def decide(vote: Vote, tally: dict[str, int], base: int, voters: int) -> dict[str, Any]:
    """Who or what passed, against the rule and the quorum. Pure, so a table test covers it."""
    need = needed(vote, base)
    quorum_met = vote.quorum is None or voters >= vote.quorum
    meeting_rule = {key: weight >= need and base > 0 for key, weight in tally.items()}
    if vote.kind == "yes_no_abstain":
        passed = quorum_met and meeting_rule["yes"]
        return {"needed": need, "quorum_met": quorum_met, "passed": passed}
    ranked = sorted(tally, key=lambda key: -tally[key])
    limit = 1 if vote.kind == "single" else vote.max_choices
    chosen = [key for key in ranked if meeting_rule[key]][:limit]
    if vote.kind == "single" and len(ranked) > 1 and tally[ranked[0]] == tally[ranked[1]]:
        chosen = []  # a tie chooses nobody
    if not quorum_met:
        chosen = []
    return {"needed": need, "quorum_met": quorum_met, "passed": bool(chosen), "chosen": chosen}


class CountIn(msgspec.Struct):
    """A hand count: the tally committee's figures for every option."""

    counts: dict[str, Annotated[int, msgspec.Meta(ge=0, le=council.MAX_MEMBERS)]]
    voters: Annotated[int, msgspec.Meta(ge=0, le=council.MAX_MEMBERS)] | None = None
    counted_by: int | None = None


def checked_counts(vote: Vote, options: list[VoteOption], given: CountIn, eligible: int) -> int:
    """How many took part, once the counts are known to fit together; refuses them if not."""
    keys = [o.key for o in options]
    if sorted(given.counts) != sorted(keys):
        raise AppError(
            400, "bad_counts", "Give one count for every option: {keys}.", keys=", ".join(keys)
        )
    total = sum(given.counts.values())
    one_choice = vote.kind in ("yes_no_abstain", "single")
    voters = given.voters if given.voters is not None else total if one_choice else None
    if voters is None:
        raise AppError(400, "voters_needed", "Give the number of valid ballots.")
    if voters > eligible:
        raise AppError(
            400,
            "too_many_counted",
            "{voters} counted, but only {eligible} delegates may vote in this meeting.",
            voters=voters,
            eligible=eligible,
        )
    too_many = max(given.counts.values(), default=0) > voters or total > voters * vote.max_choices
    if (one_choice and total != voters) or too_many:
        raise AppError(
            400,
            "counts_mismatch",
            "The counts add up to {total}, not to the {voters} who voted.",
            total=total,
            voters=voters,
        )
    return voters
