"""The nurse callback queue on a real Redis: the sealed number, the promised time, one open
request per sender, atomic claims, outcomes, expiry, and what a patient texts."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Coroutine, Iterator
from datetime import datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
import redis
from pydantic import ValidationError
from redis import asyncio as aioredis

from bot.callbacks.queue import (
    MAX_ATTEMPTS,
    CallbackQueue,
    Claimed,
    Closed,
    HeldBy,
    Listing,
    Retry,
    Ticket,
)
from bot.callbacks.sealed import NumberBox, SealError
from bot.callbacks.window import CallbackWindow
from bot.config import PROJECT_ROOT, new_callback_key, parse_callback_key
from bot.errors import ConfigError
from bot.keywords import RESERVED, Keywords, normalize
from bot.models import Language
from bot.router import CALLBACK_REPLIES
from bot.sms import measure
from bot.webhook.asgi import create_app
from tests.helpers.settings import make_settings
from tests.helpers.store import dump_redis

KEY = new_callback_key()
ZONE = ZoneInfo("America/New_York")
LOCALES: dict[Language, str] = {"en": "en_US", "es": "es_US"}
T = TypeVar("T")
Closing = Closed | Retry | HeldBy | None  # what CallbackQueue.close answers
Stats = list[dict[str, str]]  # what CallbackQueue.closed answers


def window(hours: float = 4, clinic: str = "Mon-Fri 08:00-17:00") -> CallbackWindow:
    return CallbackWindow(clinic, ZONE, timedelta(hours=hours), LOCALES)


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=ZONE).timestamp()


def local(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, ZONE).strftime("%a %H:%M")


# -- the sealed number ------------------------------------------------------------------------


def test_a_sealed_number_opens_only_with_its_key_and_sender() -> None:
    box = NumberBox(parse_callback_key(KEY))
    sealed = box.seal("+15551230000", "sender-a")
    assert "5551230000" not in sealed and box.open(sealed, "sender-a") == "+15551230000"
    assert box.seal("+15551230000", "sender-a") != sealed  # a fresh nonce each time
    with pytest.raises(SealError):
        box.open(sealed, "sender-b")
    with pytest.raises(SealError):
        NumberBox(parse_callback_key(new_callback_key())).open(sealed, "sender-a")


@pytest.mark.parametrize(
    "key",
    [
        None,
        "changeme",
        "too-short",
        base64.urlsafe_b64encode(b"\0" * 32).decode(),
        base64.urlsafe_b64encode(b"ab" * 16).decode(),
    ],
)
def test_callbacks_refuse_a_missing_or_weak_key(redis_url: str, key: str | None) -> None:
    with pytest.raises(ConfigError, match="CALLBACK_KEY"):
        make_settings(redis_url=redis_url, callbacks=True, callback_key=key)


def test_callbacks_need_redis_hours_and_a_zone(redis_url: str) -> None:
    with pytest.raises(ConfigError, match="REDIS_URL"):
        make_settings(callbacks=True, callback_key=KEY)
    with pytest.raises(ConfigError, match="CLINIC_HOURS"):
        make_settings(redis_url=redis_url, callbacks=True, callback_key=KEY, clinic_hours="Call us")
    with pytest.raises(ValidationError, match="CLINIC_TIMEZONE"):  # refused for every deployment
        make_settings(
            redis_url=redis_url, callbacks=True, callback_key=KEY, clinic_timezone="Mars/Base"
        )
    assert make_settings(callback_key="weak").callbacks is False  # off: the key is not used


# -- the promised time ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("asked", "due"),
    [
        ("2026-12-01 09:00", "Tue 13:00"),  # open: four hours later
        ("2026-12-01 15:00", "Wed 10:00"),  # two hours today, two from the next opening
        ("2026-12-01 21:00", "Wed 12:00"),  # closed: from the next opening
        ("2026-12-04 16:30", "Mon 11:30"),  # Friday afternoon: over the weekend
        ("2026-12-05 10:00", "Mon 12:00"),  # Saturday
    ],
)
def test_the_window_counts_clinic_hours(asked: str, due: str) -> None:
    assert local(window().due(at(asked))) == due


def test_the_window_knows_several_groups_of_hours() -> None:
    clinic = "Mon-Fri 08:00-17:00, Sat 09:00-12:00"
    assert local(window(2, clinic).due(at("2026-12-05 11:00"))) == "Mon 09:00"
    assert local(window(2, clinic).due(at("2026-12-05 08:00"))) == "Sat 11:00"


def test_the_promised_time_is_told_in_each_language() -> None:
    due = int(at("2026-12-02 11:00"))
    assert window().describe(due, "en") == "Wednesday 11:00 AM"
    assert window().describe(due, "es").startswith("miércoles 11:00")


def test_callback_replies_fit_three_sms_with_the_longest_day() -> None:
    """{callback_when} is filled in when sent: measured with the longest day and time."""
    settings = make_settings()
    content = create_app(settings).api.state.bot.content
    longest = {
        language: max(
            (window().describe(int(at(f"2026-12-0{d} 11:00")), language) for d in range(1, 8)),
            key=len,
        )
        for language in ("en", "es")
    }
    for language in ("en", "es"):
        for key in CALLBACK_REPLIES:
            text = content.text(language, f"reply.callback.{key}")
            cost = measure(text.replace("{callback_when}", longest[language]))
            assert cost.segments <= 3 and cost.characters <= 320, (language, key, cost)


def test_no_opt_out_word_takes_a_request_back() -> None:
    keywords = Keywords.load(PROJECT_ROOT / "messages" / "keywords.yaml")
    taking_back = {alias for alias, info in keywords._aliases.items() if info.name == "nocall"}
    assert taking_back and not taking_back & RESERVED
    for word in ("NOCALL", "NOLLAMAR"):
        assert normalize(word) in taking_back
    for word in ("stop", "cancel", "end", "quit", "stopall", "unsubscribe", "alto", "cancelar"):
        match = keywords.match(word)
        assert match is not None and match.name == "stop", word


# -- the queue --------------------------------------------------------------------------------


RUNNER: list[asyncio.Runner] = []


@pytest.fixture
def queue(redis_url: str, prefix: str) -> Iterator[CallbackQueue]:
    """A queue on its own event loop, which `run` uses for the whole test."""
    with asyncio.Runner() as runner:
        RUNNER.append(runner)
        client = aioredis.Redis.from_url(redis_url, decode_responses=True)
        yield CallbackQueue(client, prefix, max_age_days=3)
        runner.run(client.aclose())
        RUNNER.pop()


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return RUNNER[-1].run(coroutine) if RUNNER else asyncio.run(coroutine)


async def ask(queue: CallbackQueue, sender: str, now: int, message: str = "SM1") -> Ticket:
    return await queue.request(sender, f"sealed-{sender}", "es", ("call",), message, now, now + 60)


def test_one_open_request_per_sender(queue: CallbackQueue, rdb: redis.Redis, prefix: str) -> None:
    async def scenario() -> tuple[Ticket, Ticket, Ticket]:
        first = await ask(queue, "sender-a", 1000, "SM1")
        again = await ask(queue, "sender-a", 2000, "SM2")
        retry = await ask(queue, "sender-a", 2500, "SM1")  # a Twilio retry of the first
        return first, again, retry

    first, again, retry = run(scenario())
    assert first.new and not again.new and retry.new
    assert first.id == again.id and again.created == 1000 and again.due == 1060
    keys = list(rdb.scan_iter(match=f"{prefix}:*"))
    assert keys and all(f"{{{prefix}:callbacks}}" in key for key in keys)  # one cluster slot


def test_a_claim_is_atomic_across_workers(redis_url: str, prefix: str) -> None:
    async def scenario() -> list[Claimed | HeldBy | None]:
        queues = [  # a client each, as separate workers would have
            CallbackQueue(aioredis.Redis.from_url(redis_url, decode_responses=True), prefix, 3)
            for _ in range(8)
        ]
        ticket = await ask(queues[0], "sender-a", int(time.time()))
        now = int(time.time())
        results = await asyncio.gather(
            *(q.claim(ticket.id, f"nurse{i}", now) for i, q in enumerate(queues))
        )
        for q in queues:
            await q.client.aclose()
        return results

    results = run(scenario())
    assert sum(isinstance(r, Claimed) for r in results) == 1
    assert sum(isinstance(r, HeldBy) for r in results) == len(results) - 1


def test_closing_deletes_the_number_and_keeps_statistics(
    queue: CallbackQueue, rdb: redis.Redis, prefix: str
) -> None:
    async def scenario() -> tuple[Claimed | HeldBy | None, Closing, Closing, Stats, Listing]:
        ticket = await ask(queue, "sender-a", 1000)
        claimed = await queue.claim(ticket.id, "nina", 1100)
        refused = await queue.close(ticket.id, "other", "reached", 1200)
        closed = await queue.close(ticket.id, "nina", "reached", 1300)
        return claimed, refused, closed, await queue.closed(), await queue.listing(1300)

    claimed, refused, closed, stats, listing = run(scenario())
    assert claimed == Claimed("sealed-sender-a", "sender-a")
    assert refused == HeldBy("nina") and closed == Closed(300, 0)
    assert stats == [{"outcome": "reached", "language": "es", "waited": "300", "attempts": "0"}]
    assert listing.open == 0
    dump = dump_redis(rdb, prefix)
    assert "sealed-sender-a" not in dump and "sender-a" not in dump


def test_no_answer_tries_again_up_to_the_limit(queue: CallbackQueue) -> None:
    async def scenario() -> list[Closing]:
        ticket = await ask(queue, "sender-a", 1000)
        results = []
        for attempt in range(MAX_ATTEMPTS):
            await queue.claim(ticket.id, "nina", 2000 + attempt)
            results.append(await queue.close(ticket.id, "nina", "no_answer", 2000 + attempt))
        return results

    *retries, last = run(scenario())
    assert retries == [Retry(n) for n in range(1, MAX_ATTEMPTS)]
    assert isinstance(last, Closed) and last.attempts == MAX_ATTEMPTS


def test_a_lapsed_claim_can_be_taken_over(queue: CallbackQueue) -> None:
    async def scenario() -> tuple[Claimed | HeldBy | None, Claimed | HeldBy | None]:
        ticket = await ask(queue, "sender-a", 1000)
        await queue.claim(ticket.id, "nina", 1000)
        soon = await queue.claim(ticket.id, "rosa", 1500)
        later = await queue.claim(ticket.id, "rosa", 1000 + 901)
        return soon, later

    soon, later = run(scenario())
    assert soon == HeldBy("nina") and isinstance(later, Claimed)


def test_the_patient_withdraws_and_old_requests_expire(
    queue: CallbackQueue, rdb: redis.Redis, prefix: str
) -> None:
    async def scenario() -> tuple[Closed | None, Closed | None, Listing, Stats]:
        await ask(queue, "sender-a", 1000)
        await ask(queue, "sender-b", 2000)
        await ask(queue, "sender-c", 3 * 86_400 + 1500)
        withdrawn = await queue.withdraw("sender-a", 2500)
        nothing = await queue.withdraw("sender-a", 2600)
        listing = await queue.listing(3 * 86_400 + 2500)
        return withdrawn, nothing, listing, await queue.closed()

    withdrawn, nothing, listing, stats = run(scenario())
    assert withdrawn == Closed(1500, 0) and nothing is None
    assert [w.created for w in listing.waiting] == [3 * 86_400 + 1500]
    assert listing.expired == [3 * 86_400 + 500]
    assert [s["outcome"] for s in stats] == ["expired", "withdrawn"]
    assert "sender-b" not in dump_redis(rdb, prefix)


def test_every_key_expires_as_a_backstop(
    queue: CallbackQueue, rdb: redis.Redis, prefix: str
) -> None:
    run(ask(queue, "sender-a", int(time.time())))
    for key in rdb.scan_iter(match=f"{prefix}:*"):
        if not key.endswith((":open", ":closed")):
            assert 0 < rdb.ttl(key) <= 4 * 86_400, key
