"""Votes over real sockets: one ballot each, nothing after the close, weights, rules, secrecy."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pymupdf
import pytest
from sqlmodel import select

from server.models import Ballot, BallotCast, JournalEvent, Meeting, Participant, Vote
from server.votes import decide
from tests.live import Tablet, close_all

HTTP_JSON = {"Content-Type": "application/json"}


@pytest.fixture
def council(accounts, database):
    body = accounts.body()
    meeting = Meeting(body_id=body.id, title="Kỳ họp", starts_at=datetime(2026, 12, 15, tzinfo=UTC))
    database.add(meeting)
    database.commit()
    accounts.join(accounts.user("chutoa"), meeting.id, "chair")
    accounts.join(accounts.user("thuky", "secretary"), meeting.id, "secretary")
    accounts.join(accounts.user("khach", "observer"), meeting.id, "observer")
    accounts.user("nguoingoai")
    return meeting.id


def add_delegates(accounts, meeting_id, count, weight=1):
    for n in range(1, count + 1):
        user = accounts.user(f"db{n:03d}")
        accounts.session.add(
            Participant(meeting_id=meeting_id, user_id=user.id, role="delegate", vote_weight=weight)
        )
    accounts.session.commit()


async def device(served, username, meeting_id):
    tablet = await (await Tablet(served, username).sign_in()).connect(meeting_id)
    await tablet.answer(await tablet.send("hello", since=None), within=60)
    return tablet


async def devices(served, usernames, meeting_id):
    """Many tablets, brought in twenty at a time as a hall fills up."""
    gate = asyncio.Semaphore(20)

    async def one(username):
        async with gate:
            return await device(served, username, meeting_id)

    return await asyncio.gather(*(one(u) for u in usernames))


async def http(tablet, method, url, body=None):
    headers = {"X-CSRFToken": tablet.http.cookies["csrftoken"]}
    response = await tablet.http.request(method, url, json=body, headers=headers)
    return response


async def new_vote(chair, meeting_id, **rules):
    body = {"title": "Thông qua Nghị quyết dự toán ngân sách 2027", **rules}
    created = await http(chair, "POST", f"/api/meetings/{meeting_id}/votes", body)
    assert created.status_code == 201, created.text
    vote = created.json()
    opened = await http(chair, "POST", f"/api/votes/{vote['id']}/open")
    assert opened.status_code == 200, opened.text
    return vote["id"]


async def test_one_voter_sending_fifty_ballots_at_once_gets_one(
    served, council, accounts, database
):
    """Five tablets of one delegate and the HTTP route, all at once: one ballot is kept."""
    add_delegates(accounts, council, 1)
    chair = await device(served, "chutoa", council)
    tablets = [await device(served, "db001", council) for _ in range(5)]
    vote_id = await new_vote(chair, council)

    async def by_http(option):
        answer = await http(tablets[0], "POST", f"/api/votes/{vote_id}/ballots", {"option": option})
        return {"type": "ack" if answer.status_code == 201 else "error", **answer.json()}

    options = ("yes", "no", "abstain")
    sockets = [
        tablets[n % 5].send("vote.cast", vote_id=vote_id, option=options[n % 3]) for n in range(40)
    ]
    sent, by_route = await asyncio.gather(
        asyncio.gather(*sockets), asyncio.gather(*(by_http(options[n % 3]) for n in range(10)))
    )
    answers = [await tablets[n % 5].answer(i) for n, i in enumerate(sent)] + list(by_route)
    accepted = [a for a in answers if a["type"] == "ack"]
    assert len(accepted) == 1
    assert {a["code"] for a in answers if a["type"] != "ack"} == {"already_voted"}
    database.expire_all()
    assert len(database.exec(select(BallotCast)).all()) == 1
    assert len(database.exec(select(Ballot)).all()) == 1
    await close_all(chair, *tablets)


async def test_voters_racing_the_close_are_counted_exactly(served, council, accounts, database):
    add_delegates(accounts, council, 200)
    chair = await device(served, "chutoa", council)
    voters = await devices(served, [f"db{n:03d}" for n in range(1, 201)], council)
    vote_id = await new_vote(chair, council)
    sent = await asyncio.gather(
        *(
            v.send("vote.cast", vote_id=vote_id, option=("yes", "no")[n % 2])
            for n, v in enumerate(voters)
        )
    )
    closed = await http(chair, "POST", f"/api/votes/{vote_id}/close")
    answers = await asyncio.gather(
        *(v.answer(i, within=15) for v, i in zip(voters, sent, strict=True))
    )
    accepted = sum(1 for a in answers if a["type"] == "ack")
    refused = {a["code"] for a in answers if a["type"] == "error"}
    assert refused <= {"vote_closed"}
    result = closed.json()["result"]
    assert result["voters"] == accepted == sum(result["tally"].values())
    again = await http(chair, "POST", f"/api/votes/{vote_id}/close")
    assert again.json()["result"] == result  # closing twice changes nothing
    late = await voters[0].request("vote.cast", vote_id=vote_id, option="yes")
    assert late["code"] in ("vote_closed", "already_voted")
    database.expire_all()
    assert database.get(Vote, vote_id).result == result
    closes = database.exec(select(JournalEvent).where(JournalEvent.type == "vote.closed")).all()
    assert len(closes) == 1
    await close_all(chair, *voters)


async def test_observers_and_strangers_cannot_vote(served, council, accounts):
    add_delegates(accounts, council, 1)
    chair = await device(served, "chutoa", council)
    vote_id = await new_vote(chair, council)
    observer = await device(served, "khach", council)
    assert (await observer.request("vote.cast", vote_id=vote_id, option="yes"))[
        "code"
    ] == "forbidden"
    secretary = await device(served, "thuky", council)  # runs the meeting, is not a delegate
    assert (await secretary.request("vote.cast", vote_id=vote_id, option="yes"))[
        "code"
    ] == "forbidden"
    stranger = await Tablet(served, "nguoingoai").sign_in()
    response = await http(stranger, "POST", f"/api/votes/{vote_id}/ballots", {"option": "yes"})
    assert response.status_code == 404
    await close_all(chair, observer, secretary, stranger)


async def test_ballots_before_open_and_bad_choices_are_refused(served, council, accounts):
    add_delegates(accounts, council, 1)
    chair = await device(served, "chutoa", council)
    voter = await device(served, "db001", council)
    created = await http(chair, "POST", f"/api/meetings/{council}/votes", {"title": "Dự thảo"})
    vote_id = created.json()["id"]
    assert (await voter.request("vote.cast", vote_id=vote_id, option="yes"))[
        "code"
    ] == "vote_not_open"
    await http(chair, "POST", f"/api/votes/{vote_id}/open")
    for bad in ({"option": "maybe"}, {"options": ["yes", "no"]}, {"options": []}, {}):
        answer = await voter.request("vote.cast", vote_id=vote_id, **bad)
        assert answer["code"] == "bad_choice", bad
    by_http = await http(voter, "POST", f"/api/votes/{vote_id}/ballots", {"option": "no"})
    assert by_http.status_code == 201
    twice = await http(voter, "POST", f"/api/votes/{vote_id}/ballots", {"option": "no"})
    assert twice.status_code == 409 and twice.json()["code"] == "already_voted"
    await close_all(chair, voter)


async def test_weights_apply_and_a_named_vote_lists_who_voted_what(served, council, accounts):
    add_delegates(accounts, council, 3)
    heavy = accounts.user("nang")
    accounts.join(heavy, council, "delegate")
    accounts.session.exec(
        select(Participant).where(Participant.user_id == heavy.id)
    ).one().vote_weight = 5
    accounts.session.commit()
    chair = await device(served, "chutoa", council)
    vote_id = await new_vote(chair, council)
    for username, choice in (("db001", "yes"), ("db002", "yes"), ("db003", "no"), ("nang", "no")):
        tablet = await device(served, username, council)
        assert (await tablet.request("vote.cast", vote_id=vote_id, option=choice))["type"] == "ack"
        await tablet.close()
    result = (await http(chair, "POST", f"/api/votes/{vote_id}/close")).json()["result"]
    assert result["tally"] == {"yes": 2, "no": 6, "abstain": 0}
    assert result["cast_weight"] == 8 and result["passed"] is False
    named = {row["name"]: row["choices"] for row in result["named"]}
    assert named["Nang"] == ["no"] and named["Db001"] == ["yes"]
    await chair.close()


async def test_a_secret_vote_keeps_no_link_between_voter_and_choice(
    served, council, accounts, database
):
    add_delegates(accounts, council, 6)
    chair = await device(served, "chutoa", council)
    vote_id = await new_vote(chair, council, secret=True)
    choices = ["yes", "no", "yes", "abstain", "yes", "no"]
    for n, choice in enumerate(choices, start=1):
        tablet = await device(served, f"db{n:03d}", council)
        await tablet.request("vote.cast", vote_id=vote_id, option=choice)
        await tablet.close()
    result = (await http(chair, "POST", f"/api/votes/{vote_id}/close")).json()["result"]
    assert result["tally"] == {"yes": 3, "no": 2, "abstain": 1} and "named" not in result
    database.expire_all()
    ballots = database.exec(select(Ballot).where(Ballot.vote_id == vote_id)).all()
    assert len(ballots) == 3  # one running total per option, not one row per voter
    assert all(b.voter_id is None for b in ballots)
    casts = database.exec(select(BallotCast).where(BallotCast.vote_id == vote_id)).all()
    assert len(casts) == 6 and set(BallotCast.model_fields) == {
        "id",
        "vote_id",
        "voter_id",
        "weight",
    }
    for event in database.exec(select(JournalEvent)).all():  # nor does the journal
        assert event.type in ("vote.opened", "vote.closed")
        assert "named" not in (event.payload["vote"].get("result") or {})
    await chair.close()


async def test_progress_reaches_all_and_the_live_tally_only_the_chair(served, council, accounts):
    add_delegates(accounts, council, 2)
    chair = await device(served, "chutoa", council)
    watcher = await device(served, "db002", council)
    voter = await device(served, "db001", council)
    vote_id = await new_vote(chair, council)
    await voter.request("vote.cast", vote_id=vote_id, option="yes")
    progress = await watcher.until(lambda m: m["type"] == "vote.progress" and m["voters"] == 1)
    assert progress["eligible"] == 3
    tally = await chair.until(lambda m: m["type"] == "vote.tally")
    assert tally["tally"]["yes"] == 1
    assert not any(m["type"] == "vote.tally" for m in await watcher.quiet(0.5))
    await close_all(chair, watcher, voter)


async def test_a_vote_with_a_time_limit_closes_itself(served, council, accounts):
    add_delegates(accounts, council, 1)
    chair = await device(served, "chutoa", council)
    vote_id = await new_vote(chair, council, duration_s=5)
    closed = await chair.until(lambda m: m["type"] == "vote.closed", within=10)
    assert closed["vote"]["id"] == vote_id and closed["vote"]["result"]["voters"] == 0
    await chair.close()


async def test_a_named_vote_may_allow_changing_a_ballot(served, council, accounts):
    add_delegates(accounts, council, 1)
    chair = await device(served, "chutoa", council)
    voter = await device(served, "db001", council)
    vote_id = await new_vote(chair, council, allow_change=True)
    await voter.request("vote.cast", vote_id=vote_id, option="no")
    changed = await voter.request("vote.cast", vote_id=vote_id, option="yes")
    assert changed["changed"] is True
    result = (await http(chair, "POST", f"/api/votes/{vote_id}/close")).json()["result"]
    assert result["tally"] == {"yes": 1, "no": 0, "abstain": 0}
    refused = await http(
        chair,
        "POST",
        f"/api/meetings/{council}/votes",
        {"title": "Bầu", "secret": True, "allow_change": True},
    )
    assert refused.status_code == 400 and refused.json()["code"] == "secret_change"
    await close_all(chair, voter)


class Rules:
    def __init__(self, kind="yes_no_abstain", threshold="half", quorum=None, max_choices=1):
        self.kind, self.threshold, self.quorum, self.max_choices = (
            kind,
            threshold,
            quorum,
            max_choices,
        )


@pytest.mark.parametrize(
    ("rules", "tally", "base", "voters", "passed"),
    [
        (Rules(), {"yes": 11, "no": 9, "abstain": 0}, 20, 20, True),
        (Rules(), {"yes": 10, "no": 10, "abstain": 0}, 20, 20, False),  # half is not more than half
        (Rules(), {"yes": 10, "no": 9, "abstain": 0}, 19, 19, True),
        (Rules(threshold="two_thirds"), {"yes": 20, "no": 10, "abstain": 0}, 30, 30, True),
        (Rules(threshold="two_thirds"), {"yes": 19, "no": 11, "abstain": 0}, 30, 30, False),
        (Rules(threshold="two_thirds"), {"yes": 14, "no": 7, "abstain": 0}, 21, 21, True),
        (Rules(threshold="0.6"), {"yes": 12, "no": 8, "abstain": 0}, 20, 20, True),
        (Rules(threshold="0.6"), {"yes": 11, "no": 9, "abstain": 0}, 20, 20, False),
        (Rules(quorum=15), {"yes": 14, "no": 0, "abstain": 0}, 14, 14, False),
        (Rules(quorum=15), {"yes": 15, "no": 0, "abstain": 0}, 15, 15, True),
        (Rules(), {"yes": 0, "no": 0, "abstain": 0}, 0, 0, False),
        (Rules("single"), {"o1": 6, "o2": 4}, 10, 10, True),
        (Rules("single"), {"o1": 5, "o2": 5}, 10, 10, False),
        (Rules("election", max_choices=2), {"o1": 8, "o2": 6, "o3": 5}, 10, 10, True),
    ],
)
def test_majority_rules_and_quorum_decide_at_their_edges(rules, tally, base, voters, passed):
    assert decide(rules, tally, base, voters)["passed"] is passed


def test_an_election_chooses_up_to_k_candidates_over_the_bar():
    decided = decide(Rules("election", max_choices=2), {"o1": 8, "o2": 6, "o3": 7}, 10, 10)
    assert decided["chosen"] == ["o1", "o3"]


async def test_minutes_list_attendance_the_speaker_and_the_vote(served, council, accounts):
    add_delegates(accounts, council, 3)
    chair = await device(served, "chutoa", council)
    started = await http(chair, "POST", f"/api/meetings/{council}/session/start")
    assert started.status_code == 200
    speaker = await device(served, "db001", council)  # checked in: the session is live
    other = await device(served, "db002", council)
    await speaker.request("speaker.request")
    queue = await chair.until(lambda m: m["type"] == "speakers.changed" and m["waiting"])
    await chair.request("speaker.give", request_id=queue["waiting"][0]["request_id"])
    await chair.request("speaker.end")
    vote_id = await new_vote(chair, council)
    await speaker.request("vote.cast", vote_id=vote_id, option="yes")
    await http(chair, "POST", f"/api/votes/{vote_id}/close")
    await http(chair, "POST", f"/api/meetings/{council}/session/end")
    response = await chair.http.get(f"/api/meetings/{council}/minutes.pdf")
    assert response.status_code == 200
    with pymupdf.open(stream=response.content) as pdf:
        text = " ".join(page.get_text() for page in pdf)
    for expected in (
        "BIÊN BẢN",
        "Db001",
        "Db002",
        "Db003",
        "Thông qua Nghị quyết dự toán",
        "Kỳ họp kết thúc lúc",
    ):
        assert expected in " ".join(text.split()), expected
    csv_text = (await chair.http.get(f"/api/meetings/{council}/votes.csv")).text
    assert "Thông qua Nghị quyết dự toán" in csv_text and "Db001" in csv_text
    assert "Tán thành" in csv_text and "In favour" not in csv_text
    observer = await device(served, "khach", council)
    assert (await observer.http.get(f"/api/meetings/{council}/minutes.pdf")).status_code == 403
    await close_all(chair, speaker, other, observer)
