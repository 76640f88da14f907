"""Callback requests in Redis. Every change is one Lua script, so that any number of workers
(and nurses) see one queue and no two nurses ever hold the same request.

All keys (named in bot/store/keys.py) share the hash tag `{PREFIX:callbacks}`: on Redis Cluster
the whole queue lives in one slot, so a script may touch the queue index, a request and the
sender's pointer together. (The scripts name a request's key from its ID; in one slot that is
allowed.)

  PREFIX:{PREFIX:callbacks}:open           sorted set: request ID -> time asked (oldest first)
  PREFIX:{PREFIX:callbacks}:req:ID         hash: sender hash, language, asked, due, topics
                                           read, attempts, claim, sealed number; expires
  PREFIX:{PREFIX:callbacks}:sender:HASH    the sender's open request ID (one per sender)
  PREFIX:{PREFIX:callbacks}:closed         stream of closed requests: outcome, language,
                                           seconds waited, attempts (no sender, no number)

Closing a request deletes its hash, number included, at once. An open request is closed as
`expired` after CALLBACK_MAX_AGE_DAYS by the next look at the queue; its keys also carry a TTL
a day longer, as a backstop if nobody looks.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from redis.exceptions import RedisError

from bot.errors import StoreUnavailable
from bot.store.keys import CallbackKeys

Outcome = Literal["reached", "no_answer", "wrong_number", "cancelled", "withdrawn", "expired"]
NURSE_OUTCOMES: tuple[Outcome, ...] = ("reached", "no_answer", "wrong_number", "cancelled")
OUTCOMES: tuple[Outcome, ...] = (*NURSE_OUTCOMES, "withdrawn", "expired")
MAX_ATTEMPTS = 3  # calls without an answer before the request is closed as no_answer
RETRY_AFTER = 3600  # seconds a request rests after an unanswered call
CLAIM_SECONDS = 900  # a claim lapses after this, so a request never stays stuck with one nurse
CLOSED_KEPT = 100_000  # closed requests kept for statistics (approximately: MAXLEN ~)
LISTED = 200  # requests shown on the page
BACKSTOP = 86_400  # a request's keys expire this long after CALLBACK_MAX_AGE_DAYS
FIELDS = (
    "language",
    "created",
    "due",
    "topics",
    "attempts",
    "claimed_by",
    "claimed_until",
    "retry_at",
)
T = TypeVar("T")

# Shared by the scripts that close: deletes the request and its number, keeps statistics.
# ARGV of the caller: 1 request key prefix, 2 sender pointer prefix. KEYS: 1 open, 2 closed.
CLOSE_FUNCTION = """
local function close(id, key, r, now, outcome, attempts, kept)
  redis.call('DEL', key)
  local pointer = ARGV[2] .. r.sender
  if redis.call('GET', pointer) == id then redis.call('DEL', pointer) end
  redis.call('ZREM', KEYS[1], id)
  local waited = now - tonumber(r.created)
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', kept, '*', 'outcome', outcome,
    'language', r.language, 'waited', waited, 'attempts', attempts)
  return waited
end
local function fetch(key)
  local v = redis.call('HMGET', key, 'sender', 'language', 'created', 'attempts', 'claimed_by')
  if not v[1] then return nil end
  return {sender = v[1], language = v[2], created = v[3], attempts = tonumber(v[4] or '0'),
          claimed_by = v[5]}
end
"""

# KEYS: 1 open, 2 sender pointer, 3 the new request's key.
# ARGV: 1 request key prefix, 2 new ID, 3 sender, 4 now, 5 due, 6 language, 7 topics,
#       8 sealed number, 9 MessageSid, 10 TTL.
# Returns {new (1/0), id, created, due, MessageSid that asked}.
REQUEST_SCRIPT = """
local id = redis.call('GET', KEYS[2])
if id then
  local found = redis.call('HMGET', ARGV[1] .. id, 'created', 'due', 'asked')
  if found[1] then return {0, id, found[1], found[2], found[3]} end
end
redis.call('HSET', KEYS[3], 'sender', ARGV[3], 'language', ARGV[6], 'created', ARGV[4],
  'due', ARGV[5], 'topics', ARGV[7], 'number', ARGV[8], 'asked', ARGV[9], 'attempts', 0)
redis.call('EXPIRE', KEYS[3], ARGV[10])
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[10])
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[2])
return {1, ARGV[2], ARGV[4], ARGV[5], ARGV[9]}
"""

# KEYS: 1 open, 2 closed. ARGV: 1 request prefix, 2 pointer prefix, 3 ID or '' (then the
# sender's), 4 sender, 5 nurse who must hold the claim or '', 6 now, 7 outcome,
# 8 max attempts, 9 retry after, 10 closed kept.
# Returns {0} gone, {1, holder} claimed by someone else, {2, attempts} back in the queue after
# an unanswered call, {3, seconds waited, attempts, language} closed.
CLOSE_SCRIPT = (
    CLOSE_FUNCTION
    + """
local id = ARGV[3]
if id == '' then
  id = redis.call('GET', ARGV[2] .. ARGV[4])
  if not id then return {0} end
end
local key = ARGV[1] .. id
local r = fetch(key)
if not r then redis.call('ZREM', KEYS[1], id) return {0} end
if ARGV[5] ~= '' and r.claimed_by ~= ARGV[5] then return {1, r.claimed_by or ''} end
local now = tonumber(ARGV[6])
local attempts = r.attempts
if ARGV[7] == 'no_answer' then
  attempts = attempts + 1
  if attempts < tonumber(ARGV[8]) then
    redis.call('HSET', key, 'attempts', attempts, 'retry_at', now + tonumber(ARGV[9]))
    redis.call('HDEL', key, 'claimed_by', 'claimed_until')
    return {2, attempts}
  end
end
local waited = close(id, key, r, now, ARGV[7], attempts, ARGV[10])
return {3, waited, attempts, r.language}
"""
)

# KEYS: 1 open. ARGV: 1 request prefix, 2 ID, 3 nurse, 4 now, 5 claim seconds.
# Returns {0} gone, {1, holder} held by another nurse, {2, sealed number, sender} claimed.
CLAIM_SCRIPT = """
local key = ARGV[1] .. ARGV[2]
local r = redis.call('HMGET', key, 'number', 'sender', 'claimed_by', 'claimed_until')
if not r[1] then return {0} end
local now = tonumber(ARGV[4])
if r[3] and r[3] ~= ARGV[3] and tonumber(r[4] or '0') > now then return {1, r[3]} end
redis.call('HSET', key, 'claimed_by', ARGV[3], 'claimed_until', now + tonumber(ARGV[5]))
return {2, r[1], r[2]}
"""

# KEYS: 1 open, 2 closed. ARGV: 1 request prefix, 2 pointer prefix, 3 now, 4 max age,
# 5 how many to list, 6 closed kept.
# Closes requests older than the max age as expired, then lists the oldest open ones (never
# the number). Returns {open count, {seconds waited of each expired}, id, fields..., id, ...}.
LIST_SCRIPT = (
    CLOSE_FUNCTION
    + """
local now = tonumber(ARGV[3])
local expired = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[4]))) do
  local key = ARGV[1] .. id
  local r = fetch(key)
  if r then
    table.insert(expired, close(id, key, r, now, 'expired', r.attempts, ARGV[6]))
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
local listed = {redis.call('ZCARD', KEYS[1]), expired}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[5]) - 1)) do
  local v = redis.call('HMGET', ARGV[1] .. id, 'language', 'created', 'due', 'topics',
    'attempts', 'claimed_by', 'claimed_until', 'retry_at')
  if v[2] then
    table.insert(listed, id)
    for i = 1, 8 do table.insert(listed, v[i] or '') end
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return listed
"""
)


@dataclass(frozen=True, slots=True)
class Ticket:
    """A sender's open request, as the patient is told about it."""

    id: str
    created: int
    due: int
    new: bool  # made by the message being answered (a Twilio retry of it included)


@dataclass(frozen=True, slots=True)
class Waiting:
    """One open request as a nurse sees it in the list: never the number."""

    id: str
    language: str
    created: int
    due: int
    topics: tuple[str, ...]
    attempts: int
    claimed_by: str
    claimed_until: int
    retry_at: int


@dataclass(frozen=True, slots=True)
class Listing:
    open: int
    waiting: list[Waiting]
    expired: list[int]  # seconds waited by each request this look closed as expired


@dataclass(frozen=True, slots=True)
class Claimed:
    sealed: str
    sender: str


@dataclass(frozen=True, slots=True)
class HeldBy:
    nurse: str


@dataclass(frozen=True, slots=True)
class Closed:
    waited: int
    attempts: int


@dataclass(frozen=True, slots=True)
class Retry:
    attempts: int


Gone = None


class CallbackQueue:
    def __init__(self, client: Any, prefix: str, max_age_days: int):
        keys = CallbackKeys(prefix)
        self.client = client
        self._open = keys.open
        self._closed = keys.closed
        self._request = keys.request_prefix
        self._pointer = keys.sender_prefix
        self._max_age = max_age_days * 86_400
        self._request_script = client.register_script(REQUEST_SCRIPT)
        self._close_script = client.register_script(CLOSE_SCRIPT)
        self._claim_script = client.register_script(CLAIM_SCRIPT)
        self._list_script = client.register_script(LIST_SCRIPT)

    async def request(
        self,
        sender: str,
        sealed: str,
        language: str,
        topics: tuple[str, ...],
        message_id: str,
        now: int,
        due: int,
    ) -> Ticket:
        """The sender's open request, made now if there is none (one per sender)."""
        new_id = secrets.token_urlsafe(12)
        keys = [self._open, self._pointer + sender, self._request + new_id]
        args = [
            self._request,
            new_id,
            sender,
            now,
            due,
            language,
            " ".join(topics),
            sealed,
            message_id,
            self._max_age + BACKSTOP,
        ]
        made, found, created, promised, asked = await self._run(self._request_script, keys, args)
        return Ticket(str(found), int(created), int(promised), bool(made) or asked == message_id)

    async def claim(self, request_id: str, nurse: str, now: int) -> Claimed | HeldBy | None:
        args = [self._request, request_id, nurse, now, CLAIM_SECONDS]
        result = await self._run(self._claim_script, [self._open], args)
        if result[0] == 0:
            return Gone
        if result[0] == 1:
            return HeldBy(str(result[1]))
        return Claimed(str(result[1]), str(result[2]))

    async def close(
        self, request_id: str, nurse: str, outcome: Outcome, now: int
    ) -> Closed | Retry | HeldBy | None:
        """A nurse's outcome; she must hold the claim. `no_answer` may put it back (Retry)."""
        return await self._close(request_id, "", nurse, outcome, now)

    async def withdraw(
        self, sender: str, now: int, outcome: Outcome = "withdrawn"
    ) -> Closed | None:
        """The patient cancelled (NOCALL, STOP, FORGET): close their open request, if any."""
        result = await self._close("", sender, "", outcome, now)
        return result if isinstance(result, Closed) else None

    async def listing(self, now: int, limit: int = LISTED) -> Listing:
        args = [self._request, self._pointer, now, self._max_age, limit, CLOSED_KEPT]
        raw = await self._run(self._list_script, [self._open, self._closed], args)
        rows = raw[2:]
        waiting = [_waiting(str(rows[i]), rows[i + 1 : i + 9]) for i in range(0, len(rows), 9)]
        return Listing(int(raw[0]), waiting, [int(w) for w in raw[1]])

    async def get(self, request_id: str) -> Waiting | None:
        """One open request as listed (never the number)."""
        key = self._request + request_id
        row = await self._call(lambda: self.client.hmget(key, FIELDS))
        if row[1] is None:
            return None
        return _waiting(request_id, row)

    async def closed(self, count: int = 1000) -> list[dict[str, str]]:
        """The newest closed requests, for statistics."""
        entries = await self._call(lambda: self.client.xrevrange(self._closed, count=count))
        return [dict(fields) for _, fields in entries]

    async def _close(
        self, request_id: str, sender: str, nurse: str, outcome: Outcome, now: int
    ) -> Closed | Retry | HeldBy | None:
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}")
        args = [
            self._request,
            self._pointer,
            request_id,
            sender,
            nurse,
            now,
            outcome,
            MAX_ATTEMPTS,
            RETRY_AFTER,
            CLOSED_KEPT,
        ]
        result = await self._run(self._close_script, [self._open, self._closed], args)
        if result[0] == 0:
            return Gone
        if result[0] == 1:
            return HeldBy(str(result[1]))
        if result[0] == 2:
            return Retry(int(result[1]))
        return Closed(int(result[1]), int(result[2]))

    async def _run(self, script: Any, keys: list[str], args: list[Any]) -> Any:
        return await self._call(lambda: script(keys=keys, args=args))

    async def _call(self, operation: Callable[[], Awaitable[T]]) -> T:
        try:
            return await operation()
        except (RedisError, OSError, TimeoutError) as exc:
            raise StoreUnavailable(f"callback queue: {type(exc).__name__}") from exc


def _waiting(request_id: str, row: list[Any]) -> Waiting:
    """From the FIELDS of a request, in order."""
    return Waiting(
        id=request_id,
        language=str(row[0] or ""),
        created=int(row[1]),
        due=int(row[2] or 0),
        topics=tuple(str(row[3] or "").split()),
        attempts=int(row[4] or 0),
        claimed_by=str(row[5] or ""),
        claimed_until=int(row[6] or 0),
        retry_at=int(row[7] or 0),
    )
