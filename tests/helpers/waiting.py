"""Waiting for something another task or process does: one helper, with a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable


def eventually(check: Callable[[], object], seconds: float = 5.0, what: str = "") -> float:
    """Poll `check` until it is true; fail after `seconds`. Returns the time it took."""
    started = time.monotonic()
    while not check():
        waited = time.monotonic() - started
        assert waited < seconds, f"gave up after {seconds} s waiting for {what or check}"
        time.sleep(0.02)
    return time.monotonic() - started
