"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives: the `mailbox` fixture.

Point the app at it with `mailbox.settings(settings)`; `mailbox.wait(n)` waits for n messages.
Addresses in `mailbox.refuse` are answered 550, as a real server does for an unknown mailbox.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from server.settings import Settings

CEILING_S = 30.0  # a busy 2-core machine's ceiling for a message to arrive


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse: set[str] = set()
        self.arrived = threading.Condition()
        self.port = 0

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.arrived:
            self.messages.append(message)  # type: ignore[arg-type]
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.arrived.notify_all()
        return "250 Message accepted"

    def settings(self, settings: Settings) -> Settings:
        return replace(
            settings,
            smtp_host="127.0.0.1",
            smtp_port=self.port,
            smtp_from="HĐND phường Thử Nghiệm <hdnd@thunghiem.gov.vn>",
        )

    def wait(self, count: int) -> list[EmailMessage]:
        deadline = time.monotonic() + CEILING_S
        with self.arrived:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"{len(self.messages)} of {count} messages arrived"
                self.arrived.wait(left)
            return list(self.messages)

    def to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.messages if message["To"] == address]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    box.port = _free_port()
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


def closed_port() -> int:
    """A loopback port nothing listens on: a mail server that cannot be reached."""
    return _free_port()
