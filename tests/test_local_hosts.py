"""Local mode answers only to loopback host names (security review F-14, DNS rebinding: LM01,
LM03)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from bot.config import load_settings
from bot.webhook.asgi import App, create_app


@pytest.fixture
def local(redis_url: str, prefix: str) -> App:
    settings = load_settings(twilio_auth_token=None, redis_url=redis_url, redis_key_prefix=prefix)
    assert settings.local_mode
    return create_app(settings)


FORM = {"MessageSid": "SM" + "7" * 32, "From": "+15551230000", "Body": "MENU"}


@pytest.mark.parametrize("host", ["rebind.attacker.example", "127.0.0.1.nip.io", "evil:8000"])
def test_local_mode_refuses_a_rebound_host_name(local: App, host: str) -> None:
    """A DNS-rebinding page sends its own host name: nothing is signed or answered for it."""
    with TestClient(local, base_url=f"http://{host}") as client:
        assert client.post("/simulator/sign", data=FORM).status_code == 421
        assert client.get("/").status_code == 421
        assert (
            client.post("/sms", data=FORM, headers={"X-Twilio-Signature": "x"}).status_code == 421
        )


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "localhost:8000", "[::1]:8000", "LOCALHOST"])
def test_local_mode_answers_the_loopback_names(local: App, host: str) -> None:
    with TestClient(local, base_url=f"http://{host}") as client:
        signature = client.post("/simulator/sign", data=FORM).json()["signature"]
        response = client.post("/sms", data=FORM, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 200
        assert client.get("/").status_code == 200


def test_production_mode_is_not_limited_to_loopback(client: TestClient) -> None:
    assert client.get("/healthz", headers={"Host": "sms.example-clinic.org"}).status_code == 200
