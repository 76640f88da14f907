"""SIGTERM ends `smsbot serve` within seconds even while Redis is frozen: the catalog follower
and the stores are closed without waiting on a server that never answers."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator

import httpx2 as httpx
import pytest

from bot.webhook import twilio
from tests.helpers.processes import ServerProcess, production_env
from tests.helpers.redis_server import RedisServer
from tests.helpers.settings import TOKEN

STAFF = {"STAFF_SECRET_KEY": "s" * 40}

pytestmark = pytest.mark.e2e  # `smsbot serve` in its own process, its own Redis


@pytest.fixture
def frozen_redis() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.cleanup()


@pytest.mark.parametrize("extra", [{}, STAFF], ids=["webhook", "with the console"])
def test_sigterm_exits_promptly_with_redis_frozen(
    frozen_redis: RedisServer, extra: dict[str, str]
) -> None:
    app = ServerProcess(production_env(frozen_redis.url, "shutdown", **extra))
    try:
        form = {"MessageSid": "SM" + "d" * 32, "From": "+15553330000", "Body": "MENU"}
        signature = twilio.signature(TOKEN, "https://sms.example-clinic.org/sms", form)
        sent = httpx.post(f"{app.base}/sms", data=form, headers={"X-Twilio-Signature": signature})
        assert sent.status_code == 200
        frozen_redis.pause()
        time.sleep(0.5)  # the follower's next poll is now stuck on the frozen server
        started = time.monotonic()
        app.process.send_signal(signal.SIGTERM)
        app.process.wait(timeout=15)
        took = time.monotonic() - started
    finally:
        if app.process.poll() is None:
            app.process.kill()
        logs = app.stop()
    assert took < 6, f"took {took:.1f} s to exit\n{logs}"
