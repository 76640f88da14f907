"""Redis away, slow or back: the webhook keeps answering with a 200 and recovers by itself."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from bot.webhook.asgi import create_app
from tests.helpers.phone import Phone, bot_of
from tests.helpers.redis_server import RedisServer
from tests.helpers.settings import make_settings


@pytest.fixture
def server() -> Iterator[RedisServer]:
    own = RedisServer().start()
    yield own
    own.cleanup()


def app_for(server: RedisServer, **overrides: Any) -> TestClient:
    settings = make_settings(
        redis_url=server.url, redis_key_prefix="t", redis_timeout_seconds=0.2, **overrides
    )
    return TestClient(create_app(settings))


def wait_for_recovery(phone: Phone, server: RedisServer, expected: list[str]) -> None:
    """Messages are saved in Redis again, without a restart of the app."""
    deadline = time.monotonic() + 5
    saved = redis.Redis(port=server.port)
    while True:
        phone.text("ESPAÑOL")
        if list(saved.scan_iter(match="t:*:s")):
            break
        assert time.monotonic() < deadline, "did not recover"
        time.sleep(0.2)
    assert phone.text("TYPES") == expected


def test_redis_down_then_back(server: RedisServer) -> None:
    with app_for(server) as client:
        phone = Phone(client)
        content = bot_of(client).content
        spanish_types = [content.render("es", ("menu:types",))]
        assert phone.text("ESPAÑOL")  # saved while Redis is up

        server.stop()
        started = time.monotonic()
        # Down: still a 200 with useful content, in the best-guess language (this process
        # remembers the Spanish choice; for a sender it never saw, the words decide).
        assert phone.text("TIPOS") == spanish_types
        assert phone.text("asdf") == [
            content.render("es", ("reply.safety",)),
            content.render("es", ("menu:main",)),
        ]
        stranger = Phone(client, "+15550001111")
        assert stranger.text("efectos") == [
            content.render("es", ("reply.welcome_short", "offer.language")),
            content.render("es", ("topic.side_effects.1", "hint.more")),
        ]
        assert stranger.text("HELP") == [content.render("en", ("reply.help",))]
        assert time.monotonic() - started < 2

        server.start()  # an empty Redis: this test server keeps nothing on disk
        wait_for_recovery(phone, server, spanish_types)
        assert client.get("/healthz").json()["store"]["ok"] is True


def test_redis_down_at_start_up(server: RedisServer) -> None:
    server.stop()
    with app_for(server) as client:
        phone = Phone(client)
        content = bot_of(client).content
        assert client.get("/healthz").json()["store"]["ok"] is False
        assert phone.text("TYPES") == [  # a sender this process never saw: welcomed
            content.render("en", ("reply.welcome_short", "offer.language")),
            content.render("en", ("menu:types",)),
        ]
        server.start()
        wait_for_recovery(phone, server, [content.render("es", ("menu:types",))])


def test_redis_frozen_answers_within_budget(server: RedisServer) -> None:
    """A frozen Redis still accepts connections (the kernel does), then never answers: each
    message, including those that open a new connection after the cool-down, stays in budget."""
    with app_for(server) as client:
        phone = Phone(client)
        phone.text("menu")
        types = [bot_of(client).content.render("en", ("menu:types",))]
        server.pause()
        try:
            for _ in range(3):
                started = time.monotonic()
                assert phone.text("TYPES") == types
                assert time.monotonic() - started < 1.0  # far inside Twilio's 15 seconds
                time.sleep(1.1)  # past the cool-down: the next message tries Redis again
        finally:
            server.resume()


def test_an_opt_out_while_redis_is_down_is_saved_when_it_is_back(server: RedisServer) -> None:
    """ALTO (a word only the bot knows, so Twilio blocks nothing) while Redis is away: the
    sender hears nothing more from this process, and the opt-out reaches Redis once it is
    back, even though the sender never texts again."""
    with app_for(server) as client:
        phone = Phone(client, "+15558880000")
        content = bot_of(client).content
        assert phone.text("MENU")
        server.stop()
        assert phone.text("ALTO") == [content.render("es", ("reply.stop",))]
        assert phone.text("TIPOS") == []  # remembered here while Redis is away
        server.start()  # an empty Redis: this test server keeps nothing on disk
        stored = redis.Redis(port=server.port)
        deadline = time.monotonic() + 5
        while not list(stored.scan_iter(match="t:*:o")):  # another patient's text reaches Redis
            assert time.monotonic() < deadline, "the opt-out was never saved"
            Phone(client, "+15558881111").text("MENU")
            time.sleep(0.2)
        assert phone.text("TIPOS") == []
        assert phone.text("START") == [
            content.render("es", ("reply.start",)),
            content.render("es", ("menu:main",)),
        ]


def test_flushed_script_cache_is_harmless(server: RedisServer) -> None:
    """After SCRIPT FLUSH (or a Redis failover) the commit script is loaded again by itself."""
    with app_for(server) as client:
        phone = Phone(client)
        phone.text("menu")
        redis.Redis(port=server.port).script_flush()
        how = bot_of(client).content.structure.menus["main"].items.index("how") + 1
        assert phone.text(str(how)) == [
            bot_of(client).content.render("en", ("topic.how.1", "hint.more"))
        ]
        assert phone.text("MORE") == [
            bot_of(client).content.render("en", ("topic.how.2", "hint.more"))
        ]


def test_embedded_store_serves_without_redis_url() -> None:
    settings = make_settings(redis_url=None)
    with TestClient(create_app(settings)) as client:
        assert bot_of(client).store.name == "memory"
        phone = Phone(client)
        content = bot_of(client).content
        phone.text("ESPAÑOL")
        assert phone.text("TYPES") == [content.render("es", ("menu:types",))]
