"""Insights: aggregate counters per day, language and outcome, in a real Redis."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest
import redis
from fastapi.testclient import TestClient
from redis import asyncio as aioredis

from bot.app import build_bot
from bot.config import Settings
from bot.insights import (
    MIN_SENDERS,
    RETENTION_SECONDS,
    ClinicDay,
    InsightsKeys,
    InsightsReader,
    InsightsRecorder,
    Period,
    Vocabulary,
    daily_rows,
    flush_now,
    send,
)
from bot.models import Inbound
from bot.store.redis import RedisStore
from bot.webhook.asgi import create_app
from tests.helpers.phone import Phone, bot_of, round_trips
from tests.helpers.settings import make_settings

NOON = dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC).timestamp()  # a Monday, 07:00 in New York
DAY = dt.date(2026, 11, 30)
ZONE = "America/New_York"
T = TypeVar("T")


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    return Vocabulary.from_wordfreq(("en", "es"))


@pytest.fixture
def recorder(prefix: str, vocabulary: Vocabulary) -> InsightsRecorder:
    return InsightsRecorder(InsightsKeys(prefix), vocabulary, ClinicDay(ZONE))


def flush(redis_url: str, recorder: InsightsRecorder) -> None:
    async def run() -> None:
        client = aioredis.Redis.from_url(redis_url)
        try:
            await send(client, recorder.take())
        finally:
            await client.aclose()

    asyncio.run(run())


def read(redis_url: str, prefix: str, ask: Callable[[InsightsReader], Awaitable[T]]) -> T:
    async def run() -> T:
        client = aioredis.Redis.from_url(redis_url, decode_responses=True)
        try:
            return await ask(InsightsReader(client, InsightsKeys(prefix)))
        finally:
            await client.aclose()

    return asyncio.run(run())


class TestVocabulary:
    @pytest.mark.parametrize(
        ("body", "language", "words"),
        [
            pytest.param(
                "Tengo FIEBRE y dolor de cabeza",
                "es",
                ["fiebre", "dolor", "cabeza"],
                id="spanish-symptoms-folded",
            ),
            pytest.param(
                "is it covered by my insurance?",
                "en",
                ["covered", "insurance"],
                id="english-question",
            ),
            pytest.param("5551234567 38.5 100F", "en", [], id="numbers-never"),
            pytest.param("xqzvw keytrudaa", "en", [], id="not-common-words-never"),
            pytest.param("fiebre fiebre fiebre", "es", ["fiebre"], id="once-per-message"),
        ],
    )
    def test_only_common_words(
        self, vocabulary: Vocabulary, body: str, language: str, words: list[str]
    ) -> None:
        assert vocabulary.words_in(body, language) == words

    def test_a_long_message_gives_a_bounded_number_of_words(self, vocabulary: Vocabulary) -> None:
        essay = " ".join(["insurance covered hospital doctor nurse treatment"] * 20)
        assert len(vocabulary.words_in(essay + " " + "money weekend travel " * 5, "en")) <= 12


class TestClinicDay:
    def test_the_day_turns_at_the_clinics_midnight(self) -> None:
        day = ClinicDay(ZONE)
        midnight_ny = dt.datetime(2026, 12, 1, 5, tzinfo=dt.UTC).timestamp()  # 00:00 EST
        assert day.of(midnight_ny - 1) == "20261130"
        assert day.of(midnight_ny) == "20261201"
        assert day.of(midnight_ny - 1) == "20261130"  # a clock set back is read again

    def test_a_daylight_saving_day(self) -> None:
        day = ClinicDay(ZONE)
        # 2026-03-08 has 23 hours in New York; 23:30 local is 03:30 UTC the next day.
        assert day.of(dt.datetime(2026, 3, 9, 3, 30, tzinfo=dt.UTC).timestamp()) == "20260308"
        assert day.of(dt.datetime(2026, 3, 9, 4, 30, tzinfo=dt.UTC).timestamp()) == "20260309"


class TestRecording:
    def test_counts_by_language_and_outcome_with_sms_and_segments(
        self, redis_url: str, prefix: str, recorder: InsightsRecorder, rdb: redis.Redis
    ) -> None:
        recorder.record(NOON, "en", "topic:side_effects", ["a" * 200])
        recorder.record(NOON, "es", "topic:side_effects", ["más " * 20])
        recorder.record(NOON, "es", "not_understood", ["no entendí"], "s1", "tengo fiebre")
        flush(redis_url, recorder)

        [figures] = read(redis_url, prefix, lambda reader: reader.daily(DAY, DAY))
        assert figures.messages == {
            ("en", "topic:side_effects"): 1,
            ("es", "topic:side_effects"): 1,
            ("es", "not_understood"): 1,
        }
        assert figures.sms == {"en": 1, "es": 2}
        assert figures.segments == {("en", "GSM-7"): 2, ("es", "UCS-2"): 3}
        # No key holds a body or a sender: only counters, word counts and HyperLogLogs.
        for key in rdb.scan_iter(match=f"{prefix}:*"):
            assert rdb.type(key) in ("hash", "string")
            assert 0 < rdb.ttl(key) <= RETENTION_SECONDS
            assert "tengo fiebre" not in key and "s1" not in key

    def test_take_leaves_nothing_behind(self, recorder: InsightsRecorder) -> None:
        recorder.record(NOON, "en", "menu", ["MENU"])
        assert recorder.pending and recorder.take()
        assert not recorder.pending and recorder.take() == []

    def test_understood_messages_give_no_words(self, recorder: InsightsRecorder) -> None:
        recorder.record(NOON, "es", "emergency", ["911"], "s1", "me duele el pecho")
        assert not any(command[0] == "PFADD" for command in recorder.take())

    def test_one_command_per_counter_however_many_messages(
        self, recorder: InsightsRecorder
    ) -> None:
        for n in range(500):
            recorder.record(NOON, "en", "not_understood", ["x"], f"s{n}", "insurance")
        commands = recorder.take()
        assert len(commands) < 10
        assert next(c for c in commands if c[0] == "PFADD")[2:] == tuple(
            sorted(f"s{n}" for n in range(500))
        )


class TestWhatPatientsAskThatWeCannotAnswer:
    def test_a_word_shows_only_once_enough_different_senders_used_it(
        self, redis_url: str, prefix: str, recorder: InsightsRecorder
    ) -> None:
        for n in range(MIN_SENDERS - 1):
            recorder.record(NOON, "en", "not_understood", [], f"sender{n}", "insurance cost")
        for _ in range(20):  # one sender, many times: still one sender
            recorder.record(NOON, "en", "not_understood", [], "sender0", "parking")
        flush(redis_url, recorder)
        assert read(redis_url, prefix, lambda reader: reader.asked_words(DAY, DAY, ["en"])) == []

        recorder.record(NOON + 86_400, "en", "not_understood", [], "another", "insurance")
        flush(redis_url, recorder)
        [word] = read(
            redis_url, prefix, lambda reader: reader.asked_words(DAY, DAY + dt.timedelta(1), ["en"])
        )
        assert (word.word, word.senders, word.messages) == ("insurance", MIN_SENDERS, MIN_SENDERS)
        # The second day alone has one sender: the period decides.
        one_day = DAY + dt.timedelta(1)
        assert (
            read(redis_url, prefix, lambda reader: reader.asked_words(one_day, one_day, ["en"]))
            == []
        )

    def test_each_language_has_its_own_words(
        self, redis_url: str, prefix: str, recorder: InsightsRecorder
    ) -> None:
        for n in range(6):
            recorder.record(NOON, "es", "not_understood", [], f"s{n}", "cuánto cuesta el seguro")
        flush(redis_url, recorder)
        found = read(redis_url, prefix, lambda reader: reader.asked_words(DAY, DAY, ["en", "es"]))
        assert {(w.language, w.word) for w in found} == {
            ("es", "cuanto"),
            ("es", "cuesta"),
            ("es", "seguro"),
        }


class TestPeriod:
    def test_totals_shares_topics_and_cost(
        self, redis_url: str, prefix: str, recorder: InsightsRecorder
    ) -> None:
        for intent in ["topic:cost"] * 3 + ["topic:call", "not_understood", "emergency"]:
            recorder.record(NOON, "en", intent, ["a" * 170])  # two GSM-7 segments
        recorder.record(NOON, "es", "topic:call", ["¿Qué?"])
        flush(redis_url, recorder)
        days = read(redis_url, prefix, lambda reader: reader.daily(DAY - dt.timedelta(1), DAY))
        period = Period(days, segment_price=0.0079)

        assert period.total() == 7 and period.total(language="es") == 1
        assert period.share("not_understood") == pytest.approx(1 / 7)
        assert period.topics() == [("cost", 3), ("call", 2)]
        assert period.segments() == 13 and period.sms() == 7
        assert period.cost() == pytest.approx(13 * 0.0079)
        rows = daily_rows(period)
        assert rows[0][1:] == ["0"] * 8 + ["0.00"]  # a quiet day is a row of zeros
        assert rows[1] == ["2026-11-30", "7", "6", "1", "1", "1", "0", "7", "13", "0.10"]


def test_recording_costs_little(recorder: InsightsRecorder) -> None:
    """Not a speed target (./scripts/bench has those): a guard that recording stays a
    dictionary update and never, say, measures every reply again."""
    reply = "Side effects can show up any time. " * 5
    started = time.process_time()
    for n in range(2000):
        recorder.record(NOON, "es", "not_understood", [reply], f"s{n % 50}", "tengo fiebre alta")
    assert (time.process_time() - started) / 2000 < 0.001


class TestTheMessagePath:
    """Every answered message is recorded once, by the conversation every channel uses."""

    def test_answered_messages_are_counted_and_a_retry_is_not(
        self, recorder: InsightsRecorder
    ) -> None:
        bot = build_bot(make_settings(redis_url=None))
        bot.conversation.insights = recorder
        bot.conversation.clock = lambda: NOON

        async def run() -> None:
            for sid, body in [("SM1", "MENU"), ("SM2", "5"), ("SM2", "5"), ("SM3", "parking fee")]:
                await bot.conversation.handle(Inbound("sender-hash", sid, body))

        asyncio.run(run())
        commands = recorder.take()
        counted = {c[2]: c[3] for c in commands if c[0] == "HINCRBY" and ":d:" in str(c[1])}
        intents = {name: n for name, n in counted.items() if str(name).startswith("i|")}
        assert (
            sum(int(n) for n in intents.values()) == 3
        )  # SM2's retry answered again, but not counted
        assert intents.get("i|en|not_understood") == 1
        words = {c[2] for c in commands if c[0] == "HINCRBY" and ":w:" in str(c[1])}
        assert words == {"parking", "fee"}


def intent_counts(rdb: redis.Redis, prefix: str) -> dict[str, int]:
    """The stored counts by language and intent ("i|en|menu") of the one day these tests run."""
    [day] = rdb.keys(InsightsKeys(prefix).day("*"))
    return {str(f): int(n) for f, n in rdb.hgetall(day).items() if str(f).startswith("i|")}


class TestThroughTheWebhook:
    def test_counts_ride_in_the_messages_own_round_trip(
        self, settings: Settings, rdb: redis.Redis, prefix: str
    ) -> None:
        with TestClient(create_app(settings)) as client:
            phone = Phone(client, "+15550001111")
            phone.text("MENU")  # on a fresh Redis server, the first commit also loads its script
            before = round_trips(client)
            for body in ["5", "MORE", "parking downtown"]:
                phone.text(body)
            assert round_trips(client) - before == 3  # nothing added for the insights
            # Each message's counts went with the next one's commit: three are stored.
            assert sum(intent_counts(rdb, prefix).values()) == 3
        # Shutting down sends what is left.
        counts = intent_counts(rdb, prefix)
        assert sum(counts.values()) == 4
        assert counts["i|en|not_understood"] == 1
        [day] = rdb.keys(InsightsKeys(prefix).day("*"))
        assert 0 < rdb.ttl(day) <= RETENTION_SECONDS

    def test_a_quiet_spell_still_saves_the_last_counts(
        self, settings: Settings, rdb: redis.Redis, prefix: str
    ) -> None:
        with TestClient(create_app(settings)) as client:
            Phone(client, "+15550002222").text("MENU")
            bot = bot_of(client)
            recorder = bot.insights
            assert recorder is not None and recorder.pending
            store = bot.store
            assert isinstance(store, RedisStore)

            async def quiet() -> None:
                await flush_now(recorder, store.client)

            assert client.portal is not None  # the test client's loop, while it runs
            client.portal.call(quiet)  # what keep_flushing does every FLUSH_SECONDS
            assert not recorder.pending
            assert rdb.keys(InsightsKeys(prefix).day("*"))
