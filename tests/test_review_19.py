"""Issue 19's review, as an attacker would try it: notifications that a browser would follow to
another site, e-mail subjects made from titles with line breaks, posts without the CSRF token,
another person's notification."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator

import pytest
from sqlmodel import select

from server import db as dbs
from server import notifications
from server.mail import send_mail
from server.models import Notification

EVIL = "evil.example"


@pytest.fixture
async def maker(settings, database) -> AsyncIterator:  # type: ignore[type-arg]
    engine = dbs.make_engine(settings.database_url)
    yield dbs.session_maker(engine)
    await engine.dispose()


@pytest.mark.parametrize(
    "link",
    [
        "/\\evil.example/",  # browsers read a backslash as a slash: //evil.example
        "/\t/evil.example/",  # and drop tabs and line breaks from a URL
        "/\n/evil.example/",
        "\\\\evil.example/",
        "/meetings/1\r\nSet-Cookie: x=1",
    ],
)
def test_a_link_a_browser_would_take_to_another_site_is_refused(link):
    with pytest.raises(ValueError):
        notifications._check(notifications.INVITATION, link)


async def test_a_stored_link_to_another_site_is_not_followed(client, accounts, database):
    """A row written before the check (or by hand) still opens nothing but this server."""
    owner = accounts.user("daibieu01")
    await client.login("daibieu01")
    for link in ("/\\evil.example/", "//evil.example/", "https://evil.example/"):
        row = Notification(user_id=owner.id, kind=notifications.INVITATION, params={}, link=link)
        database.add(row)
        database.commit()
        opened = await client.get(f"/notifications/{row.id}/open")
        assert opened.status_code == 303
        assert opened.headers["location"] == "/notifications", link


async def test_a_title_with_line_breaks_is_mailed_on_one_subject_line(
    accounts, maker, database, mailbox, settings
):
    wants = accounts.user("daibieu01", email="daibieu01@phuong.gov.vn", email_notifications=True)
    title = "Kỳ họp thứ ba\r\nBcc: spy@evil.example\u2028(bất thường)"
    async with maker() as db:
        await notifications.notify(
            db,
            [wants.id],
            notifications.BOOK_PUBLISHED,
            params={"meeting": title, "version": 2},
            link="/meetings/1/read",
        )
        await db.commit()
    send = functools.partial(send_mail, mailbox.settings(settings))

    went = await notifications.send_due_mail(maker, send, settings.tz, "https://hop.vn")

    assert went == 1
    [message] = mailbox.wait(1)
    assert message["Subject"] == (
        "Phòng họp không giấy: Tài liệu kỳ họp “Kỳ họp thứ ba Bcc: spy@evil.example (bất thường)”"
        " đã được phát hành (phiên bản 2)."
    )
    assert message["Bcc"] is None
    assert mailbox.envelopes[0][1] == ["daibieu01@phuong.gov.vn"]
    database.expire_all()
    [row] = database.exec(select(Notification).where(Notification.user_id == wants.id)).all()
    assert row.emailed_at is not None and not row.mail_due


async def test_the_notification_posts_need_the_csrf_token(client, accounts, database, maker):
    owner = accounts.user("daibieu01", email="cu@phuong.gov.vn")
    async with maker() as db:
        await notifications.notify(
            db,
            [owner.id],
            notifications.BOOK_PUBLISHED,
            params={"meeting": "Kỳ họp", "version": 1},
            link="/meetings/1/read",
        )
        await db.commit()
    await client.login("daibieu01")
    for path, form in [
        ("/notifications/read", {}),
        ("/notifications/settings", {"email": "ke-gian@evil.example"}),
    ]:
        forged = await client.raw.post(path, data=form)  # no X-CSRFToken, no _csrf_token
        assert forged.status_code == 403, path
    database.expire_all()
    assert database.get(type(owner), owner.id).email == "cu@phuong.gov.vn"
    [row] = database.exec(select(Notification).where(Notification.user_id == owner.id)).all()
    assert row.read_at is None
