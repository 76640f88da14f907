"""Redis away, slow or back: the webhook keeps answering with a 200 and recovers by itself."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import redis
from fastapi.testclient import TestClient

from bot.web import create_app
from tests.conftest import Phone, make_settings
from tests.redis_server import RedisServer


@pytest.fixture
def server() -> Iterator[RedisServer]:
    own = RedisServer().start()
    yield own
    own.cleanup()


def app_for(server: RedisServer, **overrides) -> TestClient:
    settings = make_settings(
        redis_url=server.url, redis_key_prefix="t", redis_timeout_seconds=0.2, **overrides
    )
    return TestClient(create_app(settings))


def wait_for_recovery(phone: Phone, expected: list[str]) -> None:
    """Choose Spanish, then ask in English: only a saved session answers in Spanish."""
    deadline = time.monotonic() + 5
    while True:
        phone.text("ESPAÑOL")
        if phone.text("TYPES") == expected:
            return
        assert time.monotonic() < deadline, "did not recover"
        time.sleep(0.2)


def test_redis_down_then_back(server: RedisServer) -> None:
    with app_for(server) as client:
        phone = Phone(client)
        content = client.app.state.bot.content
        spanish_types = [content.render("es", ("menu:types",))]
        assert phone.text("ESPAÑOL")  # saved while Redis is up

        server.stop()
        started = time.monotonic()
        # Down: still a 200 with useful content; the Spanish word itself says Spanish.
        assert phone.text("TIPOS") == spanish_types
        assert phone.text("asdf") == [content.render("en", ("reply.not_understood", "menu:main"))]
        assert time.monotonic() - started < 2

        server.start()  # an empty Redis: this test server keeps nothing on disk
        wait_for_recovery(phone, spanish_types)
        assert client.get("/healthz").json()["store"]["ok"] is True


def test_redis_down_at_start_up(server: RedisServer) -> None:
    server.stop()
    with app_for(server) as client:
        phone = Phone(client)
        content = client.app.state.bot.content
        assert client.get("/healthz").json()["store"]["ok"] is False
        assert phone.text("TYPES") == [content.render("en", ("menu:types",))]
        server.start()
        wait_for_recovery(phone, [content.render("es", ("menu:types",))])


def test_redis_frozen_answers_within_budget(server: RedisServer) -> None:
    with app_for(server) as client:
        phone = Phone(client)
        phone.text("menu")
        server.pause()
        try:
            started = time.monotonic()
            answer = phone.text("TYPES")
            elapsed = time.monotonic() - started
        finally:
            server.resume()
        assert answer == [client.app.state.bot.content.render("en", ("menu:types",))]
        assert elapsed < 2.0  # far inside Twilio's 15 seconds


def test_commit_failure_after_read_still_answers(server: RedisServer) -> None:
    """A store that fails between read and write: the patient still gets the answer."""
    with app_for(server) as client:
        phone = Phone(client)
        phone.text("menu")
        redis.Redis(port=server.port).script_flush()  # harmless: the script reloads itself
        assert phone.text("2")


def test_embedded_store_serves_without_redis_url() -> None:
    settings = make_settings(redis_url=None)
    with TestClient(create_app(settings)) as client:
        assert client.app.state.bot.store.name == "memory"
        phone = Phone(client)
        content = client.app.state.bot.content
        phone.text("ESPAÑOL")
        assert phone.text("TYPES") == [content.render("es", ("menu:types",))]
