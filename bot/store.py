"""Where sessions live between messages: Redis in production, memory for a quick local run.

Both stores keep the same promises, and one test suite runs against each. The whole of a
message's effect is one atomic `commit`, a single round trip to Redis:
- If this MessageSid was answered before, nothing changes and the recorded answer comes back:
  a Twilio retry never advances a session twice, even while the first delivery still runs.
- The new session is written only if the state it was routed from is still what is stored
  (compare-and-set). Otherwise the current state comes back and the caller routes again, so
  messages racing from one sender never lose an update.
- Routing starts from a guess with no I/O: the last state this process wrote or saw for the
  sender (Redis), or the state itself (memory). A wrong guess costs one more round trip.
- Sessions expire after the idle time; an opt-out never expires.
Every Redis error or timeout becomes `StoreUnavailable`, and the caller answers without state.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol, TypeVar

import hiredis
from redis import asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import NoScriptError, RedisError, ResponseError

from bot.errors import StoreUnavailable
from bot.models import Session

log = logging.getLogger("smsbot.store")

MAX_ANSWERS = 500  # answers kept per sender; a runaway auto-responder cannot grow it further
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class State:
    """A sender's state as stored: what routing starts from and what commit compares against."""

    raw: str = ""  # the session as stored, "" when absent
    opted_out: bool = False
    recent: int = 0  # messages counted in the current flood window, before this one

    @property
    def session(self) -> Session | None:
        return decode_session(self.raw, self.opted_out)


@dataclass(frozen=True, slots=True)
class Committed:
    state: State  # as stored now


@dataclass(frozen=True, slots=True)
class Duplicate:
    answer: str  # what the first delivery of this MessageSid answered


@dataclass(frozen=True, slots=True)
class Stale:
    state: State  # what is really stored: route again from here


CommitResult = Committed | Duplicate | Stale


def flood_class(count: int, limit: int) -> int:
    """0 within the limit, 1 for the first message over it (the notice), 2 after that."""
    if count <= limit:
        return 0
    return 1 if count == limit + 1 else 2


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


# A session is stored as one short line, fields in a fixed order after a format version:
#   "2|es|1|types|side_effects|2|1790000000|1789999000"
#   (language, chosen, menu, topic, page, last seen, last safety reply). Format 1 had no
#   last field and is still read.
# An idle session then costs well under 200 bytes in Redis, and reading one is a split.
SESSION_FORMAT = "2"
READABLE_FORMATS = {"1": 7, "2": 8}  # format -> number of fields
LANGUAGE_CODES = {"en": "en", "es": "es"}


def encode_session(session: Session) -> str:
    return "|".join(
        (
            SESSION_FORMAT,
            session.language or "",
            "1" if session.explicit else "",
            session.menu or "",
            session.topic or "",
            str(session.page) if session.page else "",
            str(session.seen) if session.seen else "",
            str(session.alarmed) if session.alarmed else "",
        )
    )


def decode_session(raw: str, opted_out: bool) -> Session | None:
    if not raw:
        return Session(opted_out=True) if opted_out else None
    fields = raw.split("|")
    try:
        if READABLE_FORMATS.get(fields[0]) != len(fields):
            raise ValueError(fields[0])
        _, language, explicit, menu, topic, page, seen, *rest = fields
        alarmed = int(rest[0] or 0) if rest else 0
        return Session(
            language=LANGUAGE_CODES.get(language),  # type: ignore[arg-type]
            explicit=explicit == "1",
            menu=menu or None,
            topic=topic or None,
            page=int(page or 0),
            seen=int(seen or 0),
            opted_out=opted_out,
            alarmed=alarmed,
        )
    except ValueError:
        log.warning("discarding an unreadable session")
        return Session(opted_out=opted_out)


class SessionStore(Protocol):
    name: str

    def guess(self, sender: str) -> State | None:
        """The sender's state without I/O if this process knows it, else None."""
        ...

    async def read(self, sender: str) -> State: ...

    async def commit(
        self, sender: str, message_id: str, expected: State, after: Session, answer: str
    ) -> CommitResult: ...

    async def forget(self, sender: str) -> None: ...

    def defer_opt_change(self, sender: str, opted_out: bool) -> None:
        """The store was away when this sender opted out (or in): save it once it is back."""
        ...

    def deferred_opt_change(self, sender: str) -> bool | None:
        """An opt-out (True) or opt-in (False) waiting to be saved, which routing must honour."""
        ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...


# -- Redis ------------------------------------------------------------------------------------

# KEYS: session, opt-out, answers (hash MessageSid -> answer), flood counter.
# ARGV: 1 MessageSid, 2 expected session, 3 expected opt-out ('1'/''), 4 expected flood count,
#       5 flood limit, 6 new session, 7 new opt-out, 8 session TTL, 9 answer, 10 answers TTL,
#       11 flood window, 12 max answers kept.
# Returns {0, count} when written, {1, answer} for a MessageSid answered before, and
# {2, session, opt-out, count} when the state moved on since the caller's guess.
COMMIT_SCRIPT = """
local recorded = redis.call('HGET', KEYS[3], ARGV[1])
if recorded then return {1, recorded} end
local current = redis.call('GET', KEYS[1]) or ''
local opted = redis.call('EXISTS', KEYS[2]) == 1 and '1' or ''
local count = tonumber(redis.call('GET', KEYS[4]) or '0')
local limit = tonumber(ARGV[5])
local function class(n)
  if n <= limit then return 0 elseif n == limit + 1 then return 1 else return 2 end
end
if current ~= ARGV[2] or opted ~= ARGV[3] or class(count + 1) ~= class(tonumber(ARGV[4]) + 1) then
  return {2, current, opted, count}
end
redis.call('SET', KEYS[1], ARGV[6], 'EX', ARGV[8])
if ARGV[7] == '1' then redis.call('SET', KEYS[2], '1')
elseif opted == '1' then redis.call('DEL', KEYS[2]) end
if redis.call('HLEN', KEYS[3]) >= tonumber(ARGV[12]) then redis.call('DEL', KEYS[3]) end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[9])
redis.call('EXPIRE', KEYS[3], ARGV[10])
count = redis.call('INCR', KEYS[4])
if count == 1 then redis.call('EXPIRE', KEYS[4], ARGV[11]) end
return {0, count}
"""


class Recent:
    """The last state this process saw per sender, bounded; a guess, never the truth."""

    def __init__(self, size: int):
        self._size = size
        self._states: OrderedDict[str, State] = OrderedDict()

    def get(self, sender: str) -> State | None:
        state = self._states.get(sender)
        if state is not None:
            self._states.move_to_end(sender)
        return state

    def put(self, sender: str, state: State) -> None:
        self._states[sender] = state
        self._states.move_to_end(sender)
        if len(self._states) > self._size:
            self._states.popitem(last=False)

    def drop(self, sender: str) -> None:
        self._states.pop(sender, None)


class ScriptBatcher:
    """Sends the script calls of all messages being handled at the same moment as one pipeline.

    Under load many webhooks are in flight at once; each would pay for its own round trip and
    its own trip through redis-py. Collecting the calls made during one turn of the event loop
    and sending them together costs one round trip for the lot (like ioredis auto-pipelining).
    With one message at a time it is simply one call.
    """

    def __init__(
        self, client: Any, script: str, timeout: float, on_round_trip: Callable[[], object]
    ):
        self._client = client
        self._script = client.register_script(script)
        self._timeout = timeout
        self._on_round_trip = on_round_trip
        self._waiting: list[tuple[list[str], list[Any], asyncio.Future[Any]]] = []

    async def call(self, keys: list[str], args: list[Any]) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting.append((keys, args, future))
        if len(self._waiting) == 1:  # the first caller of this turn schedules the send
            asyncio.get_running_loop().call_soon(self._send_waiting)
        return await future

    def _send_waiting(self) -> None:
        batch, self._waiting = self._waiting, []
        task = asyncio.ensure_future(self._send(batch))
        task.add_done_callback(_consume_exception)

    async def _send(self, batch: list[tuple[list[str], list[Any], asyncio.Future[Any]]]) -> None:
        try:
            results = await self._execute(batch)
        except BaseException as exc:
            for _, _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            raise
        for (_, _, future), result in zip(batch, results, strict=True):
            if future.done():  # the caller gave up (timeout)
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)

    async def _execute(self, batch: list[tuple[list[str], list[Any], Any]]) -> list[Any]:
        results = await self._send_calls(batch)
        missing = [i for i, result in enumerate(results) if isinstance(result, NoScriptError)]
        if missing:  # after a flush or failover; only those calls, the others have run
            await self._client.script_load(self._script.script)
            retried = await self._send_calls([batch[i] for i in missing])
            for i, result in zip(missing, retried, strict=True):
                results[i] = result
        return results

    async def _send_calls(self, batch: list[tuple[list[str], list[Any], Any]]) -> list[Any]:
        packed = b"".join(
            hiredis.pack_command(("EVALSHA", self._script.sha, len(keys), *keys, *args))
            for keys, args, _ in batch
        )
        return await self._send_packed(packed, len(batch))

    async def _send_packed(self, packed: bytes, replies: int) -> list[Any]:
        """One write and one read on a pooled connection. redis-py keeps connecting, auth, TLS
        and their timeouts; hiredis packs the commands (redis-py's asyncio packer is Python).

        The replies are read under one deadline for the round trip rather than a timer per
        reply. Cancelling a read or a write is safe: redis-py then drops the connection. (A
        handshake is not cancelled: it could leave a half-set-up connection in the pool.)
        """
        self._on_round_trip()
        pool = self._client.connection_pool
        connection = await pool.get_connection()
        try:
            async with asyncio.timeout(self._timeout):
                await connection.send_packed_command(packed, check_health=False)
                results: list[Any] = []
                for _ in range(replies):
                    try:
                        results.append(await connection.read_response(timeout=math.inf))
                    except ResponseError as exc:  # a reply, not a broken connection
                        results.append(exc)
            return results
        except BaseException:
            await connection.disconnect()
            raise
        finally:
            await pool.release(connection)


def _consume_exception(task: asyncio.Task[None]) -> None:
    if not task.cancelled():
        task.exception()  # delivered to the callers already; keep asyncio from warning


@dataclass(frozen=True, slots=True)
class Limits:
    session_ttl: int
    answer_ttl: int
    flood_window: int = 300
    flood_limit: int = 30


class RedisStore:
    name = "redis"

    def __init__(
        self,
        client: Any,
        keys: Keys,
        limits: Limits,
        timeout: float,
        cache_size: int = 100_000,
        cooldown: float = 1.0,
        on_round_trip: Callable[[], object] = lambda: None,
    ):
        self._redis = client
        self._keys = keys
        self._limits = limits
        self._timeout = timeout
        self._cooldown = cooldown
        self._down_until = 0.0
        self._recent = Recent(cache_size)
        self._on_round_trip = on_round_trip
        self._deferred: dict[str, bool] = {}  # sender -> opted out, waiting for Redis
        self._saving_deferred: asyncio.Task[None] | None = None
        if isinstance(client, RedisCluster):  # one script call per message: slots differ
            script = client.register_script(COMMIT_SCRIPT)
            self._commit = lambda keys, args: self._counted(script(keys=keys, args=args))
        else:
            self._commit = ScriptBatcher(client, COMMIT_SCRIPT, timeout, on_round_trip).call

    @classmethod
    def from_url(
        cls,
        url: str,
        keys: Keys,
        limits: Limits,
        timeout: float,
        cluster: bool = False,
        on_round_trip: Callable[[], object] = lambda: None,
    ) -> RedisStore:
        options = {
            "decode_responses": True,
            "socket_timeout": timeout,
            "socket_connect_timeout": timeout,
        }
        if cluster:
            client = RedisCluster.from_url(url, **options)
        else:
            # No retries inside redis-py: a failed call becomes StoreUnavailable at once, the
            # message is answered without its session, and the store cools down (see `_call`).
            client = aioredis.Redis.from_url(
                url, health_check_interval=30, retry=Retry(NoBackoff(), 0), **options
            )
        return cls(client, keys, limits, timeout, on_round_trip=on_round_trip)

    def guess(self, sender: str) -> State | None:
        return self._recent.get(sender)

    async def read(self, sender: str) -> State:
        session_key, opt_out_key = self._keys.session(sender), self._keys.opt_out(sender)

        async def read() -> list[Any]:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.get(session_key)
                pipe.exists(opt_out_key)
                pipe.get(self._keys.flood(sender))
                return await pipe.execute()

        raw, opted, count = await self._call(read)
        state = State(raw or "", bool(opted), int(count or 0))
        self._recent.put(sender, state)
        return state

    async def commit(
        self, sender: str, message_id: str, expected: State, after: Session, answer: str
    ) -> CommitResult:
        keys = [
            self._keys.session(sender),
            self._keys.opt_out(sender),
            self._keys.answers(sender),
            self._keys.flood(sender),
        ]
        raw = encode_session(after)
        limits = self._limits
        args = [
            message_id,
            expected.raw,
            "1" if expected.opted_out else "",
            expected.recent,
            limits.flood_limit,
            raw,
            "1" if after.opted_out else "",
            limits.session_ttl,
            answer,
            limits.answer_ttl,
            limits.flood_window,
            MAX_ANSWERS,
        ]
        result = await self._call(lambda: self._commit(keys, args), counted=True)
        if self._deferred:
            self._save_deferred_soon()  # Redis answers again
        if result[0] == 1:
            return Duplicate(result[1])
        if result[0] == 2:
            state = State(result[1], bool(result[2]), int(result[3]))
            self._recent.put(sender, state)
            return Stale(state)
        state = State(raw, after.opted_out, int(result[1]))
        self._recent.put(sender, state)
        self._deferred.pop(sender, None)  # routed with it applied, so now saved with the rest
        return Committed(state)

    def defer_opt_change(self, sender: str, opted_out: bool) -> None:
        """Kept in this process until Redis answers again (the next message that reaches Redis
        saves it); lost only if the process stops first."""
        self._deferred[sender] = opted_out

    def deferred_opt_change(self, sender: str) -> bool | None:
        return self._deferred.get(sender)

    def _save_deferred_soon(self) -> None:
        if self._saving_deferred is None or self._saving_deferred.done():
            self._saving_deferred = asyncio.ensure_future(self._save_deferred())

    async def _save_deferred(self) -> None:
        while self._deferred:
            sender, opted_out = next(iter(self._deferred.items()))
            try:
                await self._call(partial(self._write_opt_out, sender, opted_out))
            except StoreUnavailable:
                return  # still away: the next message that reaches Redis tries again
            if self._deferred.get(sender) == opted_out:  # unless it changed meanwhile
                del self._deferred[sender]
            log.info("saved an opt-out change made while Redis was unavailable")

    async def _write_opt_out(self, sender: str, opted_out: bool) -> None:
        key = self._keys.opt_out(sender)
        await (self._redis.set(key, "1") if opted_out else self._redis.delete(key))

    async def forget(self, sender: str) -> None:
        """Delete everything kept about this sender except the opt-out."""
        self._recent.drop(sender)
        keys = self._keys.all_but_opt_out(sender)  # one hash slot, so one call on a cluster too
        await self._call(lambda: self._redis.delete(*keys))

    async def ping(self) -> bool:
        try:
            return bool(await self._call(self._redis.ping))
        except StoreUnavailable:
            return False

    async def close(self) -> None:
        if self._deferred:
            log.error(
                "%d opt-out changes could not be saved: Redis never came back", len(self._deferred)
            )
        if self._saving_deferred is not None:
            self._saving_deferred.cancel()
        await self._redis.aclose()

    async def _counted(self, call: Awaitable[T]) -> T:
        self._on_round_trip()
        return await call

    async def _call(self, operation: Callable[[], Awaitable[T]], counted: bool = False) -> T:
        """Run one Redis operation within the time budget; map every failure to ours.

        `counted`: the operation reports its own round trips (a batch counts once).
        """
        if time.monotonic() < self._down_until:
            raise StoreUnavailable("redis was unreachable moments ago")
        if not counted:
            self._on_round_trip()
        try:
            if counted:  # the batch keeps its own time
                result = await operation()
            else:
                # A backstop only: redis-py's socket timeouts end each step (connect,
                # handshake, reply) first and leave the pool clean.
                async with asyncio.timeout(self._timeout * 3):
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

    def __init__(self, keys: Keys, limits: Limits, clock: Callable[[], float] = time.monotonic):
        self._keys = keys
        self._limits = limits
        self._clock = clock
        self._data: dict[str, tuple[Any, float | None]] = {}
        self._writes = 0

    def guess(self, sender: str) -> State | None:
        return self._state(sender)  # reading memory is free: the guess is the truth

    async def read(self, sender: str) -> State:
        return self._state(sender)

    async def commit(
        self, sender: str, message_id: str, expected: State, after: Session, answer: str
    ) -> CommitResult:
        answers: dict[str, str] = self._get(self._keys.answers(sender)) or {}
        if message_id in answers:
            return Duplicate(answers[message_id])
        current = self._state(sender)
        limit = self._limits.flood_limit
        moved = (current.raw, current.opted_out) != (expected.raw, expected.opted_out)
        if moved or flood_class(current.recent + 1, limit) != flood_class(
            expected.recent + 1, limit
        ):
            return Stale(current)
        raw = encode_session(after)
        self._set(self._keys.session(sender), raw, self._limits.session_ttl)
        if after.opted_out:
            self._set(self._keys.opt_out(sender), "1", None)
        else:
            self._data.pop(self._keys.opt_out(sender), None)
        if len(answers) >= MAX_ANSWERS:
            answers = {}
        answers[message_id] = answer
        self._set(self._keys.answers(sender), answers, self._limits.answer_ttl)
        return Committed(State(raw, after.opted_out, self._count(self._keys.flood(sender))))

    async def _write_opt_out(self, sender: str, opted_out: bool) -> None:
        key = self._keys.opt_out(sender)
        await (self._redis.set(key, "1") if opted_out else self._redis.delete(key))

    async def forget(self, sender: str) -> None:
        """Delete everything kept about this sender except the opt-out."""
        for key in self._keys.all_but_opt_out(sender):
            self._data.pop(key, None)

    def defer_opt_change(self, sender: str, opted_out: bool) -> None:
        raise AssertionError("memory is never unavailable")

    def deferred_opt_change(self, sender: str) -> bool | None:
        return None

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._data.clear()

    def _state(self, sender: str) -> State:
        return State(
            self._get(self._keys.session(sender)) or "",
            self._get(self._keys.opt_out(sender)) is not None,
            self._get(self._keys.flood(sender)) or 0,
        )

    def _count(self, key: str) -> int:
        """INCR, with the expiry set by the first message of the window."""
        count = (self._get(key) or 0) + 1
        if count == 1:
            self._set(key, 1, self._limits.flood_window)
        else:
            self._data[key] = (count, self._data[key][1])
        return count

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
