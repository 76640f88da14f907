"""What the browser tests share beyond launching chromium (tests/chromium.py)."""

from __future__ import annotations

from bot.config import PROJECT_ROOT

SHOTS = PROJECT_ROOT / "build" / "screenshots"  # kept for a person to look at, not compared
