"""Staff accounts: named, with a role, passwords hashed with Argon2 (memory-hard).

{prefix:staff}:user:NAME          hash: role, password hash
{prefix:staff}:signin:WHO         failed sign-ins in the current window
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

Role = Literal["editor", "reviewer"]
ROLES: tuple[Role, ...] = ("editor", "reviewer")
MAX_FAILURES = 5  # sign-in attempts per name, and per address, in one window
FAILURE_WINDOW = 900  # seconds
MIN_PASSWORD = 10


@dataclass(frozen=True, slots=True)
class Account:
    name: str
    role: Role

    @property
    def can_publish(self) -> bool:
        return self.role == "reviewer"


class AccountError(Exception):
    pass


class Accounts:
    def __init__(self, client: Any, prefix: str):
        tag = f"{{{prefix}:staff}}"
        self._redis = client
        self._user = f"{prefix}:{tag}:user:"
        self._failures = f"{prefix}:{tag}:signin:"
        self._hasher = PasswordHasher()
        self._unknown = self._hasher.hash("an account that does not exist")

    async def add(self, name: str, role: str, password: str) -> Account:
        name = name.strip().lower()
        if not name.isidentifier() and not name.replace(".", "").replace("-", "").isalnum():
            raise AccountError("use letters, digits, dots or dashes for the name")
        if role not in ROLES:
            raise AccountError(f"role must be one of {', '.join(ROLES)}")
        if len(password) < MIN_PASSWORD:
            raise AccountError(f"use a password of at least {MIN_PASSWORD} characters")
        await self._redis.hset(
            self._user + name, mapping={"role": role, "hash": self._hasher.hash(password)}
        )
        return Account(name, role)  # type: ignore[arg-type]

    async def get(self, name: str) -> Account | None:
        role = await self._redis.hget(self._user + name, "role")
        return Account(name, role) if role in ROLES else None

    async def sign_in(self, name: str, password: str, address: str) -> Account | None:
        """The account, or None. Raises AccountError while sign-ins are paused."""
        name = name.strip().lower()
        keys = [self._failures + "name:" + name, self._failures + "address:" + address]
        counts = [int(value or 0) for value in await self._redis.mget(keys)]
        if max(counts) >= MAX_FAILURES:
            raise AccountError("too many failed sign-ins: wait 15 minutes and try again")
        stored = await self._redis.hgetall(self._user + name)
        # Verify even for an unknown name, so the answer's timing does not tell names apart.
        if self._matches(stored.get("hash", self._unknown), password) and stored:
            await self._redis.delete(keys[0])
            return Account(name, stored["role"])
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.incr(key)
                pipe.expire(key, FAILURE_WINDOW, nx=True)
            await pipe.execute()
        return None

    def _matches(self, stored_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False
