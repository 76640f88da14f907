"""The ASGI app: the webhook's fast path, health, metrics, the console and the local simulator.

`POST /sms` goes straight from the ASGI scope to the framework-free webhook; everything else is
FastAPI. The lifespan owns what runs beside the requests: the catalog follower, started before
the first request, and cancelled and awaited before the Redis client it uses is closed.
"""

from __future__ import annotations

import asyncio
import gc
import hmac
import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from bot import hosts
from bot.app import Bot, build_bot
from bot.config import Settings, load_settings
from bot.console import mount_console
from bot.console.follower import follow_published
from bot.console.versions import CatalogVersions, catalog_versions
from bot.errors import StoreUnavailable
from bot.http_guards import Guarded, guarded
from bot.insights import FLUSH_SECONDS, flush_now, keep_flushing
from bot.metrics import CONTENT_TYPE
from bot.redis import Client, connect
from bot.server import set_deadlines
from bot.webhook import twilio
from bot.webhook.simulator import add_simulator
from bot.webhook.webhook import XML, Exchange, Webhook

log = logging.getLogger("smsbot.web")

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


class App:
    """The ASGI app. `POST /sms` goes straight to the webhook: every inbound text passes here,
    so it skips the framework's per-request machinery. Everything else is FastAPI."""

    def __init__(self, webhook: Webhook, api: Guarded, loopback_only: bool = False):
        self.webhook = webhook
        self.api = api
        self.state = api.state
        self.loopback_only = loopback_only  # local mode: see bot/hosts.py

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.loopback_only and scope["type"] == "http" and not hosts.loopback_host(scope):
            await hosts.refuse_host(scope, receive, send)
        elif scope["type"] == "http" and scope["path"] == "/sms" and scope["method"] == "POST":
            await self._sms(scope, receive, send)
        else:
            await self.api(scope, receive, send)

    async def _sms(self, scope: Scope, receive: Receive, send: Send) -> None:
        outcome = await self.webhook.handle(exchange_from_scope(scope), receive)
        headers = [
            (b"content-type", outcome.content_type.encode()),
            (b"content-length", str(len(outcome.body)).encode()),
        ]
        await send({"type": "http.response.start", "status": outcome.status, "headers": headers})
        await send({"type": "http.response.body", "body": outcome.body})


def exchange_from_scope(scope: Scope) -> Exchange:
    """The request as the webhook needs it, from the ASGI scope, for every way /sms is reached."""
    return Exchange(
        scope["path"],
        scope["query_string"].decode("latin-1"),
        scope["scheme"],
        {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]},
    )


@dataclass(frozen=True, slots=True)
class Served:
    """What the lifespan starts and stops around the requests."""

    settings: Settings
    bot: Bot
    versions: CatalogVersions | None  # None with the console off: the files are the catalog
    console_redis: Client | None


@asynccontextmanager
async def lifespan(api: FastAPI) -> AsyncIterator[None]:
    served: Served = api.state.served
    follower = None
    if served.versions is not None:
        await follow_published(served.bot, served.versions, once=True)
        follower = asyncio.create_task(follow_published(served.bot, served.versions))
    # Catalogs, keyword indexes and the app live as long as the process: keep the garbage
    # collector from walking them again and again under load.
    gc.collect()
    gc.freeze()
    await _log_ready(served)
    recorder, store = served.bot.insights, served.bot.store
    client = getattr(store, "client", None)
    flusher = None
    if recorder is not None and client is not None:
        flusher = asyncio.create_task(keep_flushing(recorder, client, FLUSH_SECONDS))
    try:
        yield
    finally:
        if flusher is not None and recorder is not None:
            flusher.cancel()
            with suppress(asyncio.CancelledError):
                await flusher
            await flush_now(recorder, client)  # what no message's pipeline carried yet
        if follower is not None:
            follower.cancel()
            with suppress(asyncio.CancelledError):
                await follower
        served.bot.stop_building()
        if served.console_redis is not None:
            await served.console_redis.aclose()
        if served.bot.callbacks is not None:
            await served.bot.callbacks.queue.client.aclose()
        await served.bot.store.close()


async def _log_ready(served: Served) -> None:
    bot = served.bot
    ok = await bot.store.ping()
    log.info(
        "ready: store=%s (%s) catalog=%s languages=%s%s",
        bot.store.name,
        "up" if ok else "DOWN, answering without sessions until it is back",
        bot.content.version,
        ",".join(bot.content.languages),
        " local mode" if served.settings.local_mode else "",
    )


routes = APIRouter()
FAVICON = (Path(__file__).parent / "static" / "favicon.svg").read_bytes()


@routes.post("/sms", response_class=Response, openapi_extra=TWILIO_FORM, responses=TWIML_RESPONSES)
async def sms(request: Request) -> Response:
    """Twilio Messaging webhook: signed form in, TwiML out.

    Served by `App` directly; this route documents it and serves any other mounting.
    """
    webhook: Webhook = request.app.state.webhook
    outcome = await webhook.handle(exchange_from_scope(request.scope), request.receive)
    return Response(outcome.body, status_code=outcome.status, media_type=outcome.content_type)


@routes.get("/metrics", include_in_schema=False)
async def prometheus(request: Request) -> Response:
    """Only with METRICS_TOKEN, and then only for its bearer; otherwise metrics are on their
    own listener (METRICS_ADDR), never on this public port."""
    served: Served = request.app.state.served
    if not metrics_allowed(served.settings, request.headers.get("authorization")):
        return Response("not found\n", status_code=404, media_type="text/plain")
    callbacks = served.bot.callbacks
    if callbacks is not None:  # the queue's size and age, as Redis has them now
        try:
            await callbacks.refresh(int(time.time()))
        except StoreUnavailable:
            log.warning("could not read the callback queue for /metrics")
    return Response(served.bot.metrics.export(), media_type=CONTENT_TYPE)


@routes.get("/favicon.svg", include_in_schema=False)
@routes.get("/favicon.ico", include_in_schema=False)
async def favicon() -> Response:
    # SVG under both names: browsers that ask for /favicon.ico take it too, and no page shows
    # a 404 in the console (B12).
    return Response(FAVICON, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})


@routes.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    """Up, and whether the store answers: what a health check needs, and nothing about the
    deployment (versions, backends) that a stranger could use."""
    bot: Bot = request.app.state.bot
    return JSONResponse({"status": "ok", "store": {"ok": await bot.store.ping()}})


def metrics_allowed(settings: Settings, authorization: str | None) -> bool:
    if settings.metrics_token is None or not authorization:
        return False
    scheme, _, token = authorization.partition(" ")
    expected = settings.metrics_token.get_secret_value()
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip(), expected)


def create_app(
    settings: Settings, bot: Bot | None = None, password_hasher: PasswordHasher | None = None
) -> App:
    """The whole app. `password_hasher`: for staff passwords, Argon2's defaults unless given."""
    bot = bot or build_bot(settings)
    webhook = Webhook(settings, bot, bot.metrics)
    # With the console off, the files are the catalog: no version published earlier is served.
    console_redis = versions = None
    if settings.staff_console and settings.redis_url:
        console_redis = connect(settings, purpose="console")
        versions = catalog_versions(settings, console_redis)
    # The route list and the signature header are documented for developers in local mode;
    # in production /openapi.json would only tell a stranger what to aim at.
    api = FastAPI(
        title="smsbot",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.local_mode else None,
    )
    api.state.bot = bot
    api.state.webhook = webhook
    api.state.served = Served(settings, bot, versions, console_redis)
    api.include_router(routes)
    if settings.local_mode:
        add_simulator(api, settings)
    if versions is not None and console_redis is not None:
        mount_console(api, settings, bot, versions, console_redis, password_hasher)
    return App(webhook, guarded(api, settings), loopback_only=settings.local_mode)


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )


def app_from_environment() -> App:
    """For `smsbot serve --workers N`: each worker builds its app from the environment."""
    configure_logging(os.environ.get("SMSBOT_LOG_LEVEL", "info"))
    settings = load_settings()
    set_deadlines(settings)  # this worker's connections
    return create_app(settings)
