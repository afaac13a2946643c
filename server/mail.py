"""E-mail through the council's SMTP server (PHONGHOP_SMTP_*); smtplib runs in a worker thread.

No PHONGHOP_SMTP_HOST means no e-mail: `mail_enabled` says so and the pages tell the secretary.
A failure raises MailError whose `code` names what went wrong in words a secretary can act on;
the server's own answer goes to the log for the IT officer.
"""

from __future__ import annotations

import asyncio
import logging
import os
import smtplib
import ssl
from collections.abc import Sequence
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from server.i18n import N_
from server.settings import Settings

log = logging.getLogger("phonghop.mail")

# what a failure's code means, for the pages (msgids translated where they are shown)
FAILURES = {
    "off": N_("E-mail is off: the server has no SMTP host (PHONGHOP_SMTP_HOST)."),
    "bad_address": N_("The e-mail address is not valid."),
    "unreachable": N_("The mail server could not be reached; try again later."),
    "sign_in": N_("The mail server refused the sign-in; ask the IT officer to check the settings."),
    "refused": N_("The mail server refused this address."),
    "failed": N_("The mail server refused the message."),
}


class MailError(Exception):
    """A message that did not go out; `code` is a key of FAILURES."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail

    @property
    def message(self) -> str:
        return FAILURES[self.code]


def mail_enabled(settings: Settings) -> bool:
    return bool(settings.smtp_host)


def valid_address(text: str) -> bool:
    """One plain address (local@domain.tld), nothing a header could be smuggled through."""
    if not text or len(text) > 254 or any(ch.isspace() or ch in '<>,;"()[]\\' for ch in text):
        return False
    try:
        address = Address(addr_spec=text)
    except (ValueError, IndexError):
        return False
    return bool(address.username) and "." in address.domain and not address.domain.startswith(".")


async def send_mail(
    settings: Settings,
    to: str,
    subject: str,
    text: str,
    attachments: Sequence[tuple[str, bytes, str]] = (),
) -> None:
    """Send one plain-text message to `to`, with attachments as (file name, bytes, MIME type).

    Raises MailError when e-mail is off, the address is not valid or the server refuses."""
    if not mail_enabled(settings):
        raise MailError("off")
    if not valid_address(to):
        raise MailError("bad_address", to)
    message = _message(settings, to, subject, text, attachments)
    password = os.environ.get("PHONGHOP_SMTP_PASSWORD", "")
    await asyncio.to_thread(_send_now, settings, message, password)


def _message(
    settings: Settings,
    to: str,
    subject: str,
    text: str,
    attachments: Sequence[tuple[str, bytes, str]],
) -> EmailMessage:
    sender = settings.smtp_from or settings.smtp_user or f"phonghop@{settings.smtp_host}"
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = " ".join(subject.split())  # a title typed with line breaks
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=_domain(sender))
    message.set_content(text)
    for name, data, mime in attachments:
        maintype, _, subtype = mime.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message


def _domain(sender: str) -> str:
    address = sender.rpartition("<")[2].rstrip(">")
    return address.rpartition("@")[2] or "phonghop"


def _send_now(settings: Settings, message: EmailMessage, password: str) -> None:
    host, port = settings.smtp_host, settings.smtp_port
    try:
        with smtplib.SMTP(host, port, timeout=settings.smtp_timeout_s) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                smtp.login(settings.smtp_user, password)
            smtp.send_message(message)
    except smtplib.SMTPAuthenticationError as exc:
        log.warning("smtp %s:%s refused the sign-in of %s: %s", host, port, settings.smtp_user, exc)
        raise MailError("sign_in", str(exc)) from exc
    except smtplib.SMTPRecipientsRefused as exc:
        log.warning("smtp %s:%s refused %s: %s", host, port, message["To"], exc.recipients)
        raise MailError("refused", str(exc.recipients)) from exc
    except smtplib.SMTPException as exc:
        log.warning("smtp %s:%s refused a message to %s: %s", host, port, message["To"], exc)
        raise MailError("failed", str(exc)) from exc
    except OSError as exc:  # refused connection, unknown host, timeout, TLS handshake
        log.warning("smtp %s:%s unreachable: %s", host, port, exc)
        raise MailError("unreachable", str(exc)) from exc
    log.info("mail sent to %s: %s", message["To"], message["Subject"])
