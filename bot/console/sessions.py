"""Staff sign-in sessions, kept in Redis so that they can be ended.

The browser's cookie carries only a random session id. Signing out deletes the session; a
password change, `smsbot staff remove` and `smsbot staff disable` delete every session of that
account at once, so a copied cookie stops working the moment someone acts on a suspected
compromise. A session also ends after `idle` seconds without a request, and `absolute` seconds
after sign-in whatever happens.

Keys (bot/store/keys.py): `session(ID)`, a hash of user, csrf and created that expires with the
session; `sessions_of(NAME)`, the set of NAME's session ids (for ending them all).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from bot.store.keys import StaffKeys

IDLE_SECONDS = 30 * 60
ABSOLUTE_SECONDS = 8 * 3600


@dataclass(frozen=True, slots=True)
class StaffSession:
    id: str
    user: str
    csrf: str
    created: float


class StaffSessions:
    def __init__(
        self,
        client: Any,
        keys: StaffKeys,
        idle: int = IDLE_SECONDS,
        absolute: int = ABSOLUTE_SECONDS,
    ):
        self._redis = client
        self._keys = keys
        self.idle = idle
        self.absolute = absolute

    async def start(self, user: str) -> StaffSession:
        session = StaffSession(
            secrets.token_urlsafe(32), user, secrets.token_urlsafe(24), time.time()
        )
        key = self._keys.session(session.id)
        fields = {"user": user, "csrf": session.csrf, "created": repr(session.created)}
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping=fields)
            pipe.expire(key, min(self.idle, self.absolute))
            pipe.sadd(self._keys.sessions_of(user), session.id)
            pipe.expire(self._keys.sessions_of(user), self.absolute)
            await pipe.execute()
        return session

    async def find(self, session_id: str) -> StaffSession | None:
        """The live session with this id, its idle clock restarted; None when there is none."""
        if not session_id:
            return None
        key = self._keys.session(session_id)
        stored = await self._redis.hgetall(key)
        if not stored or "user" not in stored:
            return None
        created = float(stored.get("created", 0))
        left = created + self.absolute - time.time()
        if left <= 0:
            await self.end(session_id)
            return None
        await self._redis.expire(key, max(1, int(min(self.idle, left))))
        return StaffSession(session_id, stored["user"], stored.get("csrf", ""), created)

    async def end(self, session_id: str) -> None:
        key = self._keys.session(session_id)
        user = await self._redis.hget(key, "user")
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            if user:
                pipe.srem(self._keys.sessions_of(user), session_id)
            await pipe.execute()

    async def end_all(self, user: str) -> int:
        """End every session of `user`; how many were still live."""
        ids = await self._redis.smembers(self._keys.sessions_of(user))
        if not ids:
            return 0
        keys = [self._keys.session(session_id) for session_id in ids]
        async with self._redis.pipeline(transaction=True) as pipe:
            for key in keys:
                pipe.delete(key)
            pipe.delete(self._keys.sessions_of(user))
            results = await pipe.execute()
        return sum(1 for deleted in results[:-1] if deleted)
