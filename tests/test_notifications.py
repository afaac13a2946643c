"""Notifications (issue 19, item 6): each person's own list with an unread count, reminders that
fire once however many servers run, e-mail to those who want it through a real SMTP server, and
the agenda book's publishing and a paper's new version telling the meeting's participants."""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from server import db as dbs
from server import notifications
from server.mail import send_mail
from server.models import Meeting, Notification, Reminder, User, utcnow
from tests.conftest import throwaway_postgres
from tests.mailbox import closed_port
from tests.test_document_versions import replace, uploaded
from tests.test_publish import finished, publish


@pytest.fixture
async def makers(settings, database) -> AsyncIterator[list]:
    """Two database handles, as two server processes have."""
    engines = [dbs.make_engine(settings.database_url) for _ in range(2)]
    yield [dbs.session_maker(engine) for engine in engines]
    for engine in engines:
        await engine.dispose()


def fresh(database: Session) -> Session:
    database.rollback()
    database.expire_all()
    return database


def mine(database: Session, user: User) -> list[Notification]:
    query = select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
    return list(fresh(database).exec(query))


async def tell(maker, users, kind=notifications.BOOK_PUBLISHED, **params) -> None:
    async with maker() as db:
        await notifications.notify(
            db,
            [u.id for u in users],
            kind,
            params=params or {"meeting": "Kỳ họp thứ ba", "version": 1},
            link="/meetings/1/read",
        )
        await db.commit()


def listed(page: str) -> list[str]:
    """The notifications' sentences on /notifications, top to bottom."""
    return [
        re.sub(r"\s+", " ", text).strip()
        for text in re.findall(r'<span class="text">(.*?)</span>', page, re.S)
    ]


# --- bad input first ----------------------------------------------------------------------


async def test_another_persons_notification_is_not_opened_nor_marked_read(
    client, accounts, makers, database
):
    owner, other = accounts.user("daibieu01"), accounts.user("daibieu02")
    await tell(makers[0], [owner])
    [theirs] = mine(database, owner)
    await client.login("daibieu02")
    refused = await client.get(f"/notifications/{theirs.id}/open")
    assert refused.status_code == 404
    assert "Kỳ họp thứ ba" not in refused.text
    assert (await client.post("/notifications/read")).status_code == 303
    assert mine(database, owner)[0].read_at is None
    assert listed((await client.get("/notifications")).text) == []
    assert (await client.get("/api/notifications")).json() == {"unread": 0, "notifications": []}
    assert mine(database, other) == []


async def test_a_bad_address_or_email_without_one_is_refused_and_nothing_changes(
    client, accounts, database
):
    accounts.user("daibieu01", email="cu@phuong.gov.vn", email_notifications=False)
    await client.login("daibieu01")
    for form, message in [
        ({"email": "khong-phai-dia-chi", "email_notifications": "on"}, "không hợp lệ"),
        ({"email": "a@b.vn\r\nBcc: x@y.vn"}, "không hợp lệ"),
        ({"email": "", "email_notifications": "on"}, "Hãy nhập địa chỉ e-mail"),
    ]:
        refused = await client.post("/notifications/settings", data=form)
        assert refused.status_code == 400
        assert message in refused.text
        assert 'id="settings-error"' in refused.text
        user = fresh(database).exec(select(User).where(User.username == "daibieu01")).one()
        assert (user.email, user.email_notifications) == ("cu@phuong.gov.vn", False)


def test_a_notification_of_an_unknown_kind_or_pointing_elsewhere_is_refused():
    for kind, link in [
        ("made.up", "/meetings/1"),
        (notifications.INVITATION, "https://evil.example/"),
        (notifications.INVITATION, "//evil.example/"),
    ]:
        with pytest.raises(ValueError):
            notifications._check(kind, link)


# --- the list -----------------------------------------------------------------------------


async def test_a_delegate_reads_their_notifications_newest_first_and_marks_them_read(
    client, accounts, makers, database
):
    delegate = accounts.user("daibieu01")
    await tell(makers[0], [delegate])
    due = (utcnow() + timedelta(days=2)).replace(hour=10, minute=0, second=0, microsecond=0)
    params = {"task": "opinion", "title": "Dự thảo Nghị quyết ngân sách", "due_at": due.isoformat()}
    await tell(makers[0], [delegate], notifications.DEADLINE_NEAR, **params)
    await client.login("daibieu01")
    assert 'class="bell-count">2<' in (await client.get("/notifications/bell")).text
    page = (await client.get("/notifications")).text
    assert listed(page) == [
        "Sắp đến hạn: góp ý dự thảo “Dự thảo Nghị quyết ngân sách”, hạn chót "
        f"17:00 {due.day:02d}/{due.month:02d}/{due.year}.",
        "Tài liệu kỳ họp “Kỳ họp thứ ba” đã được phát hành (phiên bản 1).",
    ]
    assert page.count('class="notification unread"') == 2
    first = mine(database, delegate)[0]
    opened = await client.get(f"/notifications/{first.id}/open")
    assert (opened.status_code, opened.headers["location"]) == (303, "/meetings/1/read")
    assert (await client.get("/api/notifications")).json()["unread"] == 1
    assert 'class="bell-count">1<' in (await client.get("/notifications/bell")).text
    assert (await client.post("/notifications/read")).status_code == 303
    assert all(n.read_at for n in mine(database, delegate))
    bell = (await client.get("/notifications/bell")).text
    assert "bell-count" not in bell and 'hx-trigger="every 60s"' in bell
    client.raw.cookies.set("lang", "en")
    english = listed((await client.get("/notifications")).text)
    assert english[1] == "The documents of “Kỳ họp thứ ba” were published (version 1)."


async def test_a_person_chooses_email_for_their_notifications(client, accounts, database):
    accounts.user("daibieu01")
    await client.login("daibieu01")
    form = {"email": "daibieu01@phuong.gov.vn", "email_notifications": "on"}
    saved = await client.post("/notifications/settings", data=form)
    assert saved.status_code == 303
    page = (await client.get(saved.headers["location"])).text
    assert 'value="daibieu01@phuong.gov.vn"' in page and "checked" in page and "Đã lưu." in page
    await client.post("/notifications/settings", data={"email": "daibieu01@phuong.gov.vn"})
    user = fresh(database).exec(select(User).where(User.username == "daibieu01")).one()
    assert (user.email, user.email_notifications) == ("daibieu01@phuong.gov.vn", False)


# --- reminders ----------------------------------------------------------------------------


async def test_scheduling_the_same_deadline_again_replaces_it_and_cancel_forgets_it(
    accounts, makers, database
):
    delegate = accounts.user("daibieu01")
    later = utcnow() + timedelta(hours=1)
    for due in (later, later + timedelta(hours=2)):
        async with makers[0]() as db:
            await notifications.remind(
                db,
                "opinion:1:due",
                due,
                [delegate.id],
                notifications.DEADLINE_NEAR,
                params={"task": "opinion", "title": "Dự thảo"},
                link="/meetings/1",
            )
            await db.commit()
    [reminder] = fresh(database).exec(select(Reminder)).all()
    assert reminder.due_at == later + timedelta(hours=2)
    assert await notifications.fire_due_reminders(makers[0]) == 0  # not due yet
    async with makers[0]() as db:
        await notifications.cancel(db, "opinion:1:due")
        await db.commit()
    assert fresh(database).exec(select(Reminder)).all() == []


async def race(makers, accounts, database) -> None:
    people = [accounts.user(f"daibieu{n:02d}") for n in range(1, 4)]
    past = utcnow() - timedelta(seconds=1)
    async with makers[0]() as db:
        for n in range(20):
            await notifications.remind(
                db,
                f"vote:{n}:due",
                past,
                [p.id for p in people],
                notifications.DEADLINE_NEAR,
                params={"task": "written_vote", "title": f"Phiếu {n}"},
                link="/meetings/1",
            )
        await db.commit()
    fired = await asyncio.gather(
        *(notifications.fire_due_reminders(maker) for maker in [*makers, *makers])
    )
    assert sum(fired) == 20, fired
    for person in people:
        titles = sorted(n.params["title"] for n in mine(database, person))
        assert titles == sorted(f"Phiếu {n}" for n in range(20))
    assert all(r.sent_at for r in fresh(database).exec(select(Reminder)))
    assert sum(await asyncio.gather(*(notifications.fire_due_reminders(m) for m in makers))) == 0


async def test_a_reminder_fires_once_with_two_servers_racing(accounts, makers, database):
    await race(makers, accounts, database)


async def test_a_reminder_fires_once_with_two_servers_racing_on_postgresql(settings, tmp_path):
    from dataclasses import replace as changed

    from tests.conftest import Accounts

    with throwaway_postgres("notify") as url:
        dbs.upgrade(url)
        sync = dbs.make_sync_engine(url)
        engines = [dbs.make_engine(url) for _ in range(2)]
        try:
            with Session(sync, expire_on_commit=False) as database:
                made = Accounts(database, changed(settings, database_url=url))
                await race([dbs.session_maker(e) for e in engines], made, database)
                made.passwords.close()
        finally:
            for engine in engines:
                await engine.dispose()
            sync.dispose()


# --- e-mail -------------------------------------------------------------------------------


async def test_email_goes_to_those_who_want_it_only(accounts, makers, database, mailbox, settings):
    wants = accounts.user("daibieu01", email="daibieu01@phuong.gov.vn", email_notifications=True)
    declines = accounts.user("daibieu02", email="daibieu02@phuong.gov.vn")
    no_address = accounts.user("daibieu03", email_notifications=True)
    await tell(makers[0], [wants, declines, no_address])
    send = functools.partial(send_mail, mailbox.settings(settings))
    tz, base = settings.tz, "https://phonghop.phuong.gov.vn"
    went = await asyncio.gather(
        *(notifications.send_due_mail(m, send, tz, base) for m in [*makers, *makers])
    )
    assert sum(went) == 1
    [message] = mailbox.wait(1)
    assert message["To"] == "daibieu01@phuong.gov.vn"
    assert message["Subject"] == (
        "Phòng họp không giấy: Tài liệu kỳ họp “Kỳ họp thứ ba” đã được phát hành (phiên bản 1)."
    )
    assert "https://phonghop.phuong.gov.vn/meetings/1/read" in message.get_content()
    assert mine(database, wants)[0].emailed_at is not None
    assert [n.emailed_at for n in mine(database, declines) + mine(database, no_address)] == [
        None,
        None,
    ]
    assert await notifications.send_due_mail(makers[0], send, tz, base) == 0
    assert len(mailbox.messages) == 1


async def test_a_refused_email_is_retried_a_few_times_then_given_up_and_logged(
    accounts, makers, database, mailbox, settings, caplog
):
    refused = accounts.user("daibieu01", email="khongco@phuong.gov.vn", email_notifications=True)
    fine = accounts.user("daibieu02", email="daibieu02@phuong.gov.vn", email_notifications=True)
    mailbox.refuse.add("khongco@phuong.gov.vn")
    await tell(makers[0], [refused, fine])
    send = functools.partial(send_mail, mailbox.settings(settings))
    caplog.set_level(logging.WARNING, "phonghop.notifications")
    assert await notifications.send_due_mail(makers[0], send, settings.tz) == 1
    assert [m["To"] for m in mailbox.wait(1)] == ["daibieu02@phuong.gov.vn"]
    for tries in range(1, notifications.MAIL_TRIES + 1):
        [row] = mine(database, refused)
        assert (row.mail_tries, row.mail_due) == (tries, tries < notifications.MAIL_TRIES)
        assert await notifications.send_due_mail(makers[0], send, settings.tz) == 0  # waits
        row.mail_after = utcnow() - timedelta(seconds=1)  # as if the wait were over
        database.add(row)
        database.commit()
        await notifications.send_due_mail(makers[0], send, settings.tz)
    [row] = mine(database, refused)
    assert (row.mail_due, row.emailed_at, row.mail_tries) == (False, None, 5)
    assert "given up" in caplog.text and "khongco@phuong.gov.vn" in caplog.text
    assert len(mailbox.messages) == 1


async def test_an_unreachable_mail_server_does_not_stop_the_rounds(accounts, makers, settings):
    from dataclasses import replace as changed

    person = accounts.user("daibieu01", email="daibieu01@phuong.gov.vn", email_notifications=True)
    await tell(makers[0], [person])
    nowhere = changed(settings, smtp_host="127.0.0.1", smtp_port=closed_port(), smtp_timeout_s=2)
    postman = notifications.Postman(makers[0], functools.partial(send_mail, nowhere), settings.tz)
    await asyncio.wait_for(postman.round(), timeout=30)  # returns: the failure was kept
    async with makers[0]() as db:
        [row] = (await db.exec(select(Notification))).all()
    assert (row.mail_tries, row.mail_due, row.emailed_at) == (1, True, None)
    assert row.mail_after is not None and row.mail_after > utcnow()


# --- what meetings tell -------------------------------------------------------------------


@pytest.fixture
async def meeting(client, accounts):
    accounts.user("thuky", "secretary", accounts.body())
    await client.login("thuky")
    created = await client.post(
        "/api/meetings", json={"title": "Kỳ họp thứ ba", "starts_at": "2026-12-15T08:00:00+07:00"}
    )
    mid = created.json()["id"]
    item = await client.post(f"/api/meetings/{mid}/items", json={"title": "Ngân sách"})
    return {"id": mid, "item": item.json()["id"]}


async def test_publishing_and_a_new_version_tell_the_participants_only(
    client, meeting, accounts, database
):
    delegate, observer = accounts.user("daibieu01"), accounts.user("khach", "observer")
    outsider = accounts.user("daibieu02")
    accounts.join(delegate, meeting["id"])
    accounts.join(observer, meeting["id"], "observer")
    paper = await uploaded(client, meeting)
    assert (await publish(client, meeting["id"]))["state"] == "done"
    for person in (delegate, observer):
        [published] = mine(database, person)
        assert (published.kind, published.params) == (
            notifications.BOOK_PUBLISHED,
            {"meeting": "Kỳ họp thứ ba", "version": 1},
        )
        assert published.link == f"/meetings/{meeting['id']}/read"
    secretary = fresh(database).exec(select(User).where(User.username == "thuky")).one()
    assert mine(database, outsider) == mine(database, secretary) == []

    from tests.test_document_versions import changed_on_last_page
    from tests.test_documents import papers

    response = await replace(client, paper["id"], changed_on_last_page(papers()[0].pdf))
    assert response.status_code in (200, 201), response.text
    new_id = response.json()["id"]
    assert (await finished(client, meeting["id"]))["version"] == 2  # the book built again
    kinds = [(n.kind, n.params.get("version")) for n in mine(database, delegate)]
    assert kinds == [
        (notifications.BOOK_PUBLISHED, 1),
        (notifications.BOOK_REPLACED, 2),
        (notifications.BOOK_PUBLISHED, 2),
    ]
    replaced = mine(database, delegate)[1]
    assert replaced.link == f"/meetings/{meeting['id']}/read?document={new_id}"
    assert mine(database, outsider) == mine(database, secretary) == []
    await client.login("daibieu01")
    assert listed((await client.get("/notifications")).text)[1] == (
        f"Tài liệu “{papers()[0].title}” của kỳ họp “Kỳ họp thứ ba” đã được thay bằng phiên bản 2."
    )
    assert fresh(database).get(Meeting, meeting["id"]) is not None


async def test_news_too_old_for_email_is_not_sent(accounts, makers, database, mailbox, settings):
    person = accounts.user("daibieu01", email="daibieu01@phuong.gov.vn", email_notifications=True)
    await tell(makers[0], [person])
    [row] = mine(database, person)
    row.created_at = utcnow() - notifications.MAIL_STALE - timedelta(minutes=1)
    database.add(row)
    database.commit()
    send = functools.partial(send_mail, mailbox.settings(settings))
    assert await notifications.send_due_mail(makers[0], send, settings.tz) == 0
    [row] = mine(database, person)
    assert (row.mail_due, row.emailed_at, mailbox.messages) == (False, None, [])


async def test_the_running_server_emails_a_published_book_to_who_wants_it(
    settings, database, accounts, mailbox
):
    from dataclasses import replace as changed

    from litestar.testing import AsyncTestClient

    from server.app import create_app
    from tests.conftest import Client
    from tests.test_documents import papers, upload

    mailing = changed(mailbox.settings(settings), allowed_origins=["https://hop.phuong.gov.vn"])
    wants = accounts.user("daibieu01", email="daibieu01@phuong.gov.vn", email_notifications=True)
    declines = accounts.user("daibieu02", email="daibieu02@phuong.gov.vn")
    accounts.user("thuky", "secretary", accounts.body())
    async with AsyncTestClient(app=create_app(mailing), base_url="http://testserver.local") as raw:
        client = Client(raw)
        await client.login("thuky")
        created = await client.post(
            "/api/meetings",
            json={"title": "Kỳ họp thứ tư", "starts_at": "2026-12-20T08:00:00+07:00"},
        )
        mid = created.json()["id"]
        accounts.join(wants, mid)
        accounts.join(declines, mid)
        item = await client.post(f"/api/meetings/{mid}/items", json={"title": "Ngân sách"})
        assert (await upload(client, item.json()["id"], papers()[0].pdf)).status_code == 201
        assert (await publish(client, mid))["state"] == "done"
        # the server's own Postman sends it, within its round (EVERY_S) on a busy machine
        [message] = await asyncio.to_thread(mailbox.wait, 1)
    assert message["To"] == "daibieu01@phuong.gov.vn"
    assert "Kỳ họp thứ tư" in message["Subject"]
    assert f"https://hop.phuong.gov.vn/meetings/{mid}/read" in message.get_content()
    assert len(mailbox.messages) == 1
