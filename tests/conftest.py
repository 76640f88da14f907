"""Shared fixtures. Every test talks to a real Redis server, and none to a developer's.

Which server: $SMSBOT_TEST_REDIS_URL if set; otherwise a redis-server these tests start on a
free port for this run (never the Redis on 6379 a developer may be using). Tests write only
under a key prefix of their own and delete only those keys. Nothing is read from the shell's
environment or a .env file: each test starts from the settings it asks for.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from bot.config import Settings
from bot.webhook.asgi import create_app
from tests.helpers.console import CHEAP_HASHER, add_account, staff_settings
from tests.helpers.phone import Phone
from tests.helpers.redis_server import RedisServer
from tests.helpers.settings import make_settings

# Variables that change what smsbot does, besides the settings' own names.
OTHER_VARIABLES = ("PROMETHEUS_MULTIPROC_DIR", "SMSBOT_LOG_LEVEL")


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    configured = os.environ.get("SMSBOT_TEST_REDIS_URL")
    if configured:
        yield configured
        return
    server = RedisServer().start()
    try:
        yield server.url
    finally:
        server.cleanup()


@pytest.fixture(scope="session")
def empty_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("no-dotenv")


@pytest.fixture(autouse=True)
def hermetic(monkeypatch: pytest.MonkeyPatch, empty_directory: Path) -> None:
    """No .env from the working directory, no exported REDIS_URL or PUBLIC_BASE_URL: the CLI
    and every Settings() see only what the test sets."""
    for name in [*Settings.model_fields, *OTHER_VARIABLES]:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(empty_directory)


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    """A key prefix for this test alone; its keys are removed afterwards."""
    name = f"smsbot-test-{uuid.uuid4().hex[:12]}"
    yield name
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{name}:*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def rdb(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def settings(redis_url: str, prefix: str) -> Settings:
    return make_settings(redis_url=redis_url, redis_key_prefix=prefix)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def phone(client: TestClient) -> Phone:
    return Phone(client)


@pytest.fixture
def new_phone(client: TestClient) -> Callable[..., Phone]:
    def make(number: str | None = None, country: str = "US") -> Phone:
        return Phone(client, number or f"+1555{uuid.uuid4().int % 10**7:07d}", country)

    return make


@pytest.fixture
def console(redis_url: str, prefix: str) -> Iterator[TestClient]:
    """The app with the staff console on, an editor (nora) and a reviewer (rita)."""
    add_account(redis_url, prefix, "nora", "editor")
    add_account(redis_url, prefix, "rita", "reviewer")
    app = create_app(staff_settings(redis_url, prefix), password_hasher=CHEAP_HASHER)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def console_with_production_hashing(redis_url: str, prefix: str) -> Iterator[TestClient]:
    """As `console`, with Argon2 at its production cost for unknown names (the timing test)."""
    with TestClient(create_app(staff_settings(redis_url, prefix))) as test_client:
        yield test_client
