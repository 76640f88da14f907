"""Staff accounts: named, with a role, passwords hashed with Argon2 (memory-hard).

The accounts, and the sign-in attempts on each name from each address, live in Redis (keys in
bot/store/keys.py). The limit is per name and address (the client address as the server reports
it: behind a reverse proxy, uvicorn's --proxy-headers makes it the browser's): someone guessing
can at worst pause the one name they guess, for one window, and never everyone behind the same
proxy.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bot.errors import AccountError
from bot.models import ROLES, Role
from bot.store.keys import StaffKeys

MAX_NAME = 64  # account names; longer typed names are cut before they become Redis keys
MAX_FAILURES = 5  # failed sign-ins per name and address in one window
FAILURE_WINDOW = 900  # seconds
MIN_PASSWORD = 10
VERIFY_AT_ONCE = 2  # Argon2 checks running at the same time, 64 MiB each

# One more attempt; the window starts at the first and later ones do not extend it.
COUNT_ATTEMPT = """
local attempts = redis.call('INCR', KEYS[1])
if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return attempts
"""


@dataclass(frozen=True, slots=True)
class Account:
    name: str
    role: Role

    @property
    def can_publish(self) -> bool:
        return self.role == "reviewer"

    @property
    def can_edit(self) -> bool:
        """A nurse works the callback queue only; the catalog is for editors and reviewers."""
        return self.role != "nurse"

    @property
    def can_call_back(self) -> bool:
        return self.role in ("nurse", "reviewer")


class Accounts:
    """`hasher`: Argon2's defaults (64 MiB, 3 passes) unless given; tests pass a cheap one."""

    def __init__(self, client: Any, keys: StaffKeys, hasher: PasswordHasher | None = None):
        self._redis = client
        self._keys = keys
        self._hasher = hasher or PasswordHasher()
        self._unknown_hash: str | None = None
        self._verifying = asyncio.Semaphore(VERIFY_AT_ONCE)
        self._count_attempt = client.register_script(COUNT_ATTEMPT)

    async def add(self, name: str, role: str, password: str) -> Account:
        name = name.strip().lower()
        if len(name) > MAX_NAME:
            raise AccountError(f"use a name of at most {MAX_NAME} characters")
        if not name.isidentifier() and not name.replace(".", "").replace("-", "").isalnum():
            raise AccountError("use letters, digits, dots or dashes for the name")
        if role not in ROLES:
            raise AccountError(f"role must be one of {', '.join(ROLES)}")
        if len(password) < MIN_PASSWORD:
            raise AccountError(f"use a password of at least {MIN_PASSWORD} characters")
        await self._redis.hset(
            self._keys.user(name), mapping={"role": role, "hash": self._hasher.hash(password)}
        )
        return Account(name, role)

    async def get(self, name: str) -> Account | None:
        role = await self._redis.hget(self._keys.user(name), "role")
        return Account(name, role) if role in ROLES else None

    async def sign_in(self, name: str, password: str, address: str) -> Account | None:
        """The account, or None. Raises AccountError while sign-ins are paused."""
        name = name.strip().lower()[:MAX_NAME]
        key = self._keys.sign_in_attempts(name, address)
        # Counted before it is checked, so that attempts sent in parallel count too.
        attempts = await self._count_attempt(keys=[key], args=[FAILURE_WINDOW])
        if int(attempts) > MAX_FAILURES:
            raise AccountError("too many failed sign-ins: wait 15 minutes and try again")
        stored = await self._redis.hgetall(self._keys.user(name))
        # Verify even for an unknown name, so the answer's timing does not tell names apart.
        # Argon2 takes tens of milliseconds: in a worker thread, while SMS keep being answered.
        async with self._verifying:
            matches = await asyncio.to_thread(
                self._matches, stored.get("hash") or self._unknown(), password
            )
        if matches and stored:
            await self._redis.delete(key)
            return Account(name, stored["role"])
        return None

    def _unknown(self) -> str:
        """A hash to check an unknown name against, made on the first sign-in, not per start."""
        if self._unknown_hash is None:
            self._unknown_hash = self._hasher.hash("an account that does not exist")
        return self._unknown_hash

    def _matches(self, stored_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False
