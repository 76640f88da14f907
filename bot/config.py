"""Settings from the environment (and an optional .env file).

Built by the CLI or the app factory, never at import time, so tests pass their own values.
"""

from __future__ import annotations

import base64
import binascii
import logging
import secrets
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, PrivateAttr, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEMO_PHONE = "+1 555 010 0100"  # a fictional number, for local mode only
CALLBACK_KEY_BYTES = 32
CALLBACK_KEY_MIN_DISTINCT = 16  # random 32 bytes have about 30 distinct values
PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "secret", "your_auth_token", "xxx"}


class Settings(BaseSettings):
    # A blank line in .env (`STAFF_SECRET_KEY=`) means "not set", never an empty secret.
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_ignore_empty=True)

    twilio_auth_token: SecretStr | None = None
    # The secret of a webhook SharedKey, for Twilio accounts that sign webhooks with one
    # (the request then carries X-Twilio-Webhooks-Signature-Settings) instead of the Auth Token.
    twilio_shared_key: SecretStr | None = None
    public_base_url: str | None = None
    redis_url: str | None = None
    redis_key_prefix: str = "smsbot"
    redis_cluster: bool = False  # REDIS_URL names one node of a Redis Cluster
    session_hash_key: SecretStr | None = None
    # While rotating SESSION_HASH_KEY, the old key: opt-outs recorded under it are carried over.
    session_hash_key_previous: SecretStr | None = None

    clinic_phone: str = ""  # required outside local mode: patients are told to call it
    clinic_hours: str = "Mon-Fri 08:00-17:00"
    # The clinic's time zone (IANA name): where CLINIC_HOURS are kept, the staff console's times,
    # the insights' days and the callback queue's promised times.
    clinic_timezone: str = "America/New_York"
    # The 24/7 number for nights, weekends and holidays. Unset, the replies that would give it
    # tell patients to ask their care team for it.
    after_hours_phone: str = ""
    # Who helps with bills and insurance; unset, the cost page says to ask for one.
    financial_counselor_phone: str = ""
    program_name: str = "Immunotherapy Info Line"
    program_name_es: str = ""  # what Spanish readers see, e.g. "Línea de Inmunoterapia"
    default_language: Literal["en", "es"] = "en"
    locale_en: str = "en_US"
    locale_es: str = "es_US"

    session_ttl_days: int = Field(default=30, ge=1)
    replay_ttl_seconds: int = Field(default=3600, ge=60)
    redis_timeout_seconds: float = Field(default=0.5, gt=0)
    flood_limit: int = Field(default=30, ge=5)  # messages per sender per window before a pause
    flood_window_seconds: int = Field(default=300, ge=1)
    max_body_bytes: int = Field(default=16_384, ge=1024)  # the webhook's
    max_request_bytes: int = Field(default=65_536, ge=1024)  # every other route's
    # A translator's file (the real catalog is about 25 kB); read only after sign-in and CSRF.
    staff_upload_max_bytes: int = Field(default=1_048_576, ge=65_536)

    # /metrics on a listener of its own (HOST:PORT, or "off"), never on the public port
    # unless METRICS_TOKEN is set, and then only with `Authorization: Bearer <token>`.
    metrics_addr: str = "127.0.0.1:9464"
    metrics_token: SecretStr | None = None

    # Connection deadlines and limits for `smsbot serve` (README, "Timeouts and limits").
    server_header_timeout_seconds: float = Field(default=10.0, gt=0)
    server_body_timeout_seconds: float = Field(default=20.0, gt=0)
    server_keep_alive_seconds: int = Field(default=5, ge=1)
    server_limit_concurrency: int = Field(default=512, ge=16)  # per worker; past it, 503
    server_shutdown_seconds: int = Field(default=5, ge=1)  # on SIGTERM, for requests in flight

    staff_console: bool = True  # the /staff pages; they need REDIS_URL and STAFF_SECRET_KEY
    staff_secret_key: SecretStr | None = None  # signs the staff session cookie
    staff_cookie_secure: bool | None = None  # default: only over HTTPS, except in local mode
    staff_review_max_age_days: int = Field(default=365, ge=1)
    # A second reviewer approves each publish and restore; false only for a one-person clinic.
    staff_four_eyes: bool = True
    catalog_poll_seconds: float = Field(default=2.0, gt=0)  # how soon a publish reaches a worker
    # What one SMS segment costs the clinic, for the insights page (Twilio's US list price).
    sms_segment_price: float = Field(default=0.0083, ge=0)
    insights: bool = True  # aggregate counters for /staff/insights (with REDIS_URL)

    # The nurse callback queue (bot/callbacks). CALLBACK_KEY encrypts the one phone number the
    # line keeps: 32 random bytes, URL-safe base64 (`smsbot callbacks new-key` makes one).
    callbacks: bool = False
    callback_key: SecretStr | None = None
    callback_window_hours: float = Field(default=4.0, gt=0, le=72)  # clinic hours to call back
    callback_max_age_days: int = Field(default=3, ge=1, le=30)  # an open request then expires
    callback_target_minutes: int = Field(default=120, ge=5)  # oldest open request: alert after

    messages_dir: Path = PROJECT_ROOT / "messages"
    locales_dir: Path = PROJECT_ROOT / "locales"

    @field_validator("clinic_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"CLINIC_TIMEZONE '{value}' is not a time zone name such as America/Chicago"
            ) from exc
        return value

    @field_validator("public_base_url")
    @classmethod
    def _strip_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    _local: bool = PrivateAttr(default=False)

    @property
    def local_mode(self) -> bool:
        """No Twilio token was configured: a developer's machine, loopback only, secrets made up."""
        return self._local

    @property
    def session_ttl_seconds(self) -> int:
        return self.session_ttl_days * 86_400

    @property
    def auth_token(self) -> str:
        assert self.twilio_auth_token is not None, "load_settings() fills it in"
        return self.twilio_auth_token.get_secret_value()

    @property
    def webhook_shared_key(self) -> str | None:
        return self.twilio_shared_key.get_secret_value() if self.twilio_shared_key else None

    @property
    def hash_key(self) -> bytes:
        assert self.session_hash_key is not None, "load_settings() fills it in"
        return self.session_hash_key.get_secret_value().encode()

    @property
    def cookie_secure(self) -> bool:
        if self.staff_cookie_secure is not None:
            return self.staff_cookie_secure
        return not self.local_mode

    @property
    def callback_key_bytes(self) -> bytes:
        assert self.callback_key is not None, "load_settings() checks it when CALLBACKS is on"
        return parse_callback_key(self.callback_key.get_secret_value())

    @property
    def previous_hash_key(self) -> bytes | None:
        if self.session_hash_key_previous is None:
            return None
        return self.session_hash_key_previous.get_secret_value().encode()


def load_settings(**overrides: object) -> Settings:
    """Read settings; with no Twilio token, make up this run's secrets (local mode)."""
    settings = Settings(**overrides)  # type: ignore[arg-type]
    if settings.twilio_auth_token is None:
        local = settings.model_copy(
            update={
                "twilio_auth_token": SecretStr(secrets.token_urlsafe(24)),
                "session_hash_key": settings.session_hash_key
                or SecretStr(secrets.token_urlsafe(32)),
                "clinic_phone": settings.clinic_phone or DEMO_PHONE,
                "staff_secret_key": settings.staff_secret_key
                or SecretStr(secrets.token_urlsafe(32)),
                "callback_key": settings.callback_key or SecretStr(new_callback_key()),
            }
        )
        local._local = True
        _check_callbacks(local)
        return local
    _require_secret(settings.twilio_auth_token, "TWILIO_AUTH_TOKEN")
    _require_secret(settings.session_hash_key, "SESSION_HASH_KEY")
    if settings.staff_console and settings.staff_secret_key is not None:
        _require_secret(settings.staff_secret_key, "STAFF_SECRET_KEY")  # it signs sign-ins
    if not settings.clinic_phone.strip():
        raise ConfigError("CLINIC_PHONE must be set: the CALL and HELP replies give it to patients")
    _check_callbacks(settings)
    return settings


def signed_url_notice(settings: Settings) -> tuple[int, str]:
    """What start-up says about the URL webhook signatures are checked against (level, text)."""
    if settings.public_base_url:
        return (
            logging.INFO,
            f"webhook signatures are checked against {settings.public_base_url}/sms",
        )
    if settings.local_mode:
        return logging.INFO, "local mode: webhook signatures are checked against the request's URL"
    return logging.WARNING, (
        "PUBLIC_BASE_URL is not set: the URL each webhook signature is checked against is "
        "rebuilt from the request's Host and X-Forwarded-* headers, which any client chooses, "
        "so a webhook Twilio signed for another URL of this Twilio account can be replayed "
        "here. Set PUBLIC_BASE_URL to the base URL Twilio calls, e.g. https://sms.example.org"
    )


def _check_callbacks(settings: Settings) -> None:
    """The callback queue keeps phone numbers: refuse to start it without what protects them."""
    if not settings.callbacks:
        return
    if not settings.redis_url:
        raise ConfigError("CALLBACKS=true needs REDIS_URL: the queue is shared by every worker")
    if settings.callback_key is None:
        raise ConfigError("CALLBACKS=true needs CALLBACK_KEY: run `smsbot callbacks new-key`")
    parse_callback_key(settings.callback_key.get_secret_value())
    from bot.callbacks.window import parse_hours  # the clinic's hours, as the window reads them

    try:
        parse_hours(settings.clinic_hours)
    except ValueError as exc:
        raise ConfigError(
            "CALLBACKS=true needs CLINIC_HOURS like 'Mon-Fri 08:00-17:00' to promise a call time"
        ) from exc


def new_callback_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(CALLBACK_KEY_BYTES)).decode()


def parse_callback_key(raw: str) -> bytes:
    """32 random bytes for AES-256-GCM; a short, placeholder or repetitive key is refused."""
    text = raw.strip()
    try:
        key = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, binascii.Error):
        key = b""
    if text.lower() in PLACEHOLDER_SECRETS or len(key) != CALLBACK_KEY_BYTES:
        raise ConfigError(
            "CALLBACK_KEY must be 32 random bytes in URL-safe base64: "
            "run `smsbot callbacks new-key`"
        )
    if len(set(key)) < CALLBACK_KEY_MIN_DISTINCT:  # e.g. all zeros, or a short word repeated
        raise ConfigError("CALLBACK_KEY is not random enough: run `smsbot callbacks new-key`")
    return key


def _require_secret(value: SecretStr | None, name: str) -> None:
    if value is None or value.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS:
        raise ConfigError(f"{name} must be set to a real secret when TWILIO_AUTH_TOKEN is set")
