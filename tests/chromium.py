"""Debian's chromium for the browser tests, launched the same way by each of them."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from bot.config import PROJECT_ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# The screenshots the README shows are rewritten only when asked (SMSBOT_UPDATE_SCREENSHOTS=1):
# otherwise a test run would leave changed pictures in the working tree every time.
DOCS = (
    PROJECT_ROOT / "docs" / "staff"
    if os.environ.get("SMSBOT_UPDATE_SCREENSHOTS")
    else PROJECT_ROOT / "build" / "screenshots" / "docs"
)
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}

needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")


def launch(playwright: Any) -> Any:
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    )


def console_errors(page: Any) -> list[str]:
    """Collects what the page's console reports as errors (a 404 for a favicon included)."""
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors
