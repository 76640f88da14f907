"""A patient's phone: signed webhooks in, TwiML out."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

import httpx2 as httpx
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from bot.app import Bot
from bot.models import Language
from bot.webhook import twilio
from bot.webhook.asgi import App
from tests.helpers.settings import METRICS_TOKEN, TOKEN, WEBHOOK

MAIN = ("menu:main",)


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
        return twilio_form(self.number, body, FromCountry=self.country, **extra)

    def text(self, body: str, **extra: str) -> list[str]:
        response = self.post(self.form(body, **extra))
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/xml")
        return replies(response.text)


def twilio_form(number: str, body: str, **extra: str) -> dict[str, str]:
    """The form Twilio posts for a text from `number`."""
    return {
        "MessageSid": f"SM{uuid.uuid4().hex}",
        "AccountSid": "AC" + "0" * 32,
        "From": number,
        "To": "+15550000000",
        "Body": body,
        "NumMedia": "0",
        "FromCountry": "US",
        **extra,
    }


def text_server(base: str, number: str, body: str, signed_for: str = "") -> list[str]:
    """A text to a server on a real port, signed as Twilio signs it, and the replies.

    `signed_for`: the URL Twilio signs (PUBLIC_BASE_URL's /sms behind a proxy); the server's own
    /sms unless given.
    """
    form = twilio_form(number, body)
    signature = twilio.signature(TOKEN, signed_for or f"{base}/sms", form)
    response = httpx.post(f"{base}/sms", data=form, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200, response.text
    return replies(response.text)


def scrape(client: TestClient) -> Any:
    """GET /metrics as Prometheus would on the public port: with the bearer token."""
    return client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})


def round_trips(client: TestClient) -> float:
    """How many round trips to the store the bot has made, as /metrics counts them."""
    for family in text_string_to_metric_families(scrape(client).text):
        if family.name == "smsbot_store_round_trips":
            value: float = family.samples[0].value
            return value
    raise AssertionError("no round-trip counter")


def replies(twiml: str) -> list[str]:

    root = ET.fromstring(twiml)
    assert root.tag == "Response"
    return [message.text or "" for message in root.findall("Message")]


def expect(phone: Phone, language: Language, *messages: tuple[str, ...]) -> list[str]:
    content = bot_of(phone.client).content
    return [content.render(language, parts) for parts in messages]


def bot_of(client: TestClient) -> Bot:
    """The running bot behind a test client (its content, catalog version, store)."""
    app = client.app
    assert isinstance(app, App)
    bot: Bot = app.state.bot
    return bot
