"""The HTTP face of the bot: the webhook, health, metrics and the local simulator. The staff
console's pages live in bot/staff.py and are mounted here."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.types import Receive, Scope, Send

from bot import twilio
from bot.app import Bot, build_bot
from bot.callbacks.desk import CallbackDesk
from bot.config import Settings, load_settings
from bot.errors import StoreUnavailable
from bot.metrics import CONTENT_TYPE
from bot.models import Inbound
from bot.privacy import E164, normalize_number, sender_key
from bot.published import catalog_versions, follow_published
from bot.staff import mount_console

log = logging.getLogger("smsbot.web")

XML = "application/xml"

# /sms reads the raw body itself (one parse, and the signature covers exactly what was sent), so
# the form is described here for the OpenAPI schema rather than through FastAPI parameters.
TWILIO_FORM = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["From", "MessageSid"],
                    "properties": {name: {"type": "string"} for name in twilio.WEBHOOK_FIELDS},
                }
            }
        },
    },
    "parameters": [
        {
            "name": "X-Twilio-Signature",
            "in": "header",
            "required": True,
            "schema": {"type": "string"},
        }
    ],
}
TWIML_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"description": "TwiML", "content": {XML: {"schema": {"type": "string"}}}},
    400: {"description": "Malformed form or missing From"},
    403: {"description": "Signature missing or invalid"},
    413: {"description": "Body too large"},
    415: {"description": "Not a form-encoded body"},
}


class BodyTooLarge(Exception):
    pass


class ClientGone(Exception):
    """The client hung up before the whole body arrived."""


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

    def __init__(self, settings: Settings, bot: Bot):
        self.settings = settings
        self.bot = bot
        self.metrics = bot.conversation.metrics

    async def handle(self, exchange: Exchange, receive: Receive) -> Outcome:
        """Everything POST /sms does, for whichever HTTP layer took the request. Never raises:
        a bug becomes a logged 500, which Twilio retries."""
        try:
            outcome = self.precheck(exchange)
            if outcome is not None:
                return outcome
            body = await _read_body(receive, self.settings.max_body_bytes)
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
        except twilio.SignatureError as exc:
            if exc.shared_key_needed:
                log.warning("refused a webhook signed with a SharedKey: set TWILIO_SHARED_KEY")
            else:
                log.warning("refused a webhook: %s (checked against %s)", exc, _redact_query(url))
            return self.refuse(403, str(exc))
        if not form.get("From"):
            return self.refuse(400, "missing From")
        inbound = inbound_from(form, self.settings, self.bot.callbacks)
        answer = await self.bot.conversation.handle(inbound)
        return Outcome(200, twilio.twiml(answer.texts).encode())

    def refuse(self, status: int, reason: str) -> Outcome:
        self.metrics.refused.labels(reason).inc()
        return Outcome(status, f"{reason}\n".encode(), "text/plain; charset=utf-8")


SIGNATURE = twilio.SIGNATURE_HEADER.lower()
SIGNATURE_SETTINGS = twilio.SIGNATURE_SETTINGS_HEADER.lower()


class App:
    """The ASGI app. `POST /sms` goes straight to the webhook: every inbound text passes here,
    so it skips the framework's per-request machinery. Everything else is FastAPI."""

    def __init__(self, webhook: Webhook, api: FastAPI):
        self.webhook = webhook
        self.api = api
        self.state = api.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/sms" and scope["method"] == "POST":
            await self._sms(scope, receive, send)
        else:
            await self.api(scope, receive, send)

    async def _sms(self, scope: Scope, receive: Receive, send: Send) -> None:
        exchange = Exchange(
            scope["path"],
            scope["query_string"].decode("latin-1"),
            scope["scheme"],
            {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]},
        )
        outcome = await self.webhook.handle(exchange, receive)
        headers = [
            (b"content-type", outcome.content_type.encode()),
            (b"content-length", str(len(outcome.body)).encode()),
        ]
        await send({"type": "http.response.start", "status": outcome.status, "headers": headers})
        await send({"type": "http.response.body", "body": outcome.body})


async def _read_body(receive: Receive, limit: int) -> bytes:
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


def create_app(settings: Settings, bot: Bot | None = None) -> App:
    bot = bot or build_bot(settings)
    webhook = Webhook(settings, bot)
    # With the console off, the files are the catalog: no version published earlier is served.
    versions = catalog_versions(settings) if settings.staff_console else None

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        follower = None
        if versions is not None:
            await follow_published(bot, versions, once=True)
            follower = asyncio.create_task(follow_published(bot, versions))
        # Catalogs, keyword indexes and the app live as long as the process: keep the garbage
        # collector from walking them again and again under load.
        gc.collect()
        gc.freeze()
        ok = await bot.store.ping()
        log.info(
            "ready: store=%s (%s) catalog=%s languages=%s%s",
            bot.store.name,
            "up" if ok else "DOWN, answering without sessions until it is back",
            bot.content.version,
            ",".join(bot.content.languages),
            " local mode" if settings.local_mode else "",
        )
        yield
        if follower is not None:
            follower.cancel()
        if versions is not None:
            await versions.client.aclose()
        if bot.callbacks is not None:
            await bot.callbacks.queue.client.aclose()
        await bot.store.close()

    api = FastAPI(title="smsbot", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None)
    api.state.bot = bot

    @api.post("/sms", response_class=Response, openapi_extra=TWILIO_FORM, responses=TWIML_RESPONSES)
    async def sms(request: Request) -> Response:
        """Twilio Messaging webhook: signed form in, TwiML out.

        Served by `App` directly; this route documents it and serves any other mounting.
        """
        exchange = Exchange(
            request.url.path, request.url.query, request.url.scheme, dict(request.headers)
        )
        outcome = await webhook.handle(exchange, request.receive)
        return Response(outcome.body, status_code=outcome.status, media_type=outcome.content_type)

    @api.get("/metrics", include_in_schema=False)
    async def prometheus() -> Response:
        if bot.callbacks is not None:  # the queue's size and age, as Redis has them now
            try:
                await bot.callbacks.refresh(int(time.time()))
            except StoreUnavailable:
                log.warning("could not read the callback queue for /metrics")
        return Response(webhook.metrics.export(), media_type=CONTENT_TYPE)

    @api.get("/healthz")
    async def healthz() -> JSONResponse:
        store_ok = await bot.store.ping()
        return JSONResponse(
            {
                "status": "ok",
                "store": {"backend": bot.store.name, "ok": store_ok},
                "catalog": {
                    "version": bot.content.version,
                    "published": bot.catalog_version,
                    "languages": list(bot.content.languages),
                },
            }
        )

    if settings.local_mode:
        _add_simulator(api, settings)
    if versions is not None:
        mount_console(api, settings, bot, versions)
    return App(webhook, api)


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )


def app_from_environment() -> App:
    """For `smsbot serve --workers N`: each worker builds its app from the environment."""
    configure_logging(os.environ.get("SMSBOT_LOG_LEVEL", "info"))
    return create_app(load_settings())


def inbound_from(
    form: twilio.Form, settings: Settings, callbacks: CallbackDesk | None = None
) -> Inbound:
    try:
        media = int(form.get("NumMedia") or 0)
    except ValueError:
        media = 0
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
        message_id=form.get("MessageSid") or form.get("SmsSid") or f"local-{uuid.uuid4().hex}",
        body=form.get("Body"),
        media_count=media,
        from_country=form.get("FromCountry"),
        opt_out_type=form.get("OptOutType"),
    )


def _add_simulator(app: FastAPI, settings: Settings) -> None:
    """Local mode only: a phone-style page that posts signed messages to /sms."""
    page = files("bot").joinpath("static/simulator.html").read_text(encoding="utf-8")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def simulator() -> HTMLResponse:
        return HTMLResponse(page)

    @app.post("/simulator/sign", include_in_schema=False)
    async def sign(request: Request) -> JSONResponse:
        """Sign a form the way Twilio would, with this run's made-up token."""
        try:
            form = twilio.parse_form(await _read_body(request.receive, settings.max_body_bytes))
        except (BodyTooLarge, ClientGone, ValueError):
            return JSONResponse({"error": "not a form this simulator sends"}, status_code=400)
        url = twilio.public_url(
            "/sms", "", request.headers, request.url.scheme, settings.public_base_url
        )
        return JSONResponse({"signature": twilio.signature(settings.auth_token, url, form)})


def _redact_query(url: str) -> str:
    return url.split("?", 1)[0]
