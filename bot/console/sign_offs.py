"""Clinical sign-offs made in the console, kept in Redis until `smsbot catalog export` writes
them into messages/sources.yaml.

What a page's review says is always the files with these over them (`effective`): the console
and the export read it the same way. One hash field per page (`sign_offs` in bot/store/keys.py);
a later sign-off of the same page replaces the earlier one.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from bot.catalog.provenance import Provenance, SignOff
from bot.store.keys import StaffKeys


class SignOffs:
    """The client is its owner's (the app's lifespan, or a command): never closed here."""

    def __init__(self, client: Any, keys: StaffKeys):
        self._redis = client
        self._key = keys.sign_offs

    async def record(self, sign_offs: Iterable[SignOff]) -> None:
        fields = {
            s.key: json.dumps({"name": s.name, "role": s.role, "on": s.on.isoformat()})
            for s in sign_offs
        }
        if fields:
            await self._redis.hset(self._key, mapping=fields)

    async def all(self) -> list[SignOff]:
        stored = await self._redis.hgetall(self._key)
        return [_sign_off(key, json.loads(raw)) for key, raw in sorted(stored.items())]

    async def effective(self, messages_dir: Path) -> Provenance:
        """sources.yaml (read off the event loop) with the console's sign-offs over it."""
        files = await asyncio.to_thread(Provenance.load, messages_dir)
        return files.with_sign_offs(await self.all())


def _sign_off(key: str, stored: dict[str, str]) -> SignOff:
    return SignOff(key, stored["name"], stored["role"], date.fromisoformat(stored["on"]))
