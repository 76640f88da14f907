"""The callback desk from settings (CALLBACKS=true): its own Redis client, window and key."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.callbacks.desk import CallbackDesk
from bot.callbacks.queue import CallbackQueue
from bot.callbacks.sealed import NumberBox
from bot.callbacks.window import CallbackWindow
from bot.config import Settings
from bot.metrics import Metrics
from bot.redis import Client, connect


def queue_client(settings: Settings) -> Client:
    return connect(settings, purpose="callbacks")


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
