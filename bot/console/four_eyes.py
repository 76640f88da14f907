"""Four-eyes review: no one reviewer changes what patients read on their own.

A reviewer cannot publish drafts they saved (each draft remembers who saved it last), and a
restore happens only when a second reviewer presses *Restore* on the same version after the
first asked for it. A one-person clinic can turn this off (`STAFF_FOUR_EYES=false`); every
publish or restore made alone then says so in the history and the audit trail.

Who asked to restore which version is kept for a day (`restore_requests` in bot/store/keys.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from bot.store.keys import StaffKeys

ASKED_FOR_SECONDS = 86_400
ALONE = "(four-eyes review is off)"


def own_drafts(who: str, drafts: Iterable[str]) -> bool:
    """`who` saved (last edited) at least one of these drafts, as stored in Redis."""
    return any(json.loads(raw).get("who") == who for raw in drafts)


class RestoreRequests:
    def __init__(self, client: Any, keys: StaffKeys):
        self._redis = client
        self._key = keys.restore_requests

    async def asked_by(self, number: int) -> str | None:
        who = await self._redis.hget(self._key, str(number))
        return str(who) if who else None

    async def ask(self, number: int, who: str) -> None:
        await self._redis.hset(self._key, str(number), who)
        await self._redis.expire(self._key, ASKED_FOR_SECONDS)

    async def all(self) -> dict[int, str]:
        return {int(n): str(who) for n, who in (await self._redis.hgetall(self._key)).items()}

    async def done(self) -> None:
        """A restore or a publish happened: requests made against the old version are void."""
        await self._redis.delete(self._key)
