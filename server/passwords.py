"""Argon2id password hashing in a small thread pool, never on the event loop."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from server.settings import Settings

# A hash that verifies nothing, so an unknown username costs as much time as a known one.
_DUMMY_PASSWORD = "phonghop-no-such-user"


class Passwords:
    """Hashes and verifies passwords with the configured Argon2id parameters.

    argon2-cffi releases the GIL while hashing, so threads give real parallelism;
    the pool is never bigger than the core count.
    """

    def __init__(self, settings: Settings) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
            type=Type.ID,
        )
        self._pool = ThreadPoolExecutor(
            max_workers=os.cpu_count() or 1, thread_name_prefix="argon2"
        )
        self._dummy_hash: str | None = None

    def hash_now(self, password: str) -> str:
        """Hash on the calling thread: for the CLI and seeding, not for request handlers."""
        return self._hasher.hash(password)

    async def hash(self, password: str) -> str:
        return await asyncio.get_running_loop().run_in_executor(self._pool, self.hash_now, password)

    async def verify(self, stored_hash: str | None, password: str) -> tuple[bool, bool]:
        """(password matches, hash should be redone with the current parameters)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._verify, stored_hash, password)

    def _verify(self, stored_hash: str | None, password: str) -> tuple[bool, bool]:
        if not stored_hash:
            if self._dummy_hash is None:
                self._dummy_hash = self._hasher.hash(_DUMMY_PASSWORD)
            stored_hash = self._dummy_hash
            password = password + "\0"  # never matches the dummy
        try:
            self._hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False, False
        return True, self._hasher.check_needs_rehash(stored_hash)

    def close(self) -> None:
        self._pool.shutdown(wait=False)
