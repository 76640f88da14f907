"""Settings from the environment (and an optional .env file).

Built by the CLI or the app factory, never at import time, so tests pass their own values.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, PrivateAttr, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEMO_PHONE = "+1 555 010 0100"  # a fictional number, for local mode only
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
    # The clinic's time zone (IANA name): the staff console's times and the insights' days.
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
    max_body_bytes: int = Field(default=16_384, ge=1024)

    staff_console: bool = True  # the /staff pages; they need REDIS_URL and STAFF_SECRET_KEY
    staff_secret_key: SecretStr | None = None  # signs the staff session cookie
    staff_cookie_secure: bool | None = None  # default: only over HTTPS, except in local mode
    staff_review_max_age_days: int = Field(default=365, ge=1)
    catalog_poll_seconds: float = Field(default=2.0, gt=0)  # how soon a publish reaches a worker
    # What one SMS segment costs the clinic, for the insights page (Twilio's US list price).
    sms_segment_price: float = Field(default=0.0083, ge=0)
    insights: bool = True  # aggregate counters for /staff/insights (with REDIS_URL)

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
            }
        )
        local._local = True
        return local
    _require_secret(settings.twilio_auth_token, "TWILIO_AUTH_TOKEN")
    _require_secret(settings.session_hash_key, "SESSION_HASH_KEY")
    if settings.staff_console and settings.staff_secret_key is not None:
        _require_secret(settings.staff_secret_key, "STAFF_SECRET_KEY")  # it signs sign-ins
    if not settings.clinic_phone.strip():
        raise ConfigError("CLINIC_PHONE must be set: the CALL and HELP replies give it to patients")
    return settings


def _require_secret(value: SecretStr | None, name: str) -> None:
    if value is None or value.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS:
        raise ConfigError(f"{name} must be set to a real secret when TWILIO_AUTH_TOKEN is set")
