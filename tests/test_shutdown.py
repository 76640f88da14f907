"""SIGTERM ends `smsbot serve` within seconds even while Redis is frozen: the catalog follower
and the stores are closed without waiting on a server that never answers, nor on a catalog
build nobody needs any more."""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import suppress

import httpx2 as httpx
import pytest

from bot.app import build_bot
from bot.catalog.files import load_data
from bot.catalog.model import CatalogData
from bot.console.follower import follow_published
from bot.console.versions import catalog_versions
from bot.content import Content
from bot.errors import CatalogError
from bot.keywords import Keywords
from bot.redis import connect
from bot.webhook import twilio
from tests.helpers.console import staff_settings
from tests.helpers.processes import ServerProcess, production_env
from tests.helpers.redis_server import RedisServer
from tests.helpers.settings import TOKEN, make_settings

STAFF = {"STAFF_SECRET_KEY": "s" * 40}


@pytest.fixture
def frozen_redis() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.cleanup()


@pytest.mark.e2e  # `smsbot serve` in its own process, its own Redis
@pytest.mark.parametrize("extra", [{}, STAFF], ids=["webhook", "with the console"])
def test_sigterm_exits_promptly_with_redis_frozen(
    frozen_redis: RedisServer, extra: dict[str, str]
) -> None:
    app = ServerProcess(production_env(frozen_redis.url, "shutdown", **extra))
    try:
        form = {"MessageSid": "SM" + "d" * 32, "From": "+15553330000", "Body": "MENU"}
        signature = twilio.signature(TOKEN, "https://sms.example-clinic.org/sms", form)
        sent = httpx.post(f"{app.base}/sms", data=form, headers={"X-Twilio-Signature": signature})
        assert sent.status_code == 200
        frozen_redis.pause()
        time.sleep(0.5)  # the follower's next poll is now stuck on the frozen server
        started = time.monotonic()
        app.process.send_signal(signal.SIGTERM)
        app.process.wait(timeout=15)
        took = time.monotonic() - started
    finally:
        if app.process.poll() is None:
            app.process.kill()
        logs = app.stop()
    assert took < 6, f"took {took:.1f} s to exit\n{logs}"


def test_a_catalog_build_in_progress_does_not_hold_up_closing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A publish arriving as the process stops: the lifespan cancels the follower and lets go of
    the build. Closing the event loop must not then wait for that build (seconds on a busy
    machine), as it would for a build in the loop's default executor."""
    settings = make_settings()
    bot = build_bot(settings)
    data = load_data(settings.messages_dir, settings.locales_dir)
    building, release = threading.Event(), threading.Event()

    def slow_prepare(_: CatalogData) -> tuple[Content, Keywords]:
        building.set()
        release.wait(30)
        raise CatalogError("not wanted any more")

    monkeypatch.setattr(bot, "prepare_catalog", slow_prepare)

    async def publish_then_stop() -> None:
        build = asyncio.create_task(bot.use_catalog(data, 2))
        await asyncio.to_thread(building.wait, 10)
        build.cancel()
        with suppress(asyncio.CancelledError):
            await build
        bot.stop_building()

    started = time.monotonic()
    try:
        asyncio.run(publish_then_stop())
        took = time.monotonic() - started
    finally:
        release.set()
    assert building.is_set()
    assert took < 5, f"closing waited {took:.1f} s for an unwanted catalog build"
    assert bot.catalog_version == 0  # the cancelled build was never served


def test_the_follower_stops_when_a_redis_call_loses_its_cancellation(
    redis_url: str, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cancelled while redis-py reads, a call can fail and be retried, and the retry succeed:
    the cancellation is lost inside the call. The follower must stop anyway, not poll on while
    the lifespan that cancelled it waits (the hang seen in teardowns on a loaded machine)."""
    settings = staff_settings(redis_url, prefix)
    bot = build_bot(settings)

    async def follow_then_stop() -> None:
        client = connect(settings, purpose="console")
        versions = catalog_versions(settings, client)
        original = versions.current_number

        lost: list[bool] = []

        async def retried_after_cancel() -> int:
            if not lost:  # in flight when the cancellation arrives; lost, as a retry loses it
                with suppress(asyncio.CancelledError):
                    await asyncio.sleep(30)
                lost.append(True)
            return await original()

        monkeypatch.setattr(versions, "current_number", retried_after_cancel)
        follower = asyncio.create_task(follow_published(bot, versions))
        await asyncio.sleep(0.2)
        follower.cancel()
        try:
            await asyncio.wait({follower}, timeout=5)
            assert lost, "the cancellation never reached the Redis call"
            assert follower.done(), "still polling after it was cancelled"
            assert follower.cancelled()
        finally:
            follower.cancel()  # a failed run: this one reaches the poll's sleep, and stops it
            with suppress(asyncio.CancelledError):
                await follower
            await client.aclose()

    asyncio.run(follow_then_stop())
