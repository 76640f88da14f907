"""One suite, run against the Redis store and the embedded store: both keep the same promises."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.models import Session
from bot.store import Keys, MemoryStore, RedisStore, decode_session, encode_session

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["redis", "memory"])
async def store(request, redis_url, prefix) -> AsyncIterator:
    keys = Keys(prefix)
    if request.param == "redis":
        made = RedisStore.from_url(redis_url, keys, session_ttl=60, answer_ttl=30, timeout=1.0)
    else:
        made = MemoryStore(keys, session_ttl=60, answer_ttl=30)
    yield made
    await made.close()


async def test_new_sender_has_no_session(store) -> None:
    snapshot = await store.begin("alice", "SM1")
    assert snapshot.claimed and snapshot.session is None and snapshot.raw == ""


async def test_commit_then_read_back(store) -> None:
    before = await store.begin("alice", "SM1")
    after = Session(language="es", explicit=True, menu="main", seen=5)
    assert await store.commit("alice", "SM1", before, after, "es|menu|menu:main")
    again = await store.begin("alice", "SM2")
    assert again.session == after


async def test_same_message_id_is_claimed_once(store) -> None:
    first = await store.begin("alice", "SM1")
    second = await store.begin("alice", "SM1")
    assert first.claimed and not second.claimed
    assert second.answer is None  # first delivery still running
    await store.commit("alice", "SM1", first, Session(language="en"), "en|menu|menu:main")
    third = await store.begin("alice", "SM1")
    assert not third.claimed and third.answer == "en|menu|menu:main"
    assert await store.answer("alice", "SM1") == "en|menu|menu:main"


async def test_message_ids_are_per_sender(store) -> None:
    assert (await store.begin("alice", "SM1")).claimed
    assert (await store.begin("bob", "SM1")).claimed


async def test_stale_commit_is_refused(store) -> None:
    a = await store.begin("alice", "SM1")
    b = await store.begin("alice", "SM2")
    assert await store.commit("alice", "SM1", a, Session(language="es"), "x")
    assert not await store.commit("alice", "SM2", b, Session(language="en"), "y")
    fresh = await store.reread("alice")
    assert fresh.session == Session(language="es")
    assert await store.commit("alice", "SM2", fresh, Session(language="es", menu="main"), "y")


async def test_racing_commits_lose_nothing(store) -> None:
    """Ten messages at once, each adding one page: every increment lands exactly once."""

    async def bump(n: int) -> None:
        snapshot = await store.begin("alice", f"SM{n}")
        while True:
            current = snapshot.session or Session()
            if await store.commit("alice", f"SM{n}", snapshot, Session(page=current.page + 1), "x"):
                return
            snapshot = await store.reread("alice")

    await asyncio.gather(*(bump(n) for n in range(10)))
    assert (await store.reread("alice")).session == Session(page=10)


async def test_opt_out_survives_forget(store) -> None:
    before = await store.begin("alice", "SM1")
    await store.commit("alice", "SM1", before, Session(language="es", opted_out=True), "x")
    await store.forget("alice")
    after = await store.reread("alice")
    assert after.session == Session(opted_out=True)


async def test_opt_in_clears_opt_out(store) -> None:
    before = await store.begin("alice", "SM1")
    await store.commit("alice", "SM1", before, Session(opted_out=True), "x")
    again = await store.begin("alice", "SM2")
    assert again.session is not None and again.session.opted_out
    await store.commit("alice", "SM2", again, Session(opted_out=False), "y")
    assert not (await store.reread("alice")).session.opted_out


async def test_ping(store) -> None:
    assert await store.ping()


async def test_redis_ttls(redis_url, prefix, rdb) -> None:
    store = RedisStore.from_url(redis_url, Keys(prefix), session_ttl=60, answer_ttl=30, timeout=1)
    before = await store.begin("alice", "SM1")
    await store.commit("alice", "SM1", before, Session(language="en", opted_out=True), "x")
    keys = Keys(prefix)
    assert 0 < rdb.ttl(keys.session("alice")) <= 60
    assert 0 < rdb.ttl(keys.answers("alice")) <= 30
    assert rdb.ttl(keys.opt_out("alice")) == -1
    await store.close()


async def test_memory_store_expires() -> None:
    clock = Clock()
    store = MemoryStore(Keys("t"), session_ttl=60, answer_ttl=30, clock=clock)
    before = await store.begin("alice", "SM1")
    await store.commit("alice", "SM1", before, Session(language="es", opted_out=True), "x")
    clock.now += 61
    snapshot = await store.begin("alice", "SM1")
    assert snapshot.claimed  # the recorded answer expired too
    assert snapshot.session == Session(opted_out=True)  # the opt-out did not


async def test_all_keys_of_a_sender_share_one_cluster_slot() -> None:
    keys = Keys("smsbot")
    tags = {
        key.split("{")[1].split("}")[0]
        for key in (keys.session("a"), keys.opt_out("a"), keys.answers("a"))
    }
    assert tags == {"a"}


def test_session_encoding_is_compact_and_round_trips() -> None:
    session = Session(
        language="es", explicit=True, menu="types", topic="side_effects", page=2, seen=1_790_000_000
    )
    raw = encode_session(session)
    assert len(raw) < 90
    assert decode_session(raw, opted_out=False) == session
    assert decode_session("not json", opted_out=True) == Session(opted_out=True)
