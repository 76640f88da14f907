"""Retries, races and floods: state is never double-applied, lost or corrupted."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx2 as httpx
import pytest
import redis
from fastapi.testclient import TestClient

from bot.config import Settings
from bot.webhook import twilio
from bot.webhook.asgi import create_app
from tests.helpers.phone import Phone, bot_of, expect, replies
from tests.helpers.settings import TOKEN, WEBHOOK, make_settings
from tests.helpers.store import key_of, stored_count

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def signed(form: dict[str, str]) -> dict[str, str]:
    return {"X-Twilio-Signature": twilio.signature(TOKEN, WEBHOOK, form)}


def form(body: str, number: str, sid: str | None = None) -> dict[str, str]:
    return {"MessageSid": sid or f"SM{uuid.uuid4().hex}", "From": number, "Body": body}


async def post_all(app: Any, forms: list[dict[str, str]]) -> list[list[str]]:
    """Deliver these webhooks at the same time, on one event loop, like a busy worker."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        responses = await asyncio.gather(
            *(client.post("/sms", data=f, headers=signed(f)) for f in forms)
        )
    assert all(r.status_code == 200 for r in responses)
    return [replies(r.text) for r in responses]


async def test_retries_in_flight_apply_once(settings: Settings) -> None:
    app = create_app(settings)
    number = "+15552220000"
    await post_all(app, [form("CAR T", number)])  # cell therapy, page 1 of 5
    more = form("MORE", number)
    answers = await post_all(app, [more] * 8)  # Twilio retrying while the first still runs
    content = app.state.bot.content
    page2 = content.render("en", ("topic.cell_therapy.2", "hint.more"))
    # Every retry gets the first delivery's answer: the recorded answer is checked first.
    assert answers == [[page2]] * 8
    (next_page,) = await post_all(app, [form("MORE", number)])
    assert next_page == [content.render("en", ("topic.cell_therapy.3", "hint.more"))]


async def test_racing_messages_never_lose_a_language_switch(settings: Settings) -> None:
    app = create_app(settings)
    content = app.state.bot.content
    for round_number in range(5):
        number = f"+1555333{round_number:04d}"
        burst = [form("TYPES", number) for _ in range(9)]
        burst.insert(4, form("ESPAÑOL", number))
        await post_all(app, burst)
        (help_reply,) = await post_all(app, [form("HELP", number)])
        assert help_reply == [content.render("es", ("reply.help",))]


def test_retry_after_completion_gets_the_same_reply(phone: Phone) -> None:
    phone.text("menu")
    side_effects = bot_of(phone.client).content.structure.menus["main"].items.index("side_effects")
    retry = phone.form(str(side_effects + 1))
    first = phone.post(retry).text
    assert phone.post(retry).text == first
    assert replies(first) == expect(phone, "en", ("topic.side_effects.1", "hint.more"))


class TestFlood:
    @staticmethod
    def limited(redis_url: str, prefix: str, window: int) -> TestClient:
        """An app that pauses replies after 5 messages in `window` seconds."""
        settings = make_settings(
            redis_url=redis_url, redis_key_prefix=prefix, flood_limit=5, flood_window_seconds=window
        )
        return TestClient(create_app(settings))

    def test_one_notice_then_silence_then_back(
        self, redis_url: str, prefix: str, rdb: redis.Redis
    ) -> None:
        with self.limited(redis_url, prefix, window=2) as client:
            bot = Phone(client, "+15554440000")
            for _ in range(5):
                assert bot.text("TYPES")
            assert bot.text("TYPES") == expect(bot, "en", ("reply.flood",))
            for _ in range(5):
                assert bot.text("TYPES") == []
            rdb.delete(key_of(prefix, bot.number, "flood"))  # the window is over
            assert bot.text("TYPES") == expect(bot, "en", ("menu:types",))

    def test_opt_out_during_a_flood_still_counts(
        self, redis_url: str, prefix: str, rdb: redis.Redis
    ) -> None:
        with self.limited(redis_url, prefix, window=60) as client:
            bot = Phone(client, "+15554441111")
            for _ in range(7):
                bot.text("hello?")
            assert bot.text("STOP") == []
            assert stored_count(rdb, prefix, "opt_out") == 1

    def test_twilio_opt_out_at_the_flood_notice_is_recorded_and_silent(
        self, redis_url: str, prefix: str, rdb: redis.Redis
    ) -> None:
        """Twilio answered an opt-out word set up only in Twilio (`OptOutType`), and it is the
        message over the limit: the opt-out is recorded, and no flood notice follows Twilio's
        confirmation."""
        with self.limited(redis_url, prefix, window=60) as client:
            bot = Phone(client, "+15554442222")
            for _ in range(5):
                bot.text("hello?")
            assert bot.text("NOMAS", OptOutType="STOP") == []
            assert stored_count(rdb, prefix, "opt_out") == 1
            assert bot.text("VOLVER", OptOutType="START") == []
            assert stored_count(rdb, prefix, "opt_out") == 0
