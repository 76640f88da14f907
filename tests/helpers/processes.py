"""`smsbot serve` in its own process, configured as an operator would."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx2 as httpx

from tests.helpers.redis_server import free_port
from tests.helpers.settings import HASH_KEY, METRICS_TOKEN, TOKEN

PUBLIC = "https://sms.example-clinic.org"  # the PUBLIC_BASE_URL Twilio's signatures are made for


class ServerProcess:
    """`smsbot serve` in its own process, as an operator runs it."""

    def __init__(self, env: dict[str, str], *args: str):
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)]
        self.process = subprocess.Popen(
            [*command, "--log-level", "debug", *args],
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        # Each worker loads the catalogs and word data; on a loaded machine that takes a while.
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{self.base}/healthz", timeout=0.5)
                return
            except httpx.HTTPError:
                assert self.process.poll() is None, self.stop()
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)

    def stop(self) -> str:
        """Stop the server; everything it printed."""
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        return self.process.stdout.read().decode() if self.process.stdout else ""


def production_env(redis_url: str, prefix: str, **extra: str) -> dict[str, str]:
    """What an operator sets for `smsbot serve` next to Twilio and Redis."""
    return {
        "TWILIO_AUTH_TOKEN": TOKEN,
        "SESSION_HASH_KEY": HASH_KEY,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": prefix,
        "PUBLIC_BASE_URL": PUBLIC,
        "CLINIC_PHONE": "+1 555 010 0100",
        "METRICS_ADDR": "127.0.0.1:0",  # a free port: servers of parallel tests never collide
        "METRICS_TOKEN": METRICS_TOKEN,
        **extra,
    }
