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
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields
from typing import Any, Protocol, TypeVar

from redis import asyncio as aioredis
from redis.exceptions import RedisError

from bot.errors import StoreUnavailable
from bot.models import Session

log = logging.getLogger("smsbot.store")

PENDING = "p:"  # a claimed MessageSid whose answer is not written yet: "p:<unix time>"
PENDING_TTL = 30  # seconds before a claim by a crashed worker is given up
MAX_ANSWERS = 500  # answers kept per sender; a runaway auto-responder cannot grow it further
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One read of a sender's state, to route with and to commit against."""

    session: Session | None  # None: never seen, or expired
    raw: str  # the session as stored ("" when absent); commit compares against it
    claimed: bool  # this delivery holds the MessageSid
    answer: str | None = None  # for a repeated MessageSid: the answer recorded, if done
    recent: int = 1  # messages from this sender in the current flood window, this one included


class Keys:
    """The one place key names are made. `{...}` is a Redis Cluster hash tag: all keys of one
    sender live in one slot, so one script can touch them together."""

    def __init__(self, prefix: str):
        self.prefix = prefix

    def all_but_opt_out(self, sender: str) -> list[str]:
        return [self.session(sender), self.answers(sender), self.flood(sender)]

    def session(self, sender: str) -> str:
        return f"{self.prefix}:{{{sender}}}:s"

    def opt_out(self, sender: str) -> str:
        return f"{self.prefix}:{{{sender}}}:o"

    def answers(self, sender: str) -> str:
        """A hash: MessageSid -> the answer given (snippet IDs), for Twilio's retries."""
        return f"{self.prefix}:{{{sender}}}:m"

    def flood(self, sender: str) -> str:
        return f"{self.prefix}:{{{sender}}}:f"


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
    """`begin` and `commit` are one round trip each; `reread` only runs after a lost race."""

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

# KEYS: answers, session, opt-out, flood counter.
# ARGV: MessageSid, pending TTL, answers TTL, flood window, max answers.
# Claims the MessageSid (set-if-absent; a claim left by a crashed worker expires) and, for a new
# message, counts it in the flood window. Returns {claimed, recorded answer or false, session,
# opted out, messages in window}.
BEGIN_SCRIPT = """
local now = tonumber(redis.call('TIME')[1])
local recorded = redis.call('HGET', KEYS[1], ARGV[1])
local pending = recorded and string.sub(recorded, 1, 2) == 'p:'
local stale = pending and now - tonumber(string.sub(recorded, 3)) > tonumber(ARGV[2])
local claimed = (not recorded) or stale
local recent = 0
if claimed then
  if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[5]) then redis.call('DEL', KEYS[1]) end
  redis.call('HSET', KEYS[1], ARGV[1], 'p:' .. now)
  redis.call('EXPIRE', KEYS[1], ARGV[3])
  recent = redis.call('INCR', KEYS[4])
  if recent == 1 then redis.call('EXPIRE', KEYS[4], ARGV[4]) end
end
local answer = false
if recorded and not pending then answer = recorded end
return {claimed and 1 or 0, answer, redis.call('GET', KEYS[2]), redis.call('EXISTS', KEYS[3]),
        recent}
"""

# KEYS: session, opt-out, answers. ARGV: expected session, expected opt-out ("1"/""), new session,
# new opt-out, session TTL, MessageSid, answer, answers TTL. Returns 1 when written, 0 when
# someone else wrote first (the caller reads again and re-routes).
COMMIT_SCRIPT = """
local current = redis.call('GET', KEYS[1]) or ''
local opted = redis.call('EXISTS', KEYS[2]) == 1 and '1' or ''
if current ~= ARGV[1] or opted ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[1], ARGV[3], 'EX', ARGV[5])
if ARGV[4] == '1' then redis.call('SET', KEYS[2], '1') else redis.call('DEL', KEYS[2]) end
redis.call('HSET', KEYS[3], ARGV[6], ARGV[7])
redis.call('EXPIRE', KEYS[3], ARGV[8])
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
        flood_window: int = 300,
        cooldown: float = 1.0,
    ):
        self._redis = client
        self._keys = keys
        self._session_ttl = session_ttl
        self._answer_ttl = answer_ttl
        self._timeout = timeout
        self._flood_window = flood_window
        self._cooldown = cooldown
        self._down_until = 0.0
        self._begin = client.register_script(BEGIN_SCRIPT)
        self._commit = client.register_script(COMMIT_SCRIPT)

    @classmethod
    def from_url(
        cls,
        url: str,
        keys: Keys,
        session_ttl: int,
        answer_ttl: int,
        timeout: float,
        flood_window: int = 300,
    ) -> RedisStore:
        client = aioredis.Redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            health_check_interval=30,
        )
        return cls(client, keys, session_ttl, answer_ttl, timeout, flood_window)

    async def begin(self, sender: str, message_id: str) -> Snapshot:
        keys = [
            self._keys.answers(sender),
            self._keys.session(sender),
            self._keys.opt_out(sender),
            self._keys.flood(sender),
        ]
        args = [message_id, PENDING_TTL, self._answer_ttl, self._flood_window, MAX_ANSWERS]
        claimed, answer, raw, opted, recent = await self._call(
            lambda: self._begin(keys=keys, args=args)
        )
        raw = raw or ""
        return Snapshot(
            decode_session(raw, bool(opted)),
            raw,
            claimed=bool(claimed),
            answer=answer or None,
            recent=int(recent),
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
        value = await self._call(lambda: self._redis.hget(self._keys.answers(sender), message_id))
        return None if value is None or value.startswith(PENDING) else value

    async def commit(
        self, sender: str, message_id: str, before: Snapshot, after: Session, answer: str
    ) -> bool:
        was_opted = bool(before.session and before.session.opted_out)
        keys = [
            self._keys.session(sender),
            self._keys.opt_out(sender),
            self._keys.answers(sender),
        ]
        args = [
            before.raw,
            "1" if was_opted else "",
            encode_session(after),
            "1" if after.opted_out else "",
            self._session_ttl,
            message_id,
            answer,
            self._answer_ttl,
        ]
        written = await self._call(lambda: self._commit(keys=keys, args=args))
        return bool(written)

    async def forget(self, sender: str) -> None:
        """Delete everything kept about this sender except the opt-out."""
        await self._call(lambda: self._redis.delete(*self._keys.all_but_opt_out(sender)))

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
        flood_window: int = 300,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._keys = keys
        self._session_ttl = session_ttl
        self._answer_ttl = answer_ttl
        self._flood_window = flood_window
        self._clock = clock
        self._data: dict[str, tuple[Any, float | None]] = {}
        self._writes = 0

    async def begin(self, sender: str, message_id: str) -> Snapshot:
        now = self._clock()
        answers: dict[str, str] = self._get(self._keys.answers(sender)) or {}
        recorded = answers.get(message_id)
        pending = recorded is not None and recorded.startswith(PENDING)
        stale = pending and now - float(recorded[len(PENDING) :]) > PENDING_TTL
        claimed = recorded is None or stale
        recent = 0
        if claimed:
            if len(answers) >= MAX_ANSWERS:
                answers = {}
            answers[message_id] = f"{PENDING}{now}"
            self._set(self._keys.answers(sender), answers, self._answer_ttl)
            recent = self._count(self._keys.flood(sender))
        snapshot = await self.reread(sender)
        return Snapshot(
            snapshot.session,
            snapshot.raw,
            claimed=claimed,
            answer=recorded if recorded is not None and not pending else None,
            recent=recent,
        )

    async def reread(self, sender: str) -> Snapshot:
        raw = self._get(self._keys.session(sender)) or ""
        opted = self._get(self._keys.opt_out(sender)) is not None
        return Snapshot(decode_session(raw, opted), raw, claimed=True)

    async def answer(self, sender: str, message_id: str) -> str | None:
        value = (self._get(self._keys.answers(sender)) or {}).get(message_id)
        return None if value is None or value.startswith(PENDING) else value

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
        answers = self._get(self._keys.answers(sender)) or {}
        answers[message_id] = answer
        self._set(self._keys.answers(sender), answers, self._answer_ttl)
        return True

    async def forget(self, sender: str) -> None:
        """Delete everything kept about this sender except the opt-out."""
        for key in self._keys.all_but_opt_out(sender):
            self._data.pop(key, None)

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._data.clear()

    def _count(self, key: str) -> int:
        """INCR with the expiry set by the first message of the window."""
        item = self._data.get(key)
        if item is None or (item[1] is not None and item[1] <= self._clock()):
            self._set(key, 1, self._flood_window)
            return 1
        self._data[key] = (item[0] + 1, item[1])
        return item[0] + 1

    def _get(self, key: str) -> Any:
        item = self._data.get(key)
        if item is None:
            return None
        value, expires = item
        if expires is not None and expires <= self._clock():
            del self._data[key]
            return None
        return value

    def _set(self, key: str, value: Any, ttl: float | None) -> None:
        self._data[key] = (value, None if ttl is None else self._clock() + ttl)
        self._writes += 1
        if self._writes % self.SWEEP_EVERY == 0:
            now = self._clock()
            for stale in [
                k for k, (_, exp) in self._data.items() if exp is not None and exp <= now
            ]:
                del self._data[stale]
