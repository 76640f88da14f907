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

    __init__   the SessionStore interface, State and the commit results
    codec      sessions and recorded answers as stored strings
    keys       every Redis key name (sessions and the staff console's data)
    memory     MemoryStore
    redis      RedisStore and its commit script
    batching   ScriptBatcher: the only module that touches redis-py internals
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.models import Session
from bot.store.codec import decode_session

MAX_ANSWERS = 500  # answers kept per sender; a runaway auto-responder cannot grow it further


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


@dataclass(frozen=True, slots=True)
class Limits:
    session_ttl: int
    answer_ttl: int
    flood_window: int = 300
    flood_limit: int = 30


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
