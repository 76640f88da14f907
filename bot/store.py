"""Where sessions live between messages: Redis in production, memory for a quick local run.

Both stores keep the same promises, and one test suite runs against each:
- `begin` claims the MessageSid atomically (set-if-absent). A second delivery of the same
  message sees the claim and gets the first answer instead of advancing the session again.
- `commit` writes the new session only if nobody changed it since `begin` read it
  (compare-and-set), so two messages racing from one sender never lose an update.
- Sessions expire after the idle time; an opt-out never expires.
Every Redis error or timeout becomes `StoreUnavailable`, and the caller answers without state.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields
from typing import Any, Protocol, TypeVar

from redis import asyncio as aioredis
from redis.exceptions import RedisError

from bot.errors import StoreUnavailable
from bot.models import Session

log = logging.getLogger("smsbot.store")

PENDING = ""  # a claimed MessageSid whose answer is not written yet
PENDING_TTL = 30  # seconds before a claim by a crashed worker is given up
SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One read of a sender's state, to route with and to commit against."""

    session: Session | None  # None: never seen, or expired
    raw: str  # the session as stored ("" when absent); commit compares against it
    claimed: bool  # this delivery holds the MessageSid
    answer: str | None = None  # for a repeated MessageSid: the answer recorded, if done


class Keys:
    """The one place key names are made. `{...}` is a Redis Cluster hash tag: all keys of one
    sender live in one slot, so one script can touch them together."""

    def __init__(self, prefix: str):
        self.prefix = prefix

    def session(self, sender: str) -> str:
        return f"{self.prefix}:{{{sender}}}:s"

    def opt_out(self, sender: str) -> str:
        return f"{self.prefix}:{{{sender}}}:o"

    def answer(self, sender: str, message_id: str) -> str:
        return f"{self.prefix}:{{{sender}}}:m:{message_id}"


def safe_message_id(message_id: str) -> str:
    """MessageSids are short and alphanumeric; anything else is hashed so keys stay tidy."""
    if SAFE_ID.match(message_id):
        return message_id
    import hashlib

    return "h" + hashlib.sha256(message_id.encode()).hexdigest()[:32]


# Sessions are stored as compact JSON with short keys; defaults are left out. An idle session
# then costs well under 200 bytes in Redis.
_SHORT = {"language": "l", "explicit": "x", "menu": "m", "topic": "t", "page": "p", "seen": "s"}
_DEFAULTS = {f.name: f.default for f in fields(Session)}


def encode_session(session: Session) -> str:
    data = {
        short: getattr(session, name)
        for name, short in _SHORT.items()
        if getattr(session, name) != _DEFAULTS[name]
    }
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def decode_session(raw: str, opted_out: bool) -> Session | None:
    if not raw:
        return Session(opted_out=True) if opted_out else None
    try:
        data = json.loads(raw)
        values = {name: data[short] for name, short in _SHORT.items() if short in data}
        return Session(**values, opted_out=opted_out)
    except (ValueError, TypeError):
        log.warning("discarding an unreadable session")
        return Session(opted_out=opted_out)


class SessionStore(Protocol):
    name: str

    async def begin(self, sender: str, message_id: str) -> Snapshot: ...

    async def reread(self, sender: str) -> Snapshot: ...

    async def answer(self, sender: str, message_id: str) -> str | None: ...

    async def commit(
        self, sender: str, message_id: str, before: Snapshot, after: Session, answer: str
    ) -> bool: ...

    async def forget(self, sender: str) -> None: ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...


# -- Redis ------------------------------------------------------------------------------------

# KEYS: session, opt-out, answer. ARGV: expected session, expected opt-out ("1"/""), new session,
# new opt-out, session TTL, answer, answer TTL. Returns 1 when written, 0 when someone else wrote
# first (the caller reads again and re-routes).
COMMIT_SCRIPT = """
local current = redis.call('GET', KEYS[1]) or ''
local opted = redis.call('EXISTS', KEYS[2]) == 1 and '1' or ''
if current ~= ARGV[1] or opted ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[1], ARGV[3], 'EX', ARGV[5])
if ARGV[4] == '1' then redis.call('SET', KEYS[2], '1') else redis.call('DEL', KEYS[2]) end
redis.call('SET', KEYS[3], ARGV[6], 'EX', ARGV[7])
return 1
"""


class RedisStore:
    name = "redis"

    def __init__(
        self,
        client: Any,
        keys: Keys,
        session_ttl: int,
        answer_ttl: int,
        timeout: float,
        cooldown: float = 1.0,
    ):
        self._redis = client
        self._keys = keys
        self._session_ttl = session_ttl
        self._answer_ttl = answer_ttl
        self._timeout = timeout
        self._cooldown = cooldown
        self._down_until = 0.0
        self._commit = client.register_script(COMMIT_SCRIPT)

    @classmethod
    def from_url(
        cls, url: str, keys: Keys, session_ttl: int, answer_ttl: int, timeout: float
    ) -> RedisStore:
        client = aioredis.Redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            health_check_interval=30,
        )
        return cls(client, keys, session_ttl, answer_ttl, timeout)

    async def begin(self, sender: str, message_id: str) -> Snapshot:
        answer_key = self._keys.answer(sender, message_id)

        async def read() -> list[Any]:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.set(answer_key, PENDING, nx=True, ex=PENDING_TTL)
                pipe.get(answer_key)
                pipe.get(self._keys.session(sender))
                pipe.exists(self._keys.opt_out(sender))
                return await pipe.execute()

        claimed, answer, raw, opted = await self._call(read)
        raw = raw or ""
        return Snapshot(
            decode_session(raw, bool(opted)),
            raw,
            claimed=bool(claimed),
            answer=None if claimed or answer == PENDING else answer,
        )

    async def reread(self, sender: str) -> Snapshot:
        async def read() -> list[Any]:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.get(self._keys.session(sender))
                pipe.exists(self._keys.opt_out(sender))
                return await pipe.execute()

        raw, opted = await self._call(read)
        return Snapshot(decode_session(raw or "", bool(opted)), raw or "", claimed=True)

    async def answer(self, sender: str, message_id: str) -> str | None:
        value = await self._call(lambda: self._redis.get(self._keys.answer(sender, message_id)))
        return None if value in (None, PENDING) else value

    async def commit(
        self, sender: str, message_id: str, before: Snapshot, after: Session, answer: str
    ) -> bool:
        was_opted = bool(before.session and before.session.opted_out)
        keys = [
            self._keys.session(sender),
            self._keys.opt_out(sender),
            self._keys.answer(sender, message_id),
        ]
        args = [
            before.raw,
            "1" if was_opted else "",
            encode_session(after),
            "1" if after.opted_out else "",
            self._session_ttl,
            answer,
            self._answer_ttl,
        ]
        written = await self._call(lambda: self._commit(keys=keys, args=args))
        return bool(written)

    async def forget(self, sender: str) -> None:
        await self._call(lambda: self._redis.delete(self._keys.session(sender)))

    async def ping(self) -> bool:
        try:
            return bool(await self._call(self._redis.ping))
        except StoreUnavailable:
            return False

    async def close(self) -> None:
        await self._redis.aclose()

    async def _call(self, operation: Callable[[], Awaitable[T]]) -> T:
        """Run one Redis operation within the time budget; map every failure to ours."""
        if time.monotonic() < self._down_until:
            raise StoreUnavailable("redis was unreachable moments ago")
        try:
            async with asyncio.timeout(self._timeout * 2):
                result = await operation()
        except (RedisError, OSError, TimeoutError) as exc:
            self._down_until = time.monotonic() + self._cooldown
            raise StoreUnavailable(f"redis: {type(exc).__name__}") from exc
        self._down_until = 0.0
        return result


# -- Embedded ---------------------------------------------------------------------------------


class MemoryStore:
    """The same promises in one process: for a newcomer's first run and the chat command.

    Operations never await in the middle, so on one event loop each is atomic.
    """

    name = "memory"
    SWEEP_EVERY = 1000

    def __init__(
        self,
        keys: Keys,
        session_ttl: int,
        answer_ttl: int,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._keys = keys
        self._session_ttl = session_ttl
        self._answer_ttl = answer_ttl
        self._clock = clock
        self._data: dict[str, tuple[str, float | None]] = {}
        self._writes = 0

    async def begin(self, sender: str, message_id: str) -> Snapshot:
        answer_key = self._keys.answer(sender, message_id)
        claimed = self._get(answer_key) is None
        if claimed:
            self._set(answer_key, PENDING, PENDING_TTL)
        answer = self._get(answer_key)
        snapshot = await self.reread(sender)
        return Snapshot(
            snapshot.session,
            snapshot.raw,
            claimed=claimed,
            answer=None if claimed or answer == PENDING else answer,
        )

    async def reread(self, sender: str) -> Snapshot:
        raw = self._get(self._keys.session(sender)) or ""
        opted = self._get(self._keys.opt_out(sender)) is not None
        return Snapshot(decode_session(raw, opted), raw, claimed=True)

    async def answer(self, sender: str, message_id: str) -> str | None:
        value = self._get(self._keys.answer(sender, message_id))
        return None if value in (None, PENDING) else value

    async def commit(
        self, sender: str, message_id: str, before: Snapshot, after: Session, answer: str
    ) -> bool:
        current = self._get(self._keys.session(sender)) or ""
        opted = self._get(self._keys.opt_out(sender)) is not None
        if current != before.raw or opted != bool(before.session and before.session.opted_out):
            return False
        self._set(self._keys.session(sender), encode_session(after), self._session_ttl)
        if after.opted_out:
            self._set(self._keys.opt_out(sender), "1", None)
        else:
            self._data.pop(self._keys.opt_out(sender), None)
        self._set(self._keys.answer(sender, message_id), answer, self._answer_ttl)
        return True

    async def forget(self, sender: str) -> None:
        self._data.pop(self._keys.session(sender), None)

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._data.clear()

    def _get(self, key: str) -> str | None:
        item = self._data.get(key)
        if item is None:
            return None
        value, expires = item
        if expires is not None and expires <= self._clock():
            del self._data[key]
            return None
        return value

    def _set(self, key: str, value: str, ttl: float | None) -> None:
        self._data[key] = (value, None if ttl is None else self._clock() + ttl)
        self._writes += 1
        if self._writes % self.SWEEP_EVERY == 0:
            now = self._clock()
            for stale in [
                k for k, (_, exp) in self._data.items() if exp is not None and exp <= now
            ]:
                del self._data[stale]
