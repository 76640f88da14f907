"""Settings for tests: what an operator would set, never the shell's environment or a .env."""

from __future__ import annotations

from typing import Any

from bot.config import Settings, load_settings

TOKEN = "test-auth-token-0123456789abcdef"
HASH_KEY = "test-hash-key-0123456789abcdef0123"
WEBHOOK = "http://testserver/sms"


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "_env_file": None,  # never the developer's .env
        "twilio_auth_token": TOKEN,
        "session_hash_key": HASH_KEY,
        "clinic_phone": "+1 555 010 0100",
        "clinic_hours": "Mon-Fri 08:00-17:00",
        "program_name": "Test Cancer Center",
    }
    values.update(overrides)
    return load_settings(**values)
