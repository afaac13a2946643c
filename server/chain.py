"""The journal's hash chain: each event of a meeting carries the SHA-256 of the one before it
and of its own fields, so a row changed, removed or moved in the database shows.

Pure functions only (no models, no sessions, no server imports): the migration that fills
the hashes of old events and the journal that writes new ones use the same code.

    hash(event) = sha256_hex(previous event's hash, or "" for the first
                             + canonical JSON of {meeting_id, seq, type, payload,
                                                  actor_id, private_to, at})

Canonical JSON: sorted keys, no spaces, UTF-8 as is; `at` in UTC as
"YYYY-MM-DDTHH:MM:SS.ffffffZ".
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec

GENESIS = ""
SHORT = 16  # hex digits shown to people (64 bits)


def utc_text(at: datetime) -> str:
    """The moment in UTC, microseconds always written (a naive value is taken as UTC)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(fields: dict[str, Any]) -> str:
    """Sorted keys, no spaces, UTF-8 as is; values first read back as the database keeps
    JSON (msgspec, as server/db.py: a datetime or UUID in a payload is hashed as its text)."""
    plain = msgspec.json.decode(msgspec.json.encode(fields))
    return json.dumps(plain, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(
    previous: str,
    meeting_id: int,
    seq: int,
    type: str,
    payload: Any,
    actor_id: int | None,
    private_to: int | None,
    at: datetime,
) -> str:
    fields = {
        "meeting_id": meeting_id,
        "seq": seq,
        "type": type,
        "payload": payload,
        "actor_id": actor_id,
        "private_to": private_to,
        "at": utc_text(at),
    }
    return hashlib.sha256((previous + canonical(fields)).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Row:
    """One stored event as the chain reads it."""

    meeting_id: int
    seq: int
    type: str
    payload: Any
    actor_id: int | None
    private_to: int | None
    at: datetime
    hash: str

    def expected(self, previous: str) -> str:
        return event_hash(
            previous,
            self.meeting_id,
            self.seq,
            self.type,
            self.payload,
            self.actor_id,
            self.private_to,
            self.at,
        )


@dataclass(frozen=True)
class Break:
    """Where a chain stops holding: the first bad `seq` and what is wrong there."""

    seq: int
    problem: str  # changed | missing | reordered | extra
    detail: str


@dataclass(frozen=True)
class Verdict:
    meeting_id: int
    events: int
    head_seq: int
    head_hash: str
    last_seq: int | None  # what the meeting row says, when known
    broken: Break | None

    @property
    def holds(self) -> bool:
        return self.broken is None


def verify(meeting_id: int, rows: Iterable[Row], last_seq: int | None = None) -> Verdict:
    """Walks `rows` (the meeting's events ordered by seq) and says whether the chain holds.

    - a missing seq (a row deleted) is "missing" at the first absent number;
    - a row whose stored hash matches the chain at another place (two rows' seq swapped) is
      "reordered";
    - any other mismatch (payload, type, time, actor edited; hash rewritten) is "changed";
    - fewer events than the meeting's `last_seq` says: the tail was cut ("missing").
    """
    previous = GENESIS
    count, head_seq, head_hash = 0, 0, GENESIS
    listed = list(rows)

    def verdict(broken: Break | None) -> Verdict:
        return Verdict(meeting_id, count, head_seq, head_hash, last_seq, broken)

    for row in listed:
        expected_seq = head_seq + 1
        if row.seq > expected_seq:
            return verdict(Break(expected_seq, "missing", f"event #{expected_seq} is missing"))
        if row.seq < expected_seq:  # a repeated number cannot be stored (unique), but say so
            return verdict(Break(row.seq, "reordered", f"event #{row.seq} comes twice"))
        want = row.expected(previous)
        if row.hash != want:
            moved = _moved(row, previous, listed)
            if moved is None:
                return verdict(Break(row.seq, "changed", f"event #{row.seq} does not match"))
            return verdict(
                Break(row.seq, "reordered", f"event #{row.seq} holds what was event #{moved}")
            )
        previous = want
        count += 1
        head_seq, head_hash = row.seq, row.hash
    if last_seq is not None and last_seq > head_seq:
        return verdict(Break(head_seq + 1, "missing", f"event #{head_seq + 1} is missing"))
    return verdict(None)


def _moved(row: Row, previous: str, listed: list[Row]) -> int | None:
    """The seq this row's content was hashed at, when only its number was changed (two
    rows' seq swapped): its content hashed as another seq, after a hash stored near there
    or near its new place, gives its own stored hash."""
    by_seq = {r.seq: r for r in listed}
    near = {previous} | {by_seq[s].hash for s in (row.seq - 1, row.seq, row.seq + 1) if s in by_seq}
    for other in listed:
        if other.seq == row.seq:
            continue
        befores = set(near)
        for s in (other.seq - 1, other.seq):
            if s in by_seq:
                befores.add(by_seq[s].hash)
        if other.seq == 1:
            befores = {GENESIS}
        for before in befores:
            candidate = event_hash(
                before,
                row.meeting_id,
                other.seq,
                row.type,
                row.payload,
                row.actor_id,
                row.private_to,
                row.at,
            )
            if candidate == row.hash:
                return other.seq
    return None
