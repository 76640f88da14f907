"""Staff accounts: named, with a role, passwords hashed with Argon2 (memory-hard).

The accounts, and the sign-in attempts on each name from each address, live in Redis (keys in
bot/store/keys.py). Three limits: per name and address (the client address as the server reports
it: behind a reverse proxy, uvicorn's --proxy-headers makes it the browser's), per address across
names (password spraying), and per name from any address, which paces attempts (one a minute at
most) instead of refusing them, so that guessing a colleague's name cannot lock them out.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bot.console.sessions import StaffSessions
from bot.errors import AccountError
from bot.models import ROLES, Role
from bot.store.keys import StaffKeys

MAX_NAME = 64  # account names; longer typed names are cut before they become Redis keys
NAME = re.compile(rf"[a-z0-9][a-z0-9.-]{{0,{MAX_NAME - 1}}}")
MAX_FAILURES = 5  # failed sign-ins per name and address in one window
# Per name from any address (rotating addresses or X-Forwarded-For gains nothing), and per
# address across names (spraying one password over many names, or a flood of Argon2 work).
MAX_PER_ACCOUNT = 20
MAX_PER_ADDRESS = 40
ANY = "*"  # stands for "every address" or "every name" in an attempts key
FAILURE_WINDOW = 900  # seconds
MIN_PASSWORD = 10
VERIFY_AT_ONCE = 2  # Argon2 checks running at the same time, 64 MiB each

# Past MAX_PER_ACCOUNT failures on a name (from any address), attempts are paced rather than
# refused: one every ACCOUNT_PACE seconds, doubling with each attempt up to ACCOUNT_PACE_CEILING.
# A guesser gets one try a minute; the colleague whose name is guessed can still sign in.
ACCOUNT_PACE = 1.0
ACCOUNT_PACE_CEILING = 60.0
# The account's attempts (KEYS[1]) and when its next one may come (KEYS[2], ms since the epoch
# by Redis's clock). Returns how many ms to wait, 0 when this attempt may go on.
PACE_ACCOUNT = """
local attempts = redis.call('INCR', KEYS[1])
if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local over = attempts - tonumber(ARGV[2])
if over <= 0 then return 0 end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local after = tonumber(redis.call('GET', KEYS[2]) or '0')
if now < after then return after - now end
local delay = math.min(tonumber(ARGV[3]) * 2 ^ (over - 1), tonumber(ARGV[4]))
redis.call('SET', KEYS[2], now + delay, 'PX', tonumber(ARGV[1]) * 1000)
return 0
"""

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
        self._pace_account = client.register_script(PACE_ACCOUNT)
        self.sessions = StaffSessions(client, keys)

    async def add(self, name: str, role: str, password: str, replace: bool = False) -> Account:
        """A new account; `replace` also resets an existing one (and ends its sessions)."""
        name = valid_name(name)
        if role not in ROLES:
            raise AccountError(f"role must be one of {', '.join(ROLES)}")
        _check_password(password)
        key = self._keys.user(name)
        if not replace and await self._redis.exists(key):
            raise AccountError(f"{name} exists already: `smsbot staff password {name}` resets it")
        await self._redis.delete(key)
        await self._redis.hset(key, mapping={"role": role, "hash": self._hasher.hash(password)})
        await self.sessions.end_all(name)
        return Account(name, role)

    async def set_password(self, name: str, password: str) -> int:
        """A new password; every session of the account ends. How many sessions ended."""
        _check_password(password)
        name = await self._existing(name)
        await self._redis.hset(self._keys.user(name), "hash", self._hasher.hash(password))
        return await self.sessions.end_all(name)

    async def disable(self, name: str) -> int:
        """No more sign-ins and no session, until `enable`; the account stays in the trail."""
        name = await self._existing(name)
        await self._redis.hset(self._keys.user(name), "disabled", "1")
        return await self.sessions.end_all(name)

    async def enable(self, name: str) -> None:
        await self._redis.hdel(self._keys.user(await self._existing(name)), "disabled")

    async def remove(self, name: str) -> int:
        name = await self._existing(name)
        await self._redis.delete(self._keys.user(name))
        return await self.sessions.end_all(name)

    async def all(self) -> list[tuple[str, str, bool]]:
        """(name, role, disabled) of every account, by name."""
        found = []
        prefix = self._keys.users_pattern[:-1]
        async for key in self._redis.scan_iter(match=self._keys.users_pattern, count=500):
            stored = await self._redis.hgetall(key)
            name = key.removeprefix(prefix)
            found.append((name, stored.get("role", "?"), stored.get("disabled") == "1"))
        return sorted(found)

    async def _existing(self, name: str) -> str:
        name = name.strip().lower()
        if not await self._redis.exists(self._keys.user(name)):
            raise AccountError(f"there is no account {name!r}")
        return name

    async def exists(self, name: str) -> bool:
        return bool(await self._redis.exists(self._keys.user(name.strip().lower()[:MAX_NAME])))

    async def get(self, name: str) -> Account | None:
        role, disabled = await self._redis.hmget(self._keys.user(name), "role", "disabled")
        return Account(name, role) if role in ROLES and not disabled else None

    async def sign_in(self, name: str, password: str, address: str) -> Account | None:
        """The account, or None. Raises AccountError while sign-ins are paused."""
        name = name.strip().lower()[:MAX_NAME]
        key = self._keys.sign_in_attempts(name, address)
        account_key = self._keys.sign_in_attempts(name, ANY)
        limits = ((key, MAX_FAILURES), (self._keys.sign_in_attempts(ANY, address), MAX_PER_ADDRESS))
        # Counted before it is checked, so that attempts sent in parallel count too; and
        # before any Argon2 work, so that a flood costs the server nothing past the limits.
        # The pace first: an attempt it turns away does not use up this address's five.
        await self._paced(account_key, self._keys.sign_in_pace(name))
        for counter, limit in limits:
            attempts = await self._count_attempt(keys=[counter], args=[FAILURE_WINDOW])
            if int(attempts) > limit:
                raise AccountError("too many failed sign-ins: wait 15 minutes and try again")
        stored = await self._redis.hgetall(self._keys.user(name))
        # Verify even for an unknown name, so the answer's timing does not tell names apart.
        # Argon2 takes tens of milliseconds: in a worker thread, while SMS keep being answered.
        async with self._verifying:
            matches = await asyncio.to_thread(
                self._matches, stored.get("hash") or self._unknown(), password
            )
        if matches and stored and stored.get("disabled") != "1":
            await self._redis.delete(key, account_key, self._keys.sign_in_pace(name))
            return Account(name, stored["role"])
        return None

    async def _paced(self, account_key: str, pace_key: str) -> None:
        wait_ms = await self._pace_account(
            keys=[account_key, pace_key],
            args=[
                FAILURE_WINDOW,
                MAX_PER_ACCOUNT,
                int(ACCOUNT_PACE * 1000),
                int(ACCOUNT_PACE_CEILING * 1000),
            ],
        )
        if int(wait_ms) > 0:
            seconds = max(1, round(int(wait_ms) / 1000))
            raise AccountError(
                f"too many failed sign-ins for this name: wait {seconds} seconds and try again"
            )

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


def valid_name(name: str) -> str:
    """Account names in a small alphabet: lower-case ASCII letters, digits, dots and dashes.
    Any other script lets a look-alike pass for a colleague: a Cyrillic o looks just like
    the Latin one."""
    name = name.strip().lower()
    if not NAME.fullmatch(name):
        raise AccountError(
            f"use a name of 1 to {MAX_NAME} characters: a-z, 0-9, dots and dashes, "
            "starting with a letter or digit"
        )
    return name


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"use a password of at least {MIN_PASSWORD} characters")
