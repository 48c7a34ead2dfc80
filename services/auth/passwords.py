"""Password hashing with argon2id; a dummy hash keeps unknown-email logins as slow as real ones."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


class Passwords:
    def __init__(
        self, *, time_cost: int, memory_kib: int, parallelism: int, max_concurrent: int
    ) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism
        )
        self._dummy_hash = self._hasher.hash("dummy password for timing equalisation")
        # Each hash holds `memory_kib` for its duration: a burst of logins must not multiply
        # that by the thread pool's size, nor starve the event loop's threads.
        self._slots = asyncio.Semaphore(max_concurrent)

    async def hash(self, password: str) -> str:
        # argon2 runs GIL-free C code for tens of ms: keep it off the event loop.
        async with self._slots:
            return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        """Constant-cost check: an absent hash is compared against a dummy and always fails."""
        target = stored_hash or self._dummy_hash
        try:
            async with self._slots:
                ok = await asyncio.to_thread(self._hasher.verify, target, password)
        except (VerificationError, InvalidHashError):
            return False
        return bool(ok) and stored_hash is not None

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._hasher.check_needs_rehash(stored_hash)
