"""Start-up says when the signed URL is left to the client (security review F-8)."""

from __future__ import annotations

import pytest

from tests.helpers.processes import ServerProcess, production_env

pytestmark = pytest.mark.e2e  # `smsbot serve` in its own process


def test_serving_without_public_base_url_warns_what_it_guards(redis_url: str, prefix: str) -> None:
    server = ServerProcess(production_env(redis_url, prefix, PUBLIC_BASE_URL=""))
    logs = server.stop()
    warning = next(line for line in logs.splitlines() if "PUBLIC_BASE_URL is not set" in line)
    assert "WARNING" in warning
    assert "X-Forwarded" in warning and "replayed" in warning


def test_serving_with_public_base_url_names_the_checked_url(redis_url: str, prefix: str) -> None:
    logs = ServerProcess(production_env(redis_url, prefix)).stop()
    assert "PUBLIC_BASE_URL is not set" not in logs
    assert "checked against https://sms.example-clinic.org/sms" in logs
