"""Settings as an operator writes them: a copied .env.example, blank lines, placeholder secrets."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.config import PROJECT_ROOT, load_settings
from bot.errors import ConfigError
from bot.webhook.asgi import create_app
from tests.helpers.settings import HASH_KEY, TOKEN


def env_file(tmp_path: Path, **values: str) -> Path:
    """.env.example as shipped, with `values` filled in."""
    path = tmp_path / ".env"
    shutil.copy(PROJECT_ROOT / ".env.example", path)
    lines = path.read_text().splitlines()
    for name, value in values.items():
        lines = [f"{name}={value}" if line.startswith(f"{name}=") else line for line in lines]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_the_example_env_as_shipped_is_local_mode(tmp_path: Path) -> None:
    settings = load_settings(_env_file=env_file(tmp_path))
    assert settings.local_mode
    assert settings.staff_secret_key is not None
    assert len(settings.staff_secret_key.get_secret_value()) >= 32  # made up for this run


def test_a_blank_staff_key_turns_the_console_off(
    tmp_path: Path, redis_url: str, prefix: str
) -> None:
    """Blank means unset: nobody can sign a staff cookie with an empty key."""
    path = env_file(
        tmp_path,
        TWILIO_AUTH_TOKEN=TOKEN,
        SESSION_HASH_KEY=HASH_KEY,
        REDIS_URL=redis_url,
    )
    settings = load_settings(_env_file=path, redis_key_prefix=prefix)
    assert not settings.local_mode
    assert settings.staff_secret_key is None
    with TestClient(create_app(settings)) as client:
        assert client.get("/staff/login").status_code == 404
        assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize("placeholder", ["changeme", "secret", "xxx"])
def test_a_placeholder_staff_key_refuses_to_start(tmp_path: Path, placeholder: str) -> None:
    path = env_file(
        tmp_path,
        TWILIO_AUTH_TOKEN=TOKEN,
        SESSION_HASH_KEY=HASH_KEY,
        STAFF_SECRET_KEY=placeholder,
    )
    with pytest.raises(ConfigError, match="STAFF_SECRET_KEY"):
        load_settings(_env_file=path)


def test_a_blank_twilio_token_is_local_mode_not_an_error(tmp_path: Path) -> None:
    path = env_file(tmp_path, SESSION_HASH_KEY=HASH_KEY)
    assert load_settings(_env_file=path).local_mode
