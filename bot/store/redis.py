"""The session store in Redis: one Lua script per message (see bot/store/__init__.py)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeVar

from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisError

from bot.errors import StoreUnavailable
from bot.models import Session
from bot.store import MAX_ANSWERS, CommitResult, Committed, Duplicate, Limits, Stale, State
from bot.store.batching import Rider, ScriptBatcher
from bot.store.codec import encode_session
from bot.store.keys import Keys

log = logging.getLogger("smsbot.store")
T = TypeVar("T")

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
        riders: Callable[[], list[Rider]] = list,
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
        self._commit: Callable[[list[str], list[Any]], Awaitable[Any]]
        if isinstance(client, RedisCluster):  # one script call per message: slots differ
            script = client.register_script(COMMIT_SCRIPT)
            self._commit = lambda keys, args: self._counted(script(keys=keys, args=args))
        else:
            batcher = ScriptBatcher(client, COMMIT_SCRIPT, timeout, on_round_trip, riders)
            self._commit = batcher.call

    @property
    def client(self) -> Any:
        """For the insights' own flush in a quiet spell: the same pool and timeouts."""
        return self._redis

    def guess(self, sender: str) -> State | None:
        return self._recent.get(sender)

    async def read(self, sender: str) -> State:
        session_key, opt_out_key = self._keys.session(sender), self._keys.opt_out(sender)

        async def read() -> list[Any]:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.get(session_key)
                pipe.exists(opt_out_key)
                pipe.get(self._keys.flood(sender))
                return list(await pipe.execute())

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
