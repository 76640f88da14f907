"""What a patient texts to the callback queue, end to end through the signed webhook, on a
real Redis: ask in either language, ask again, emergencies first, NOCALL, STOP and FORGET."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest
import redis
from fastapi.testclient import TestClient
from redis import asyncio as aioredis

from bot.app import Bot
from bot.callbacks.desk import CallbackDesk
from bot.callbacks.queue import CallbackQueue, Listing
from bot.config import Settings, new_callback_key
from bot.webhook.asgi import create_app
from tests.helpers.phone import MAIN, Phone, bot_of, scrape
from tests.helpers.redis_server import free_port
from tests.helpers.settings import make_settings
from tests.helpers.store import dump_redis

KEY = new_callback_key()
T = TypeVar("T")


@pytest.fixture
def on(redis_url: str, prefix: str) -> Settings:
    return make_settings(
        redis_url=redis_url, redis_key_prefix=prefix, callbacks=True, callback_key=KEY
    )


@pytest.fixture
def app(on: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(on)) as client:
        yield client


@pytest.fixture
def bot(app: TestClient) -> Bot:
    return bot_of(app)


def desk_of(bot: Bot) -> CallbackDesk:
    desk = bot.callbacks
    assert desk is not None, "callbacks are on in these tests"
    return desk


def listing_now(bot: Bot) -> Listing:
    return read_queue(bot.settings, lambda queue: queue.listing(int(time.time())))


def read_queue(settings: Settings, read: Callable[[CallbackQueue], Awaitable[T]]) -> T:
    """Read the queue with a client of a loop of its own (the app's lives on the test
    client's)."""

    async def run() -> T:
        assert settings.redis_url
        client = aioredis.Redis.from_url(settings.redis_url, decode_responses=True)
        try:
            return await read(CallbackQueue(client, settings.redis_key_prefix, 3))
        finally:
            await client.aclose()

    return asyncio.run(run())


def test_nurse_in_english_promises_a_time_and_the_safety_line(app: TestClient, bot: Bot) -> None:
    phone = Phone(app)
    phone.text("SIDE EFFECTS")
    (reply,) = phone.text("NURSE")
    queued = listing_now(bot)
    assert queued.open == 1 and queued.waiting[0].topics == ("side_effects",)
    when = desk_of(bot).describe(queued.waiting[0].due, "en")
    assert reply.startswith(f"A nurse will call you by {when}.")
    assert "call 911" in reply and "(555) 010-0100" in reply and "NOCALL" in reply
    assert "cancel" not in reply.lower()  # a patient answering CANCEL would opt out
    (again,) = phone.text("can a nurse call me")
    assert again.startswith(f"You already asked. A nurse will call you by {when}.")
    assert listing_now(bot).open == 1


def test_enfermera_in_spanish(app: TestClient, bot: Bot) -> None:
    phone = Phone(app, "+15551239999")
    (reply,) = phone.text("quiero que me llame una enfermera")
    queued = listing_now(bot)
    assert queued.waiting[0].language == "es"
    when = desk_of(bot).describe(queued.waiting[0].due, "es")
    assert reply.startswith(f"Una enfermera le llamará a más tardar el {when}.")
    assert "911" in reply and "NOLLAMAR" in reply


def test_an_emergency_is_answered_first_and_the_request_still_counts(
    app: TestClient, bot: Bot
) -> None:
    replies = Phone(app).text("chest pain, I need a nurse")  # a first message: welcomed too
    assert replies[0] == bot.content.render("en", ("reply.emergency",))
    assert replies[-1].startswith("A nurse will call you by")
    assert listing_now(bot).open == 1


def test_nocall_withdraws_and_says_so(app: TestClient, bot: Bot) -> None:
    phone = Phone(app)
    phone.text("NURSE")
    (reply,) = phone.text("NOCALL")
    assert reply.startswith("OK, a nurse will not call you.")
    assert listing_now(bot).open == 0
    (none,) = phone.text("nocall")
    assert none.startswith("You have no call request open.")


@pytest.mark.parametrize("word", ["STOP", "ALTO", "FORGET"])
def test_stop_and_forget_withdraw_the_request(app: TestClient, bot: Bot, word: str) -> None:
    phone = Phone(app)
    phone.text("NURSE")
    phone.text(word)
    assert listing_now(bot).open == 0
    closed = read_queue(bot.settings, lambda queue: queue.closed())
    assert [entry["outcome"] for entry in closed] == ["withdrawn"]


def test_twilio_advanced_opt_out_withdraws_too(app: TestClient, bot: Bot) -> None:
    phone = Phone(app)
    phone.text("NURSE")
    assert phone.text("STOP", OptOutType="STOP") == []
    assert listing_now(bot).open == 0


def test_ordinary_messages_never_touch_the_queue(
    app: TestClient, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One round trip a message: only asking, NOCALL, and STOP/FORGET by a sender who asked
    reach the queue."""
    calls: list[str] = []
    queue = desk_of(bot).queue
    original = queue._run

    async def counted(script: Any, keys: list[str], args: list[Any]) -> Any:
        calls.append(keys[0])
        return await original(script, keys, args)

    monkeypatch.setattr(queue, "_run", counted)
    phone = Phone(app)
    for body in ("MENU", "3", "SIDE EFFECTS", "MORE", "gibberish xyz", "STOP", "START", "FORGET"):
        phone.text(body)
    assert calls == []
    phone.text("NURSE")
    phone.text("STOP")
    assert len(calls) == 2


def test_the_hint_in_when_to_call_and_not_understood(app: TestClient) -> None:
    phone = Phone(app)
    phone.text("MENU")  # a first message gets the welcome
    safety, menu = phone.text("qwzx")
    assert safety.endswith("\nNeed a call from a nurse? Reply NURSE.")
    assert menu == bot_of(app).content.render("en", MAIN)
    pages = [phone.text("WHEN TO CALL")]
    while "MORE" in pages[-1][0]:
        pages.append(phone.text("MORE"))
    assert pages[-1][-1] == "Need a call from a nurse? Reply NURSE."
    assert all(len(texts) == 1 for texts in pages[:-1])


def test_callbacks_off_explains_how_to_call(redis_url: str, prefix: str) -> None:
    settings = make_settings(redis_url=redis_url, redis_key_prefix=prefix)
    with TestClient(create_app(settings)) as client:
        phone = Phone(client)
        phone.text("MENU")
        (reply,) = phone.text("NURSE")
        assert reply.startswith("To talk with a nurse, call your care team at (555) 010-0100")
        assert all("NURSE" not in text for text in phone.text("qwzx"))


def test_a_twilio_retry_gets_the_same_promise(app: TestClient, bot: Bot) -> None:
    phone = Phone(app)
    form = phone.form("NURSE")
    first = phone.post(form).text
    assert phone.post(form).text == first
    assert listing_now(bot).open == 1


def test_no_number_in_redis_or_logs(
    app: TestClient, bot: Bot, rdb: redis.Redis, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    numbers = ["+15557654321", "+15557654322"]
    for number in numbers:
        Phone(app, number).text("NURSE")
    dump = dump_redis(rdb, prefix)
    assert listing_now(bot).open == 2
    for number in numbers:
        for form in (number, number[1:], number[2:], number[-7:]):
            assert form not in dump and form not in caplog.text


def test_metrics_show_the_queue(app: TestClient) -> None:
    Phone(app).text("NURSE")
    text = scrape(app).text
    assert "smsbot_callbacks_open 1.0" in text
    assert "smsbot_callbacks_target_seconds 7200.0" in text
    assert "smsbot_callback_requests_total 1.0" in text


def test_redis_away_tells_the_patient_to_call(prefix: str) -> None:
    away = make_settings(
        redis_url=f"redis://127.0.0.1:{free_port()}/0",
        redis_key_prefix=prefix,
        callbacks=True,
        callback_key=KEY,
    )
    with TestClient(create_app(away)) as client:
        (reply,) = Phone(client).text("NURSE")
        assert reply.startswith("Sorry, we could not take your call request right now.")
        assert "(555) 010-0100" in reply and "911" in reply
