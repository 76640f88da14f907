"""The understanding step's own cost: `python -m bench.understanding`.

Reads the bench traffic's message bodies (about half are sentences) through the router's
understanding layer, with the shipped catalog and with the 10x catalog, and prints p50/p99 per
message, the time to load the word data and the process's RSS. One process per catalog, so
each RSS is what a worker would hold.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.catalog import ten_times_catalog
from bench.traffic import body
from bot.config import PROJECT_ROOT

MESSAGES = 20_000


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure(messages_dir: Path, locales_dir: Path) -> dict[str, float]:
    """Run in a fresh process: build the bot, then read MESSAGES bodies."""
    import logging

    from bot.app import build_bot
    from bot.config import load_settings
    from bot.models import Session

    logging.disable(logging.WARNING)
    before = rss_mb()
    started = time.perf_counter()
    bot = build_bot(load_settings(messages_dir=messages_dir, locales_dir=locales_dir))
    load_seconds = time.perf_counter() - started
    router = bot.conversation.router
    rng = random.Random(3)
    bodies = [body(rng) for _ in range(MESSAGES)]
    session = Session(language="en", menu="main")
    costs = []
    for text in bodies:
        began = time.perf_counter_ns()
        match = router.keywords.match(text, in_sentence=False)
        exact = match is not None and match.kind in ("command", "number", "topic")
        router.read(text, session, rank=not exact)  # as Router.route reads it
        costs.append(time.perf_counter_ns() - began)
    costs.sort()
    return {
        "build_bot_s": round(load_seconds, 2),
        "p50_us": round(costs[len(costs) // 2] / 1000, 1),
        "p99_us": round(costs[int(len(costs) * 0.99)] / 1000, 1),
        "rss_mb": round(rss_mb(), 1),
        "rss_added_by_build_mb": round(rss_mb() - before, 1),
    }


def in_a_process(messages_dir: Path, locales_dir: Path) -> dict[str, float]:
    code = (
        "import json, sys; from pathlib import Path; from bench.understanding import measure; "
        "print(json.dumps(measure(Path(sys.argv[1]), Path(sys.argv[2]))))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code, str(messages_dir), str(locales_dir)],
        capture_output=True,
        text=True,
        check=True,
        cwd=PROJECT_ROOT,
    ).stdout
    result: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    return result


def main() -> None:
    shipped = in_a_process(PROJECT_ROOT / "messages", PROJECT_ROOT / "locales")
    print("shipped catalog:", json.dumps(shipped))
    with tempfile.TemporaryDirectory() as work:
        root, sizes = ten_times_catalog(PROJECT_ROOT, Path(work))
        big = in_a_process(root / "messages", root / "locales")
        print(f"10x catalog ({sizes}):", json.dumps(big))


if __name__ == "__main__":
    main()
