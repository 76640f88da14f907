"""Server-side staff sessions: ended by sign-out, by ending all of an account's sessions, by the
idle and absolute limits (security review F-5)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from redis import asyncio as aioredis

from bot.console.sessions import StaffSessions
from bot.store.keys import StaffKeys


def run(
    redis_url: str, prefix: str, body: Callable[[StaffSessions], Awaitable[Any]], **kw: Any
) -> Any:
    async def main() -> Any:
        client = aioredis.Redis.from_url(redis_url, decode_responses=True)
        try:
            return await body(StaffSessions(client, StaffKeys(prefix), **kw))
        finally:
            await client.aclose()

    return asyncio.run(main())


def test_a_session_lives_until_it_is_ended(redis_url: str, prefix: str) -> None:
    async def body(sessions: StaffSessions) -> None:
        session = await sessions.start("nora")
        found = await sessions.find(session.id)
        assert found is not None and found.user == "nora" and found.csrf == session.csrf
        await sessions.end(session.id)
        assert await sessions.find(session.id) is None

    run(redis_url, prefix, body)


def test_ending_all_of_an_accounts_sessions(redis_url: str, prefix: str) -> None:
    async def body(sessions: StaffSessions) -> None:
        laptop, phone = await sessions.start("nora"), await sessions.start("nora")
        other = await sessions.start("rita")
        assert await sessions.end_all("nora") == 2
        assert await sessions.find(laptop.id) is None
        assert await sessions.find(phone.id) is None
        assert await sessions.find(other.id) is not None

    run(redis_url, prefix, body)


def test_idle_and_absolute_limits(redis_url: str, prefix: str) -> None:
    async def idle(sessions: StaffSessions) -> None:
        session = await sessions.start("nora")
        await asyncio.sleep(0.6)
        assert await sessions.find(session.id) is not None  # used: the idle clock restarts
        await asyncio.sleep(1.3)
        assert await sessions.find(session.id) is None

    run(redis_url, prefix, idle, idle=1, absolute=60)

    async def absolute(sessions: StaffSessions) -> None:
        session = await sessions.start("nora")
        for _ in range(3):
            await asyncio.sleep(0.5)
            await sessions.find(session.id)
        assert await sessions.find(session.id) is None

    run(redis_url, prefix, absolute, idle=60, absolute=1)


def test_unknown_or_empty_ids_find_nothing(redis_url: str, prefix: str) -> None:
    async def body(sessions: StaffSessions) -> None:
        assert await sessions.find("") is None
        assert await sessions.find("made-up") is None

    run(redis_url, prefix, body)
