"""The session store in this process, with the same promises: for a first run and the chat."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bot.models import Session
from bot.store import (
    MAX_ANSWERS,
    CommitResult,
    Committed,
    Duplicate,
    Limits,
    Stale,
    State,
    flood_class,
)
from bot.store.codec import encode_session
from bot.store.keys import Keys


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
