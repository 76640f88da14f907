"""The callback desk from settings (CALLBACKS=true): its own Redis client, window and key."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from redis import asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from bot.callbacks.desk import CallbackDesk
from bot.callbacks.queue import CallbackQueue
from bot.callbacks.sealed import NumberBox
from bot.callbacks.window import CallbackWindow
from bot.config import Settings
from bot.metrics import Metrics


def queue_client(settings: Settings) -> Any:
    """Bounded like the session store: a patient waits on it only when asking for a call."""
    assert settings.redis_url, "load_settings() refuses CALLBACKS without REDIS_URL"
    timeout = max(1.0, settings.redis_timeout_seconds)
    options: dict[str, Any] = {
        "decode_responses": True,
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
    }
    if settings.redis_cluster:
        return RedisCluster.from_url(settings.redis_url, **options)
    return aioredis.Redis.from_url(settings.redis_url, retry=Retry(NoBackoff(), 1), **options)


def callback_window(settings: Settings) -> CallbackWindow:
    return CallbackWindow(
        settings.clinic_hours,
        ZoneInfo(settings.clinic_timezone),
        timedelta(hours=settings.callback_window_hours),
        {"en": settings.locale_en, "es": settings.locale_es},
    )


def make_desk(settings: Settings, metrics: Metrics) -> CallbackDesk | None:
    if not settings.callbacks:
        return None
    queue = CallbackQueue(
        queue_client(settings), settings.redis_key_prefix, settings.callback_max_age_days
    )
    return CallbackDesk(
        queue,
        callback_window(settings),
        NumberBox(settings.callback_key_bytes),
        metrics,
        settings.callback_target_minutes,
    )
