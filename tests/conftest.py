"""Shared fixtures. Every test talks to a real Redis server.

Which server: $SMSBOT_TEST_REDIS_URL if set; otherwise one answering on 127.0.0.1:6379;
otherwise a redis-server these tests start on a free port. Tests write only under a key prefix
of their own and delete only those keys, so a developer's Redis keeps its data.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from bot.config import Settings, load_settings
from bot.webhook import twilio
from bot.webhook.asgi import create_app
from tests.redis_server import RedisServer

TOKEN = "test-auth-token-0123456789abcdef"
HASH_KEY = "test-hash-key-0123456789abcdef0123"
WEBHOOK = "http://testserver/sms"


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    configured = os.environ.get("SMSBOT_TEST_REDIS_URL")
    if configured:
        yield configured
        return
    try:
        redis.Redis(port=6379, socket_timeout=0.5).ping()
        yield "redis://127.0.0.1:6379/9"  # a database of its own; keys under a test prefix
        return
    except redis.RedisError:
        pass
    server = RedisServer().start()
    try:
        yield server.url
    finally:
        server.cleanup()


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    """A key prefix for this test alone; its keys are removed afterwards."""
    name = f"smsbot-test-{uuid.uuid4().hex[:12]}"
    yield name
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{name}:*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture
def rdb(redis_url: str) -> redis.Redis:
    return redis.Redis.from_url(redis_url, decode_responses=True)


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "twilio_auth_token": TOKEN,
        "session_hash_key": HASH_KEY,
        "clinic_phone": "+1 555 010 0100",
        "clinic_hours": "Mon-Fri 08:00-17:00",
        "program_name": "Test Cancer Center",
    }
    values.update(overrides)
    return load_settings(**values)


@pytest.fixture
def settings(redis_url: str, prefix: str) -> Settings:
    return make_settings(redis_url=redis_url, redis_key_prefix=prefix)


@dataclass
class Phone:
    """A patient's phone: sends signed webhooks like Twilio and reads the TwiML back."""

    client: TestClient
    number: str = "+15551230000"
    country: str = "US"
    url: str = WEBHOOK
    token: str = TOKEN
    sent: int = 0

    def post(self, form: dict[str, str], headers: dict[str, str] | None = None) -> Any:
        signature = twilio.signature(self.token, self.url, form)
        all_headers = {"X-Twilio-Signature": signature, **(headers or {})}
        return self.client.post("/sms", data=form, headers=all_headers)

    def form(self, body: str, **extra: str) -> dict[str, str]:
        self.sent += 1
        return {
            "MessageSid": f"SM{uuid.uuid4().hex}",
            "AccountSid": "AC" + "0" * 32,
            "From": self.number,
            "To": "+15550000000",
            "Body": body,
            "NumMedia": "0",
            "FromCountry": self.country,
            **extra,
        }

    def text(self, body: str, **extra: str) -> list[str]:
        response = self.post(self.form(body, **extra))
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/xml")
        return replies(response.text)


def replies(twiml: str) -> list[str]:
    import xml.etree.ElementTree as ET

    root = ET.fromstring(twiml)
    assert root.tag == "Response"
    return [message.text or "" for message in root.findall("Message")]


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
