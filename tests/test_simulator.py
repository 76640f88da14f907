"""Local mode: a nurse tries the bot in a browser, through the real, signed webhook."""

from __future__ import annotations

from fastapi.testclient import TestClient

from bot.config import load_settings
from bot.webhook.asgi import create_app
from tests.helpers.phone import bot_of, replies


def test_local_mode_serves_the_simulator_and_signs_for_it(redis_url: str, prefix: str) -> None:
    settings = load_settings(twilio_auth_token=None, redis_url=redis_url, redis_key_prefix=prefix)
    assert settings.local_mode and settings.auth_token  # a token made up for this run
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        page = client.get("/")
        assert page.status_code == 200 and '<script src="/simulator.js">' in page.text
        assert "/simulator/sign" in client.get("/simulator.js").text
        form = {
            "MessageSid": "SM" + "5" * 32,
            "From": "+15551230000",
            "Body": "TIPOS",
            "NumMedia": "0",
        }
        signature = client.post("/simulator/sign", data=form).json()["signature"]
        response = client.post("/sms", data=form, headers={"X-Twilio-Signature": signature})
        content = bot_of(client).content
        assert replies(response.text) == [
            content.render("es", ("reply.welcome_short", "offer.language")),  # a first message
            content.render("es", ("menu:types",)),
        ]
        # The signing help is for this page only; the webhook still checks every request.
        assert client.post("/sms", data=form).status_code == 403
