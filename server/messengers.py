"""SMS and Zalo: the plug point for short messages to a person's phone (docs/INVITATIONS.md).

phonghop has no SMS brandname or Zalo Official Account of its own: a council that has one
writes a Messenger for it (its provider's HTTP API) and names it in PHONGHOP_MESSENGER.
The only one built in, "log", sends nothing: it writes to the log what it would have sent
and says so, so an operator never believes a message went out when it did not.
"""

from __future__ import annotations

import logging
from typing import Protocol

from server.settings import Settings

log = logging.getLogger("phonghop.messengers")


class Messenger(Protocol):
    """Sends one short text to a phone number; raises on failure, returns True when sent."""

    name: str

    async def send(self, to_phone: str, text: str) -> bool: ...


class LogOnly:
    """Writes the message to the log and reports that nothing was sent."""

    name = "log"

    async def send(self, to_phone: str, text: str) -> bool:
        log.info("NOT SENT (PHONGHOP_MESSENGER=log, no SMS/Zalo sender): to %s: %s", to_phone, text)
        return False


def messenger_for(settings: Settings) -> Messenger:
    """The sender PHONGHOP_MESSENGER names; settings.py refuses names it does not know."""
    return LogOnly()
