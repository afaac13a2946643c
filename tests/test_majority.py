"""The law's majorities: more than half of ALL delegates of an HĐND by default, two thirds for
dismissal and for a session's quorum, hand-counted and paper votes decided by the same rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from server import council
from server.attendance import quorum
from server.models import Attendance, Body, JournalEvent, Meeting, Participant, Vote
from server.votes import decide, needed
from tests.live import Tablet, close_all

YES_NO = ("yes", "no", "abstain")


def rule(threshold="half", base="members", kind="yes_no_abstain", quorum=None):
    return Vote(
        meeting_id=1, title="x", kind=kind, majority_base=base, threshold=threshold, quorum=quorum
    )


@pytest.mark.parametrize(
    ("threshold", "members", "least"),
    [
        ("half", 30, 16),  # more than half of 30: 15 is exactly half, not more
        ("half", 31, 16),
        ("half", 1, 1),
        ("half", 2, 2),
        ("two_thirds", 30, 20),
        ("two_thirds", 31, 21),  # 20.67 rounds up
        ("two_thirds", 29, 20),  # 19.33 rounds up
        ("two_thirds", 3, 2),
        ("three_quarters", 30, 23),  # 22.5 rounds up
        ("three_quarters", 4, 3),
        ("0.6", 30, 18),
    ],
)
def test_votes_needed_at_every_edge(threshold, members, least):
    vote = rule(threshold)
    assert needed(vote, members) == least
    tally = {"yes": least, "no": 0, "abstain": 0}
    assert decide(vote, tally, members, least)["passed"]
    tally["yes"] = least - 1
    assert not decide(vote, tally, members, members)["passed"]


def test_more_than_half_of_all_delegates_is_not_more_than_half_of_votes_cast():
    """15 of 30 in favour, 2 against, the rest silent: passed on votes cast, not by law."""
    tally = {"yes": 15, "no": 2, "abstain": 0}
    assert decide(rule(base="cast"), tally, 17, 17)["passed"]
    assert not decide(rule(base="members"), tally, 30, 17)["passed"]


@pytest.mark.parametrize(
    ("kind", "members", "least"),
    [
        ("hdnd", 30, 20),
        ("hdnd", 29, 20),
        ("hdnd", 31, 21),
        ("hdnd", 3, 2),
        ("ubnd", 30, 16),
        ("ubnd", 31, 16),
        ("ubnd", 2, 2),
    ],
)
def test_quorum_of_a_session_at_every_edge(kind, members, least):
    membership = council.Membership(kind, members, members)
    people = [{"role": "delegate", "status": "present"}] * (least - 1)
    people += [{"role": "delegate", "status": "absent"}] * (members - least + 1)
    short = quorum(people, membership)
    assert (short["needed"], short["members"], short["met"]) == (least, members, False)
    people[least - 1] = {"role": "delegate", "status": "remote"}  # online counts as present
    assert quorum(people, membership)["met"]


# --- over HTTP ------------------------------------------------------------------------------


def make_council(accounts, database, kind, members, voters):
    """A body of `kind` with `members` delegates by law, and a meeting where `voters` vote."""
    body = Body(name=f"{kind} {members}/{voters}", kind=kind, members=members)
    database.add(body)
    database.commit()
    meeting = Meeting(body_id=body.id, title="Kỳ họp", starts_at=datetime(2026, 12, 15, tzinfo=UTC))
    database.add(meeting)
    database.commit()
    accounts.join(accounts.user(f"chair{body.id}"), meeting.id, "chair")
    accounts.join(accounts.user(f"secretary{body.id}", "secretary"), meeting.id, "secretary")
    for n in range(1, voters):
        accounts.join(accounts.user(f"d{body.id}x{n:02d}"), meeting.id, "delegate")
    return body, meeting


async def create(client, meeting, **given):
    return await client.post(
        f"/api/meetings/{meeting.id}/votes", json={"title": "Nghị quyết", **given}
    )


async def test_an_hdnd_vote_defaults_to_more_than_half_of_all_delegates(client, accounts, database):
    body, meeting = make_council(accounts, database, "hdnd", 30, 21)
    await client.login(f"chair{body.id}")
    created = await create(client, meeting)
    assert created.status_code == 201, created.text
    vote = created.json()
    assert (vote["majority_base"], vote["threshold"]) == ("members", "half")
    assert vote["requirement"] == {"base": 30, "needed": 16}
    dismissal = await create(client, meeting, threshold="two_thirds")
    assert dismissal.json()["requirement"] == {"base": 30, "needed": 20}
    procedural = await create(client, meeting, majority_base="cast")
    assert procedural.json()["requirement"] == {"base": None, "needed": None}


async def test_a_ubnd_and_another_body_get_their_own_defaults(client, accounts, database):
    body, meeting = make_council(accounts, database, "ubnd", 9, 9)
    await client.login(f"chair{body.id}")
    vote = (await create(client, meeting)).json()
    assert (vote["majority_base"], vote["requirement"]) == ("members", {"base": 9, "needed": 5})
    other, meeting = make_council(accounts, database, "other", None, 5)
    await client.login(f"chair{other.id}")
    vote = (await create(client, meeting)).json()
    assert vote["majority_base"] == "cast"


@pytest.mark.parametrize(
    ("members", "voters", "given", "code"),
    [
        (30, 15, {}, "rule_unreachable"),  # 16 of 30 needed, 15 can vote
        (30, 19, {"threshold": "two_thirds"}, "rule_unreachable"),  # 20 needed
        (30, 21, {"quorum": 22}, "quorum_unreachable"),
        (30, 31, {}, "members_exceeded"),  # more voters than the council has members
    ],
)
async def test_a_rule_the_council_cannot_meet_is_refused(
    client, accounts, database, members, voters, given, code
):
    body, meeting = make_council(accounts, database, "hdnd", members, voters)
    await client.login(f"chair{body.id}")
    refused = await create(client, meeting, **given)
    assert refused.status_code in (400, 409)
    assert refused.json()["code"] == code
    assert database.exec(select(Vote).where(Vote.meeting_id == meeting.id)).all() == []


async def test_the_edge_that_can_just_be_met_is_accepted(client, accounts, database):
    body, meeting = make_council(accounts, database, "hdnd", 30, 20)
    await client.login(f"chair{body.id}")
    created = await create(client, meeting, threshold="two_thirds", quorum=20)
    assert created.status_code == 201, created.text


async def test_a_rule_that_became_unreachable_is_refused_at_the_opening(client, accounts, database):
    body, meeting = make_council(accounts, database, "hdnd", 30, 16)
    await client.login(f"chair{body.id}")
    vote = (await create(client, meeting)).json()
    gone = database.exec(select(Participant).where(Participant.role == "delegate")).first()
    database.delete(gone)
    database.commit()
    refused = await client.post(f"/api/votes/{vote['id']}/open")
    assert refused.json()["code"] == "rule_unreachable"
    assert database.get(Vote, vote["id"]).status == "draft"


# --- hand-counted and paper votes -----------------------------------------------------------


async def hand_vote(client, meeting, **given):
    created = await create(client, meeting, method="hands", **given)
    assert created.status_code == 201, created.text
    return created.json()


async def test_a_show_of_hands_is_counted_by_hand_and_decided_by_the_same_rule(
    client, new_client, accounts, database
):
    body, meeting = make_council(accounts, database, "hdnd", 30, 21)
    await client.login(f"chair{body.id}")
    vote = await hand_vote(client, meeting)
    opened = await client.post(f"/api/votes/{vote['id']}/open")
    assert opened.status_code == 200, opened.text
    tablet = await new_client()
    await tablet.login(f"d{body.id}x01")
    ballot = await tablet.post(f"/api/votes/{vote['id']}/ballots", json={"option": "yes"})
    assert ballot.json()["code"] == "counted_by_hand"
    closed = await client.post(f"/api/votes/{vote['id']}/close")
    assert closed.json()["code"] == "counts_needed"
    not_counter = await tablet.post(
        f"/api/votes/{vote['id']}/count", json={"counts": {"yes": 15, "no": 2, "abstain": 4}}
    )
    assert not_counter.status_code == 403
    counted = await client.post(
        f"/api/votes/{vote['id']}/count", json={"counts": {"yes": 15, "no": 2, "abstain": 4}}
    )
    assert counted.status_code == 200, counted.text
    result = counted.json()["result"]
    assert (result["passed"], result["needed"], result["base"], result["voters"]) == (
        False,
        16,
        30,
        21,
    )
    assert result["method"] == "hands"
    assert result["counted_by"]["name"] == f"Chair{body.id}"
    event = database.exec(
        select(JournalEvent).where(
            JournalEvent.meeting_id == meeting.id, JournalEvent.type == "vote.closed"
        )
    ).one()
    assert event.payload["vote"]["result"]["counted_by"]["name"] == f"Chair{body.id}"
    again = await client.post(
        f"/api/votes/{vote['id']}/count", json={"counts": {"yes": 21, "no": 0, "abstain": 0}}
    )
    assert again.json()["code"] == "vote_closed"
    assert database.get(Vote, vote["id"]).result["tally"]["yes"] == 15


@pytest.mark.parametrize(
    ("counts", "extra", "code"),
    [
        ({"yes": 20, "no": 2, "abstain": 0}, {}, "too_many_counted"),  # 22 hands, 21 voters
        ({"yes": 16, "no": 2}, {}, "bad_counts"),  # an option left out
        ({"yes": 16, "no": 2, "abstain": 0, "maybe": 1}, {}, "bad_counts"),
        ({"yes": 16, "no": 2, "abstain": 0}, {"voters": 19}, "counts_mismatch"),
        ({"yes": -1, "no": 2, "abstain": 0}, {}, None),  # refused by the schema
    ],
)
async def test_counts_that_do_not_fit_are_refused_and_change_nothing(
    client, accounts, database, counts, extra, code
):
    body, meeting = make_council(accounts, database, "hdnd", 30, 21)
    await client.login(f"chair{body.id}")
    vote = await hand_vote(client, meeting)
    refused = await client.post(f"/api/votes/{vote['id']}/count", json={"counts": counts, **extra})
    assert refused.status_code == 400
    if code:
        assert refused.json()["code"] == code
    database.expire_all()
    stored = database.get(Vote, vote["id"])
    assert (stored.status, stored.result) == ("draft", None)


async def test_the_chair_names_a_delegate_to_count_a_paper_ballot(
    client, new_client, accounts, database
):
    body, meeting = make_council(accounts, database, "hdnd", 30, 21)
    await client.login(f"chair{body.id}")
    counter = database.exec(
        select(Participant).where(
            Participant.meeting_id == meeting.id, Participant.role == "delegate"
        )
    ).first()
    created = await create(
        client,
        meeting,
        method="paper",
        secret=True,
        kind="election",
        options=["Nguyễn Văn A", "Trần Thị B", "Lê Văn C"],
        max_choices=2,
        counted_by=counter.user_id,
    )
    assert created.status_code == 201, created.text
    vote = created.json()
    head = await new_client()
    await head.login(f"d{body.id}x01")
    missing = await head.post(
        f"/api/votes/{vote['id']}/count", json={"counts": {"o1": 18, "o2": 15, "o3": 5}}
    )
    assert missing.json()["code"] == "voters_needed"
    over = await head.post(
        f"/api/votes/{vote['id']}/count",
        json={"counts": {"o1": 20, "o2": 15, "o3": 9}, "voters": 20},
    )
    assert over.json()["code"] == "counts_mismatch"  # 44 choices on 20 ballots of two
    counted = await head.post(
        f"/api/votes/{vote['id']}/count",
        json={"counts": {"o1": 18, "o2": 15, "o3": 5}, "voters": 20},
    )
    assert counted.status_code == 200, counted.text
    result = counted.json()["result"]
    assert result["chosen"] == ["o1"]  # 18 of 30 elected; 15 is not more than half of all
    assert result["method"] == "paper"
    assert "named" not in result


async def test_a_show_of_hands_cannot_be_secret(client, accounts, database):
    body, meeting = make_council(accounts, database, "hdnd", 30, 21)
    await client.login(f"chair{body.id}")
    refused = await create(client, meeting, method="hands", secret=True)
    assert refused.json()["code"] == "hands_secret"
    unknown = await create(client, meeting, method="telepathy")
    assert unknown.json()["code"] == "bad_method"
    stranger = accounts.user(f"stranger{body.id}")
    outside = await create(client, meeting, method="hands", counted_by=stranger.id)
    assert outside.json()["code"] == "bad_counter"


async def test_the_quorum_banner_counts_against_all_delegates_of_the_council(
    served, accounts, database
):
    body, meeting = make_council(accounts, database, "hdnd", 30, 21)
    members = database.exec(
        select(Participant).where(
            Participant.meeting_id == meeting.id, Participant.role.in_(("chair", "delegate"))
        )
    ).all()
    for person in members[:19]:
        database.add(Attendance(meeting_id=meeting.id, user_id=person.user_id, status="present"))
    database.commit()
    tablet = await (await Tablet(served, f"chair{body.id}").sign_in()).connect(meeting.id)
    try:
        snapshot = await tablet.answer(await tablet.send("hello", since=None), within=60)
        if snapshot.get("type") != "snapshot":
            snapshot = await tablet.until(lambda m: m.get("type") == "snapshot", within=60)
        banner = snapshot["state"]["attendance"]["quorum"]
        assert (banner["present"], banner["members"], banner["needed"], banner["met"]) == (
            19,
            30,
            20,
            False,
        )
    finally:
        await close_all(tablet)


# --- the council's kind and size, the meeting's secretary --------------------------------


async def test_an_admin_sets_the_council_kind_and_size_within_what_its_meetings_hold(
    client, new_client, accounts, database
):
    body, meeting = make_council(accounts, database, "other", None, 21)
    accounts.user("quantri", "admin")
    await client.login("quantri")
    changed = await client.patch(
        f"/api/bodies/{body.id}", json={"kind": "hdnd", "members": 30, "term": "2026–2031"}
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["kind"], changed.json()["members"]) == ("hdnd", 30)
    for bad, code in (({"kind": "quochoi"}, "bad_body_kind"), ({"members": 20}, "members_too_few")):
        refused = await client.patch(f"/api/bodies/{body.id}", json=bad)
        assert refused.json()["code"] == code
    zero = await client.patch(f"/api/bodies/{body.id}", json={"members": 0})
    assert zero.status_code == 400
    database.expire_all()
    stored = database.get(Body, body.id)
    assert (stored.kind, stored.members) == ("hdnd", 30)
    delegate = await new_client()
    await delegate.login(f"d{body.id}x01")
    forbidden = await delegate.patch(f"/api/bodies/{body.id}", json={"members": 40})
    assert forbidden.status_code == 403
    assert (await delegate.get(f"/api/bodies/{body.id}")).json()["members"] == 30


async def test_a_meeting_names_its_secretary(client, accounts, database):
    body, meeting = make_council(accounts, database, "hdnd", 30, 21)
    writer = accounts.user("thukyrieng", "secretary", full_name="Lê Thị Thư")
    await client.login(f"secretary{body.id}")
    named = await client.patch(f"/api/meetings/{meeting.id}", json={"secretary_id": writer.id})
    assert named.status_code == 200, named.text
    assert named.json()["secretary_id"] == writer.id
    delegate = database.exec(select(Participant).where(Participant.role == "delegate")).first()
    refused = await client.patch(
        f"/api/meetings/{meeting.id}", json={"secretary_id": delegate.user_id}
    )
    assert refused.json()["code"] == "bad_secretary"
    database.expire_all()
    assert database.get(Meeting, meeting.id).secretary_id == writer.id
