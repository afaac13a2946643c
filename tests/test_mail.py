"""E-mail through a real SMTP server on loopback: what arrives, and each failure named."""

from __future__ import annotations

from dataclasses import replace

import pytest

from server.mail import MailError, send_mail, valid_address
from tests.mailbox import closed_port


async def test_a_message_with_a_pdf_arrives(settings, mailbox):
    pdf = b"%PDF-1.7 giay moi"
    await send_mail(
        mailbox.settings(settings),
        "daibieu@example.vn",
        "Giấy mời họp",
        "Kính gửi đại biểu",
        attachments=[("giay-moi.pdf", pdf, "application/pdf")],
    )
    (message,) = mailbox.wait(1)
    assert message["To"] == "daibieu@example.vn"
    assert message["Subject"] == "Giấy mời họp"
    assert "Kính gửi đại biểu" in message.get_body(("plain",)).get_content()
    (attached,) = list(message.iter_attachments())
    assert attached.get_filename() == "giay-moi.pdf"
    assert attached.get_content() == pdf


async def test_mail_is_off_without_a_host(settings):
    with pytest.raises(MailError) as caught:
        await send_mail(replace(settings, smtp_host=""), "a@example.vn", "s", "t")
    assert caught.value.code == "off"


@pytest.mark.parametrize(
    "address", ["", "khong-co-a-cong", "a@b", "a@example.vn\r\nBcc: x@y.vn", "a b@example.vn"]
)
async def test_a_bad_address_is_refused_before_sending(settings, mailbox, address):
    assert not valid_address(address)
    with pytest.raises(MailError) as caught:
        await send_mail(mailbox.settings(settings), address, "s", "t")
    assert caught.value.code == "bad_address"
    assert mailbox.messages == []


async def test_an_address_the_server_refuses_is_named(settings, mailbox):
    mailbox.refuse.add("khongco@example.vn")
    with pytest.raises(MailError) as caught:
        await send_mail(mailbox.settings(settings), "khongco@example.vn", "s", "t")
    assert caught.value.code == "refused"
    assert mailbox.messages == []


async def test_a_server_that_cannot_be_reached_is_named(settings):
    down = replace(settings, smtp_host="127.0.0.1", smtp_port=closed_port(), smtp_timeout_s=5)
    with pytest.raises(MailError) as caught:
        await send_mail(down, "a@example.vn", "s", "t")
    assert caught.value.code == "unreachable"


async def test_the_log_only_messenger_says_it_sent_nothing(settings, caplog):
    from server.messengers import messenger_for

    caplog.set_level("INFO", logger="phonghop.messengers")
    sent = await messenger_for(settings).send("0901234567", "Giấy mời họp HĐND")
    assert sent is False
    assert "NOT SENT" in caplog.text and "0901234567" in caplog.text


async def test_a_subject_with_line_breaks_goes_on_one_line_and_adds_no_header(settings, mailbox):
    await send_mail(
        mailbox.settings(settings),
        "daibieu@example.vn",
        "Giấy mời: Kỳ họp\r\nBcc: x@evil.example",
        "Kính gửi đại biểu",
    )
    (message,) = mailbox.wait(1)
    assert message["Subject"] == "Giấy mời: Kỳ họp Bcc: x@evil.example"
    assert message["Bcc"] is None
