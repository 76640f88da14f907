"""docker-compose.yml's Redis asks for a password, and the app's REDIS_URL carries it (security
review RD03: anyone who can write to Redis can create a reviewer account)."""

from __future__ import annotations

from ruamel.yaml import YAML

from bot.config import PROJECT_ROOT


def test_compose_redis_requires_the_password_the_app_uses() -> None:
    services = YAML(typ="safe").load((PROJECT_ROOT / "docker-compose.yml").read_text())["services"]
    command = services["redis"]["command"]
    password = command[command.index("--requirepass") + 1]
    assert password.startswith("${REDIS_PASSWORD:?")  # compose refuses to start without it
    assert services["redis"]["environment"]["REDISCLI_AUTH"] == "${REDIS_PASSWORD}"  # healthcheck
    assert services["app"]["environment"]["REDIS_URL"].startswith("redis://:${REDIS_PASSWORD}@")
