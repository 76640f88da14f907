"""/metrics says which topics were asked about and when: it is served on a listener of its own,
and carries no first-seen times (security review F-2: M01)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient

from bot.webhook import twilio
from tests.helpers.processes import ServerProcess, production_env
from tests.helpers.redis_server import free_port
from tests.helpers.settings import TOKEN

URL = "https://sms.example-clinic.org/sms"


def text_chest_pain(server: ServerProcess) -> None:
    form = {"MessageSid": "SM" + "e" * 32, "From": "+15559990077", "Body": "chest pain"}
    signature = twilio.signature(TOKEN, URL, form)
    sent = httpx.post(f"{server.base}/sms", data=form, headers={"X-Twilio-Signature": signature})
    assert sent.status_code == 200


@pytest.fixture
def served(redis_url: str, prefix: str) -> Iterator[tuple[ServerProcess, str]]:
    port = free_port()
    server = ServerProcess(production_env(redis_url, prefix, METRICS_ADDR=f"127.0.0.1:{port}"))
    yield server, f"http://127.0.0.1:{port}/metrics"
    server.stop()


@pytest.mark.e2e
def test_metrics_are_on_their_own_loopback_listener(served: tuple[ServerProcess, str]) -> None:
    server, metrics_url = served
    text_chest_pain(server)
    scraped = httpx.get(metrics_url).text
    assert 'smsbot_messages_total{intent="emergency",language="en"} 1.0' in scraped


@pytest.mark.e2e
def test_no_first_seen_times(served: tuple[ServerProcess, str]) -> None:
    server, metrics_url = served
    text_chest_pain(server)
    scraped = httpx.get(metrics_url).text
    assert "_created" not in scraped


@pytest.mark.e2e
def test_a_busy_metrics_address_does_not_stop_the_webhook(redis_url: str, prefix: str) -> None:
    port = free_port()
    holder = ServerProcess(production_env(redis_url, prefix, METRICS_ADDR=f"127.0.0.1:{port}"))
    second = ServerProcess(production_env(redis_url, prefix, METRICS_ADDR=f"127.0.0.1:{port}"))
    try:
        text_chest_pain(second)
    finally:
        logs = second.stop()
        holder.stop()
    assert "no metrics listener on 127.0.0.1:" in logs


def test_the_public_port_serves_no_metrics_without_a_token(redis_url: str, prefix: str) -> None:
    from bot.webhook.asgi import create_app
    from tests.helpers.settings import METRICS_TOKEN, make_settings

    open_settings = make_settings(redis_url=redis_url, redis_key_prefix=prefix, metrics_token=None)
    with TestClient(create_app(open_settings)) as client:
        assert client.get("/metrics").status_code == 404
        bearer = {"Authorization": f"Bearer {METRICS_TOKEN}"}
        assert client.get("/metrics", headers=bearer).status_code == 404
    with TestClient(
        create_app(make_settings(redis_url=redis_url, redis_key_prefix=prefix))
    ) as client:
        assert client.get("/metrics").status_code == 404
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
        assert client.get("/metrics", headers=bearer).status_code == 200


def test_healthz_says_only_whether_it_is_up(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "store": {"ok": True}}
