"""The Twilio webhook: check, parse, answer. No HTTP framework in here.

It takes an `Exchange` (the request as plain data) and the ASGI `receive` callable for the body,
and gives back an `Outcome` (status, body, content type). The ASGI app in asgi.py turns a
scope into an Exchange and an Outcome into a response; a test can call `answer` directly.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.app import Bot
from bot.callbacks.desk import CallbackDesk
from bot.config import Settings
from bot.errors import BodyTooLarge, ClientGone, SignatureError
from bot.metrics import Metrics
from bot.models import Inbound
from bot.privacy import E164, normalize_number, sender_key
from bot.webhook import fields, twilio

log = logging.getLogger("smsbot.web")

XML = "application/xml"
SIGNATURE = twilio.SIGNATURE_HEADER.lower()
SIGNATURE_SETTINGS = twilio.SIGNATURE_SETTINGS_HEADER.lower()
# The ASGI receive callable, as the webhook uses it.
Receive = Callable[[], Awaitable[Mapping[str, Any]]]


@dataclass(frozen=True, slots=True)
class Exchange:
    """One webhook request, as plain data: what the core needs, whoever parsed the HTTP."""

    path: str
    query: str
    scheme: str
    headers: Mapping[str, str]  # lower-case names


@dataclass(frozen=True, slots=True)
class Outcome:
    status: int
    body: bytes
    content_type: str = XML


class Webhook:
    """The Twilio webhook: check, parse, answer. No HTTP framework in here."""

    def __init__(self, settings: Settings, bot: Bot, metrics: Metrics):
        self.settings = settings
        self.bot = bot
        self.metrics = metrics  # the refusals; the conversation counts what it answers

    async def handle(self, exchange: Exchange, receive: Receive) -> Outcome:
        """Everything POST /sms does, for whichever HTTP layer took the request. Never raises:
        a bug becomes a logged 500, which Twilio retries."""
        try:
            outcome = self.precheck(exchange)
            if outcome is not None:
                return outcome
            body = await read_body(receive, self.settings.max_body_bytes)
            return await self.answer(exchange, body)
        except BodyTooLarge:
            return self.refuse(413, "request too large")
        except ClientGone:
            return self.refuse(400, "client disconnected")  # nobody reads it; counted
        except Exception:
            log.exception("webhook failed")  # a bug: the operator must see it
            return Outcome(500, b"internal error\n", "text/plain; charset=utf-8")

    def precheck(self, exchange: Exchange) -> Outcome | None:
        """Refusals decided from the headers alone, before reading any body."""
        if "application/x-www-form-urlencoded" not in exchange.headers.get("content-type", ""):
            return self.refuse(415, "expected a form-encoded Twilio webhook")
        declared = exchange.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.settings.max_body_bytes:
            return self.refuse(413, "request too large")
        return None

    async def answer(self, exchange: Exchange, body: bytes) -> Outcome:
        try:
            form = twilio.parse_form(body)
        except ValueError:
            return self.refuse(400, "malformed form")
        url = twilio.public_url(
            exchange.path,
            exchange.query,
            exchange.headers,
            exchange.scheme,
            self.settings.public_base_url,
        )
        try:
            twilio.verify(
                self.settings.auth_token,
                url,
                form,
                exchange.headers.get(SIGNATURE),
                exchange.headers.get(SIGNATURE_SETTINGS),
                self.settings.webhook_shared_key,
            )
        except SignatureError as exc:
            if exc.shared_key_needed:
                log.warning("refused a webhook signed with a SharedKey: set TWILIO_SHARED_KEY")
            else:
                log.warning("refused a webhook: %s (checked against %s)", exc, _redact_query(url))
            return self.refuse(403, str(exc))
        if not form.get("From"):
            return self.refuse(400, "missing From")
        malformed = fields.refusal(form)
        if malformed is not None:
            return self.refuse(400, malformed)
        inbound = inbound_from(form, self.settings, self.bot.callbacks)
        answer = await self.bot.conversation.handle(inbound)
        return Outcome(200, twilio.twiml(answer.texts).encode())

    def refuse(self, status: int, reason: str) -> Outcome:
        self.metrics.refused.labels(reason).inc()
        return Outcome(status, f"{reason}\n".encode(), "text/plain; charset=utf-8")


async def read_body(receive: Receive, limit: int) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def inbound_from(
    form: twilio.Form, settings: Settings, callbacks: CallbackDesk | None = None
) -> Inbound:
    previous_key = settings.previous_hash_key
    sender = sender_key(form.get("From"), settings.hash_key)
    number = normalize_number(form.get("From"))
    return Inbound(
        sender=sender,
        # Sealed at once, and only a phone number: a short code cannot be called back.
        sealed_number=callbacks.seal(number, sender)
        if callbacks and E164.fullmatch(number)
        else "",
        previous_sender=sender_key(form.get("From"), previous_key) if previous_key else "",
        # Without an ID there is nothing to recognise a retry by: treat it as new.
        message_id=form.get("MessageSid"),  # its shape checked by bot/webhook/fields.py
        body=form.get("Body"),
        from_country=form.get("FromCountry"),
        opt_out_type=form.get("OptOutType"),
    )


def _redact_query(url: str) -> str:
    return url.split("?", 1)[0]
