"""A meeting set up in minutes: the roster or one group in one action, people found by name,
the chair and the secretary picked from those who may hold the role, a copy of a meeting."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from server.models import (
    AgendaItem,
    Attendance,
    Body,
    Document,
    Meeting,
    Member,
    Participant,
    User,
    Vote,
)

GROUP = "Tổ đại biểu số 2"
HX = {"HX-Request": "true"}


class Council:
    """A council with a secretary, a roster and one draft meeting."""

    def __init__(self, accounts, database, name: str = "HĐND phường Ba Đình") -> None:
        self.db = database
        self.accounts = accounts
        self.body = accounts.body(name)
        self.secretary = accounts.user(f"thuky{self.body.id}", "secretary", self.body)
        self.meeting = Meeting(
            body_id=self.body.id,
            title="Kỳ họp thường lệ tháng 11",
            place="Hội trường UBND phường",
            starts_at=datetime(2026, 11, 20, 1, 0, tzinfo=UTC),
        )
        database.add(self.meeting)
        database.commit()

    def member(self, username: str, full_name: str, seat: str, group: str = "", **kw) -> User:
        user = self.accounts.user(username, body=self.body, full_name=full_name, **kw)
        self.db.add(Member(body_id=self.body.id, user_id=user.id, seat=seat, group=group))
        self.db.commit()
        return user

    def roster(self) -> dict[str, User]:
        return {
            "an": self.member("daibieu01", "Nguyễn Văn An", "01", GROUP),
            "binh": self.member("daibieu02", "Trần Thị Bình", "02", GROUP),
            "cuong": self.member("daibieu03", "Lê Văn Cường", "03", "Tổ đại biểu số 1"),
            "dung": self.member("daibieu04", "Phạm Thị Dung", "04", GROUP, active=False),
        }

    def seats(self, meeting: Meeting | None = None) -> dict[str, tuple[str, str]]:
        self.db.commit()  # a new read: the server wrote since
        self.db.expire_all()
        rows = self.db.exec(
            select(User.username, Participant.role, Participant.seat)
            .join(User, User.id == Participant.user_id)
            .where(Participant.meeting_id == (meeting or self.meeting).id)
        )
        return {name: (role, seat) for name, role, seat in rows}


@pytest.fixture
def council(accounts, database) -> Council:
    return Council(accounts, database)


@pytest.fixture
async def as_secretary(client, council):
    await client.login(council.secretary.username)
    return client


# --- bad input first: refused with a clear error, nothing changed --------------------------


async def test_an_unknown_group_is_refused_and_nobody_joins(as_secretary, council):
    council.roster()
    refused = await as_secretary.post(
        f"/api/meetings/{council.meeting.id}/roster", json={"group": "Tổ đại biểu số 9"}
    )
    assert refused.status_code == 400
    assert refused.json()["code"] == "no_such_group"
    assert "Tổ đại biểu số 9" in refused.json()["message"]
    assert council.seats() == {}


async def test_an_empty_roster_is_refused(as_secretary, council):
    refused = await as_secretary.post(f"/api/meetings/{council.meeting.id}/roster", json={})
    assert (refused.status_code, refused.json()["code"]) == (400, "empty_roster")
    page = await as_secretary.post(
        f"/meetings/{council.meeting.id}/roster", data={"group": ""}, headers=HX
    )
    assert page.status_code == 400
    assert "trống" in page.text  # "Danh sách đại biểu của hội đồng trống…"
    assert council.seats() == {}


async def test_the_whole_roster_cannot_be_made_chairs(as_secretary, council):
    council.roster()
    refused = await as_secretary.post(
        f"/api/meetings/{council.meeting.id}/roster", json={"role": "chair"}
    )
    assert (refused.status_code, refused.json()["code"]) == (400, "one_chair")
    bad = await as_secretary.post(
        f"/api/meetings/{council.meeting.id}/roster", json={"role": "president"}
    )
    assert (bad.status_code, bad.json()["code"]) == (400, "bad_role")
    assert council.seats() == {}


async def test_a_deactivated_account_cannot_be_picked(as_secretary, council):
    dung = council.roster()["dung"]
    refused = await as_secretary.post(
        f"/api/meetings/{council.meeting.id}/participants",
        json={"user_id": dung.id, "role": "delegate"},
    )
    assert (refused.status_code, refused.json()["code"]) == (400, "inactive_account")
    found = await as_secretary.get(f"/api/meetings/{council.meeting.id}/people?q=dung")
    assert found.json() == []
    assert council.seats() == {}


async def test_someone_added_twice_is_refused_the_second_time(as_secretary, council):
    an = council.roster()["an"]
    url = f"/api/meetings/{council.meeting.id}/participants"
    first = await as_secretary.post(url, json={"user_id": an.id, "role": "delegate"})
    assert first.status_code == 201, first.text
    assert first.json()["seat"] == "01"  # the roster's seat when none is given
    again = await as_secretary.post(url, json={"user_id": an.id, "role": "chair"})
    assert (again.status_code, again.json()["code"]) == (409, "already_participant")
    assert council.seats() == {"daibieu01": ("delegate", "01")}


async def test_nobody_picked_is_refused(as_secretary, council):
    refused = await as_secretary.post(
        f"/meetings/{council.meeting.id}/participants", data={"role": "delegate"}, headers=HX
    )
    assert refused.status_code == 400
    assert council.seats() == {}


async def test_a_chair_who_is_not_a_participant_or_may_not_preside_is_refused(
    as_secretary, council, accounts
):
    people = council.roster()
    meeting = council.meeting
    accounts.join(people["an"], meeting.id, "chair")
    press = accounts.user("phongvien", "observer", council.body, full_name="Phóng viên")
    accounts.join(press, meeting.id, "observer")
    url = f"/api/meetings/{meeting.id}"
    outsider = await as_secretary.patch(url, json={"chair_id": people["binh"].id})
    assert (outsider.status_code, outsider.json()["code"]) == (400, "chair_not_participant")
    observer = await as_secretary.patch(url, json={"chair_id": press.id})
    assert (observer.status_code, observer.json()["code"]) == (400, "bad_chair")
    assert council.seats()["daibieu01"] == ("chair", "")
    assert council.seats()["phongvien"] == ("observer", "")


async def test_a_secretary_who_may_not_keep_the_minutes_is_refused(
    as_secretary, council, accounts, database
):
    other = accounts.body("HĐND phường Hoàn Kiếm")
    elsewhere = accounts.user("thukykhac", "secretary", other, full_name="Thư ký nơi khác")
    delegate = council.roster()["an"]
    url = f"/api/meetings/{council.meeting.id}"
    for person in (elsewhere, delegate):
        refused = await as_secretary.patch(url, json={"secretary_id": person.id})
        assert (refused.status_code, refused.json()["code"]) == (400, "bad_secretary")
    page = await as_secretary.post(
        f"/meetings/{council.meeting.id}/details",
        data={"title": "Đổi tên", "secretary_id": str(elsewhere.id)},
        headers=HX,
    )
    assert page.status_code == 400
    database.expire_all()
    stored = database.get(Meeting, council.meeting.id)
    assert (stored.secretary_id, stored.title) == (None, "Kỳ họp thường lệ tháng 11")


async def test_a_secretary_of_another_council_touches_nothing_here(
    client, accounts, database, council
):
    council.roster()
    other = Council(accounts, database, "HĐND phường Hoàn Kiếm")
    await client.login(other.secretary.username)
    mid = council.meeting.id
    attempts = [
        client.post(f"/api/meetings/{mid}/roster", json={}),
        client.post(f"/meetings/{mid}/roster", data={}, headers=HX),
        client.get(f"/api/meetings/{mid}/people?q=an"),
        client.post(f"/api/meetings/{mid}/copy", json={}),
        client.post(f"/meetings/{mid}/copy", data={"title": "x", "starts_at": "2026-12-20T08:00"}),
        client.patch(f"/api/meetings/{mid}", json={"chair_id": None}),
    ]
    for attempt in attempts:
        response = await attempt
        assert response.status_code in (403, 404), response.text
    assert council.seats() == {}
    assert len(database.exec(select(Meeting)).all()) == 2


async def test_copying_needs_the_right_to_create_meetings_in_that_council(
    client, accounts, database, council
):
    """A secretary seated in this meeting but belonging to another council may run it,
    not multiply it."""
    other = accounts.body("HĐND phường Hoàn Kiếm")
    guest = accounts.user("thukymoi", "secretary", other)
    accounts.join(guest, council.meeting.id, "secretary")
    await client.login("thukymoi")
    assert (await client.get(f"/meetings/{council.meeting.id}/edit")).status_code == 200
    refused = await client.post(f"/api/meetings/{council.meeting.id}/copy", json={})
    assert refused.status_code == 403
    assert len(database.exec(select(Meeting)).all()) == 1


# --- what works ----------------------------------------------------------------------------


async def test_the_whole_roster_joins_in_one_action_at_its_seats(as_secretary, council, accounts):
    people = council.roster()
    accounts.join(people["cuong"], council.meeting.id, "chair")
    done = await as_secretary.post(f"/api/meetings/{council.meeting.id}/roster", json={})
    assert done.status_code == 200, done.text
    assert done.json() == {"added": 2, "already": 1, "inactive": 1}
    assert council.seats() == {
        "daibieu01": ("delegate", "01"),
        "daibieu02": ("delegate", "02"),
        "daibieu03": ("chair", ""),  # already in: left as they were
    }
    again = await as_secretary.post(f"/api/meetings/{council.meeting.id}/roster", json={})
    assert again.json() == {"added": 0, "already": 3, "inactive": 1}


async def test_one_group_joins_from_the_page(as_secretary, council):
    council.roster()
    fragment = await as_secretary.post(
        f"/meetings/{council.meeting.id}/roster",
        data={"group": GROUP, "role": "delegate"},
        headers=HX,
    )
    assert fragment.status_code == 200, fragment.text
    assert fragment.headers["HX-Trigger"] == "participants-changed"
    assert "Nguyễn Văn An" in fragment.text and "Trần Thị Bình" in fragment.text
    assert set(council.seats()) == {"daibieu01", "daibieu02"}


async def test_the_picker_finds_people_by_name_without_diacritics(as_secretary, council, accounts):
    council.roster()
    accounts.user("nguyenvana2", body=council.body, full_name="Nguyễn Văn Anh")
    accounts.user("khac", full_name="Đỗ Đức Hải")
    url = f"/api/meetings/{council.meeting.id}/people"
    names = [p["full_name"] for p in (await as_secretary.get(f"{url}?q=nguyen van an")).json()]
    assert names[0] == "Nguyễn Văn An"  # the roster's member first
    assert set(names) == {"Nguyễn Văn An", "Nguyễn Văn Anh"}
    assert [p["username"] for p in (await as_secretary.get(f"{url}?q=daibieu03")).json()] == [
        "daibieu03"
    ]
    assert [p["full_name"] for p in (await as_secretary.get(f"{url}?q=do duc")).json()] == [
        "Đỗ Đức Hải"
    ]
    assert (await as_secretary.get(f"{url}?q=")).json() == []
    fragment = await as_secretary.get(
        f"/meetings/{council.meeting.id}/people?q=NGUYEN+VAN+AN", headers=HX
    )
    assert 'name="user_id"' in fragment.text and GROUP in fragment.text


async def test_a_person_picked_from_the_list_joins(as_secretary, council):
    an = council.roster()["an"]
    fragment = await as_secretary.post(
        f"/meetings/{council.meeting.id}/participants",
        data={"user_id": str(an.id), "role": "delegate", "seat": "", "vote_weight": "1"},
        headers=HX,
    )
    assert fragment.status_code == 200, fragment.text
    assert council.seats() == {"daibieu01": ("delegate", "01")}


async def test_the_chair_and_secretary_are_picked_from_lists(as_secretary, council, accounts):
    people = council.roster()
    meeting = council.meeting
    for key in ("an", "binh"):
        accounts.join(people[key], meeting.id, "delegate")
    writer = accounts.user("thuky2", "secretary", council.body, full_name="Lê Thị Thư")
    editor = await as_secretary.get(f"/meetings/{meeting.id}/edit")
    assert 'name="chair_id"' in editor.text and "Lê Thị Thư" in editor.text
    saved = await as_secretary.post(
        f"/meetings/{meeting.id}/details",
        data={
            "title": meeting.title,
            "chair_id": str(people["an"].id),
            "secretary_id": str(writer.id),
        },
        headers=HX,
    )
    assert saved.status_code == 200, saved.text
    assert saved.headers["HX-Trigger"] == "chair-changed"
    assert council.seats()["daibieu01"] == ("chair", "")
    moved = await as_secretary.patch(
        f"/api/meetings/{meeting.id}", json={"chair_id": people["binh"].id}
    )
    assert moved.status_code == 200, moved.text
    roles = {k: v[0] for k, v in council.seats().items()}
    assert roles == {"daibieu01": "delegate", "daibieu02": "chair"}
    assert council.db.get(Meeting, meeting.id).secretary_id == writer.id


async def test_a_copy_keeps_the_agenda_and_people_but_not_what_happened(
    as_secretary, council, accounts, database
):
    people = council.roster()
    meeting = council.meeting
    accounts.join(people["an"], meeting.id, "chair")
    database.add(
        Participant(meeting_id=meeting.id, user_id=people["binh"].id, seat="02", vote_weight=2)
    )
    opening = AgendaItem(meeting_id=meeting.id, title="Khai mạc", position=0)
    reports = AgendaItem(meeting_id=meeting.id, title="Các báo cáo", position=1, presenter="UBND")
    database.add_all([opening, reports])
    database.flush()
    database.add_all(
        [
            AgendaItem(
                meeting_id=meeting.id, parent_id=reports.id, title="Báo cáo KT-XH", position=0
            ),
            AgendaItem(
                meeting_id=meeting.id,
                parent_id=reports.id,
                title="Báo cáo ngân sách",
                position=1,
                duration_minutes=20,
            ),
            Document(meeting_id=meeting.id, item_id=opening.id, title="Diễn văn", sha256="0" * 64),
            Vote(meeting_id=meeting.id, title="Nghị quyết"),
            Attendance(meeting_id=meeting.id, user_id=people["an"].id, status="present"),
        ]
    )
    meeting.secretary_id = council.secretary.id
    database.add(meeting)
    database.commit()

    made = await as_secretary.post(
        f"/meetings/{meeting.id}/copy",
        data={"title": "Kỳ họp thường lệ tháng 12", "starts_at": "2026-12-18T08:00"},
        headers=HX,
    )
    assert made.status_code == 201, made.text
    copy_id = int(made.headers["HX-Redirect"].split("/")[2])
    copy = database.get(Meeting, copy_id)
    assert (copy.title, copy.place, copy.status, copy.body_id) == (
        "Kỳ họp thường lệ tháng 12",
        "Hội trường UBND phường",
        "draft",
        council.body.id,
    )
    assert copy.starts_at == datetime(2026, 12, 18, 1, 0, tzinfo=UTC)
    assert copy.secretary_id == council.secretary.id
    fetched = (await as_secretary.get(f"/api/meetings/{copy_id}")).json()
    outline = [
        (
            n["number"],
            n["title"],
            [(c["number"], c["title"], c["duration_minutes"]) for c in n["children"]],
        )
        for n in fetched["items"]
    ]
    assert outline == [
        ("1", "Khai mạc", []),
        ("2", "Các báo cáo", [("2.1", "Báo cáo KT-XH", None), ("2.2", "Báo cáo ngân sách", 20)]),
    ]
    assert fetched["items"][0]["documents"] == [] and fetched["documents"] == []
    assert {
        (p["username"], p["role"], p["seat"], p["vote_weight"]) for p in fetched["participants"]
    } == {
        ("daibieu01", "chair", "", 1),
        ("daibieu02", "delegate", "02", 2),
    }
    for table in (Vote, Attendance, Document):
        assert database.exec(select(table).where(table.meeting_id == copy_id)).all() == []

    by_api = await as_secretary.post(f"/api/meetings/{meeting.id}/copy", json={})
    assert by_api.status_code == 201, by_api.text
    assert by_api.json()["title"] == "Kỳ họp thường lệ tháng 11 (bản sao)"


async def test_a_copy_without_a_title_or_date_is_refused(as_secretary, council, database):
    for form in ({"title": " ", "starts_at": "2026-12-18T08:00"}, {"title": "Tháng 12"}):
        refused = await as_secretary.post(
            f"/meetings/{council.meeting.id}/copy", data=form, headers=HX
        )
        assert refused.status_code == 400
    assert len(database.exec(select(Meeting)).all()) == 1
    assert database.exec(select(Body)).all()
