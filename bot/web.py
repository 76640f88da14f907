"""The HTTP face of the bot. The only module that knows status codes."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from bot import twilio
from bot.app import Bot, build_bot
from bot.config import Settings, load_settings
from bot.metrics import CONTENT_TYPE
from bot.models import Inbound
from bot.privacy import sender_key

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
                    "properties": {
                        name: {"type": "string"}
                        for name in (
                            "MessageSid",
                            "SmsSid",
                            "AccountSid",
                            "MessagingServiceSid",
                            "From",
                            "To",
                            "Body",
                            "NumMedia",
                            "FromCountry",
                            "OptOutType",
                        )
                    },
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


def create_app(settings: Settings, bot: Bot | None = None) -> FastAPI:
    bot = bot or build_bot(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
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
        await bot.store.close()

    app = FastAPI(title="smsbot", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.bot = bot

    metrics = bot.conversation.metrics

    def refuse(status: int, reason: str) -> Response:
        metrics.refused.labels(reason).inc()
        return _plain(status, reason)

    @app.post("/sms", response_class=Response, openapi_extra=TWILIO_FORM, responses=TWIML_RESPONSES)
    async def sms(request: Request) -> Response:
        """Twilio Messaging webhook: signed form in, TwiML out."""
        if "application/x-www-form-urlencoded" not in request.headers.get("content-type", ""):
            return refuse(415, "expected a form-encoded Twilio webhook")
        try:
            body = await _read_limited(request, settings.max_body_bytes)
        except BodyTooLarge:
            return refuse(413, "request too large")
        try:
            form = twilio.parse_form(body)
        except ValueError:
            return refuse(400, "malformed form")
        url = twilio.public_url(
            request.url.path,
            request.url.query,
            request.headers,
            request.url.scheme,
            settings.public_base_url,
        )
        try:
            twilio.verify(
                settings.auth_token,
                url,
                form,
                request.headers.get(twilio.SIGNATURE_HEADER),
                request.headers.get(twilio.SIGNATURE_SETTINGS_HEADER),
            )
        except twilio.SignatureError as exc:
            log.warning("refused a webhook: %s (checked against %s)", exc, _redact_query(url))
            return refuse(403, str(exc))
        if not form.get("From"):
            return refuse(400, "missing From")
        answer = await bot.conversation.handle(inbound_from(form, settings))
        return Response(twilio.twiml(answer.texts), media_type=XML)

    @app.get("/metrics", include_in_schema=False)
    async def prometheus() -> Response:
        return Response(metrics.export(), media_type=CONTENT_TYPE)

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        store_ok = await bot.store.ping()
        return JSONResponse(
            {
                "status": "ok",
                "store": {"backend": bot.store.name, "ok": store_ok},
                "catalog": {
                    "version": bot.content.version,
                    "languages": list(bot.content.languages),
                },
            }
        )

    if settings.local_mode:
        _add_simulator(app, settings)
    return app


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )


def app_from_environment() -> FastAPI:
    """For `smsbot serve --workers N`: each worker builds its app from the environment."""
    configure_logging(os.environ.get("SMSBOT_LOG_LEVEL", "info"))
    return create_app(load_settings())


def inbound_from(form: twilio.Form, settings: Settings) -> Inbound:
    try:
        media = int(form.get("NumMedia") or 0)
    except ValueError:
        media = 0
    previous_key = settings.previous_hash_key
    return Inbound(
        sender=sender_key(form.get("From"), settings.hash_key),
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
        body = await _read_limited(request, settings.max_body_bytes)
        form = twilio.parse_form(body)
        url = twilio.public_url(
            "/sms", "", request.headers, request.url.scheme, settings.public_base_url
        )
        return JSONResponse({"signature": twilio.signature(settings.auth_token, url, form)})


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _plain(status: int, message: str) -> Response:
    return Response(message + "\n", status_code=status, media_type="text/plain")


def _redact_query(url: str) -> str:
    return url.split("?", 1)[0]
