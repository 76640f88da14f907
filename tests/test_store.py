"""One suite, run against the Redis store and the embedded store: both keep the same promises."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
import redis

from bot.models import Session
from bot.redis import connect
from bot.store import CommitResult, Committed, Duplicate, Limits, SessionStore, Stale, State
from bot.store.codec import decode_session, encode_session
from bot.store.keys import Keys
from bot.store.memory import MemoryStore
from bot.store.redis import RedisStore
from tests.helpers.settings import make_settings

pytestmark = pytest.mark.anyio
LIMITS = Limits(session_ttl=60, answer_ttl=30, flood_window=60, flood_limit=5)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["redis", "memory"])
async def store(
    request: pytest.FixtureRequest, redis_url: str, prefix: str
) -> AsyncIterator[RedisStore | MemoryStore]:
    keys = Keys(prefix)
    made: RedisStore | MemoryStore
    if request.param == "redis":
        settings = make_settings(redis_url=redis_url, redis_timeout_seconds=1.0)
        made = RedisStore(connect(settings, purpose="webhook"), keys, LIMITS, timeout=1.0)
    else:
        made = MemoryStore(keys, LIMITS)
    yield made
    await made.close()


async def commit(
    store: SessionStore, sender: str, sid: str, after: Session, expected: State | None = None
) -> CommitResult:
    return await store.commit(sender, sid, expected or State(), after, f"answer-{sid}")


async def test_new_sender_reads_empty(store: SessionStore) -> None:
    state = await store.read("alice")
    assert state == State() and state.session is None


async def test_commit_then_read_back(store: SessionStore) -> None:
    after = Session(language="es", menu="main")
    result = await commit(store, "alice", "SM1", after)
    assert isinstance(result, Committed) and result.state.recent == 1
    state = await store.read("alice")
    assert state.session == after and state.recent == 1
    assert store.guess("alice") == state


async def test_same_message_id_applies_once(store: SessionStore) -> None:
    assert isinstance(await commit(store, "alice", "SM1", Session(language="es")), Committed)
    state = await store.read("alice")
    again = await commit(store, "alice", "SM1", Session(language="en"), expected=state)
    assert again == Duplicate("answer-SM1")
    assert (await store.read("alice")).session == Session(language="es")


async def test_message_ids_are_per_sender(store: SessionStore) -> None:
    assert isinstance(await commit(store, "alice", "SM1", Session()), Committed)
    assert isinstance(await commit(store, "bob", "SM1", Session()), Committed)


async def test_wrong_guess_is_refused_with_the_truth(store: SessionStore) -> None:
    await commit(store, "alice", "SM1", Session(language="es"))
    result = await commit(store, "alice", "SM2", Session(language="en"))  # guessed: new sender
    assert isinstance(result, Stale)
    assert result.state.session == Session(language="es")
    written = await commit(store, "alice", "SM2", Session(language="es", menu="main"), result.state)
    assert isinstance(written, Committed)


async def test_racing_commits_lose_nothing(store: SessionStore) -> None:
    """Ten messages at once, each adding one page: every increment lands exactly once."""

    async def bump(n: int) -> None:
        expected = State()
        while True:
            current = expected.session or Session()
            result = await store.commit(
                "alice", f"SM{n}", expected, Session(page=current.page + 1), "x"
            )
            if isinstance(result, Committed):
                return
            assert isinstance(result, Stale)
            expected = result.state

    await asyncio.gather(*(bump(n) for n in range(10)))
    assert (await store.read("alice")).session == Session(page=10)


async def test_flood_count_is_part_of_the_comparison(store: SessionStore) -> None:
    expected = State()
    for n in range(5):
        result = await commit(store, "alice", f"SM{n}", Session(), expected)
        assert isinstance(result, Committed)
        expected = result.state
    assert expected.recent == 5
    # A guess that thinks the sender is within the limit is refused: this one is over it.
    stale = await commit(store, "alice", "SM9", Session(), State(expected.raw, False, 0))
    assert isinstance(stale, Stale) and stale.state.recent == 5


async def test_opt_out_survives_forget(store: SessionStore) -> None:
    await commit(store, "alice", "SM1", Session(language="es", opted_out=True))
    await store.forget("alice")
    state = await store.read("alice")
    assert state.opted_out and state.raw == "" and state.recent == 0
    assert state.session == Session(opted_out=True)


async def test_forget_clears_recorded_answers(store: SessionStore) -> None:
    await commit(store, "alice", "SM1", Session())
    await store.forget("alice")
    assert isinstance(await commit(store, "alice", "SM1", Session()), Committed)


async def test_opt_in_clears_opt_out(store: SessionStore) -> None:
    first = await commit(store, "alice", "SM1", Session(opted_out=True))
    assert isinstance(first, Committed) and first.state.opted_out
    await commit(store, "alice", "SM2", Session(opted_out=False), first.state)
    assert not (await store.read("alice")).opted_out


async def test_ping(store: SessionStore) -> None:
    assert await store.ping()


async def test_redis_ttls(redis_url: str, prefix: str, rdb: redis.Redis) -> None:
    settings = make_settings(redis_url=redis_url, redis_timeout_seconds=1.0)
    store = RedisStore(connect(settings, purpose="webhook"), Keys(prefix), LIMITS, timeout=1)
    await commit(store, "alice", "SM1", Session(language="en", opted_out=True))
    keys = Keys(prefix)
    assert 0 < rdb.ttl(keys.session("alice")) <= 60
    assert 0 < rdb.ttl(keys.answers("alice")) <= 30
    assert 0 < rdb.ttl(keys.flood("alice")) <= 60
    assert rdb.ttl(keys.opt_out("alice")) == -1
    await store.close()


async def test_memory_store_expires() -> None:
    clock = Clock()
    store = MemoryStore(Keys("t"), LIMITS, clock=clock)
    await commit(store, "alice", "SM1", Session(language="es", opted_out=True))
    clock.now += 61
    assert isinstance(await commit(store, "alice", "SM1", Session()), Stale)  # answer expired
    state = await store.read("alice")
    assert state == State("", True, 0)  # the session and counter expired; the opt-out did not


async def test_all_keys_of_a_sender_share_one_cluster_slot() -> None:
    keys = Keys("smsbot")
    names = [keys.session("a"), keys.opt_out("a"), keys.answers("a"), keys.flood("a")]
    assert {name.split("{")[1].split("}")[0] for name in names} == {"a"}


def test_session_encoding_is_compact_and_round_trips() -> None:
    session = Session(language="es", menu="types", topic="side_effects", page=2)
    raw = encode_session(session)
    assert len(raw) < 90
    assert decode_session(raw, opted_out=False) == session
    alarmed = replace(session, explicit=True, alarmed=1_790_000_000)
    assert decode_session(encode_session(alarmed), opted_out=False) == alarmed
    assert decode_session("not json", opted_out=True) == Session(opted_out=True)
    # Lines earlier versions wrote still read: their "last seen" field is dropped.
    chosen = replace(session, explicit=True)
    assert decode_session("1|es|1|types|side_effects|2|1790000000", opted_out=False) == chosen
    assert decode_session("2|es|types|side_effects|2", opted_out=False) == session
    two = "2|es|1|types|side_effects|2|1790000000|1790000100"
    assert decode_session(two, opted_out=False) == replace(chosen, alarmed=1790000100)
