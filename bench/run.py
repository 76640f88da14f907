"""Benchmark the bot against an empty FastAPI endpoint, one command: `./scripts/bench`.

Starts both on loopback, drives each with signed, realistic traffic from wrk at 1, 16 and 64
connections, then the bot with 2 workers and with a 10x catalog, then baseline and bot in
alternating pairs at 16 connections (the ratio to quote), and prints throughput,
latency percentiles, errors, server CPU per message, RSS, Redis round trips and CPU per message and
Redis memory per stored session. Numbers are measured, never asserted: see the README.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx2 as httpx
import redis

from bench.catalog import ten_times_catalog
from bench.traffic import write_requests
from bot.config import PROJECT_ROOT
from tests.helpers.redis_server import RedisServer, free_port

TOKEN = "bench-auth-token-0123456789abcdef"
HASH_KEY = "bench-hash-key-0123456789abcdef0123"
METRICS_TOKEN = "bench-metrics-token-0123456789"  # /metrics is not public
TICKS = os.sysconf("SC_CLK_TCK")
HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


@dataclass
class Run:
    server: str
    connections: int
    workers: int = 1
    requests: int = 0
    seconds: float = 0.0
    errors: int = 0
    rps: float = 0.0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    cpu_us_per_msg: float = 0.0
    rss_mb: float = 0.0
    loadgen_cpu_pct: float = 0.0
    round_trips_per_msg: float | None = None
    redis_cpu_us_per_msg: float | None = None
    scripts_per_msg: float | None = None
    notes: dict[str, float] = field(default_factory=dict)


class Server:
    """A server under test, in its own process group; CPU and RSS include its workers."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], port: int):
        self.name = name
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            command,
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start")
            time.sleep(0.1)

    def pids(self) -> list[int]:
        found = [self.process.pid]
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                    found.append(int(entry.name))
        return found

    def cpu_seconds(self) -> float:
        total = 0
        for pid in self.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime + stime
        return total / TICKS

    def rss_mb(self) -> float:
        total = 0
        for pid in self.pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                continue
        return total / 1024

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=20)


def start_baseline(workers: int = 1) -> Server:
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "bench.baseline:app", "--port", str(port)]
    command += ["--log-level", "warning", "--no-access-log", "--workers", str(workers)]
    return Server(f"baseline x{workers}", command, {}, port)


def start_bot(redis_url: str, prefix: str, workers: int = 1, catalog: Path | None = None) -> Server:
    port = free_port()
    env = {
        "TWILIO_AUTH_TOKEN": TOKEN,
        "SESSION_HASH_KEY": HASH_KEY,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": prefix,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "CLINIC_PHONE": "+1 555 010 0100",
        "CLINIC_HOURS": "Mon-Fri 08:00-17:00",
        "METRICS_TOKEN": METRICS_TOKEN,
    }
    if catalog is not None:
        env["MESSAGES_DIR"] = str(catalog / "messages")
        env["LOCALES_DIR"] = str(catalog / "locales")
    command = [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)]
    command += ["--log-level", "info", "--workers", str(workers)]
    name = f"bot x{workers}" + (" 10x catalog" if catalog else "")
    return Server(name, command, env, port)


def drive(
    server: Server,
    connections: int,
    seconds: int,
    work: Path,
    seed: int,
    store: redis.Redis | None = None,
) -> Run:
    """One wrk run with fresh, signed requests; server, load generator and (given `store`)
    Redis CPU measured."""
    requests = work / f"requests-{server.port}-{connections}-{seed}.tsv"
    # Enough distinct requests that wrk never wraps around: a replayed MessageSid would take
    # the cheaper duplicate path. The baseline ignores the body, so it replays freely.
    count = (20_000 if server.name.startswith("bot") else 2_000) * seconds
    write_requests(requests, f"{server.url}/sms", TOKEN, count=count, seed=seed)
    metrics_before = bot_counters(server)
    redis_before = redis_cpu_seconds(store) if store is not None else 0.0
    cpu_before = server.cpu_seconds()
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s"]
    command += ["-s", str(HERE / "load.lua"), f"{server.url}/sms", "--", str(requests), "1"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = server.cpu_seconds() - cpu_before
    summary = json.loads(output.strip().splitlines()[-1])
    metrics_after = bot_counters(server)
    done = summary["requests"]
    elapsed = summary["duration_us"] / 1e6
    loadgen = (children_after.ru_utime + children_after.ru_stime) - (
        children_before.ru_utime + children_before.ru_stime
    )
    run = Run(
        server=server.name,
        connections=connections,
        requests=done,
        seconds=round(elapsed, 2),
        errors=sum(summary[k] for k in summary if k.endswith("errors") or k == "timeouts"),
        rps=round(done / elapsed, 1),
        p50_ms=summary["p50_us"] / 1000,
        p95_ms=summary["p95_us"] / 1000,
        p99_ms=summary["p99_us"] / 1000,
        cpu_us_per_msg=round(cpu / max(done, 1) * 1e6, 1),
        rss_mb=round(server.rss_mb(), 1),
        loadgen_cpu_pct=round(loadgen / elapsed * 100, 1),
    )
    if server.name.startswith("bot") and done > count:
        run.notes["replayed"] = done - count  # shown with the summary: the run is flattered
    if store is not None:
        run.redis_cpu_us_per_msg = round(
            (redis_cpu_seconds(store) - redis_before) / max(done, 1) * 1e6, 1
        )
    if metrics_before is not None and metrics_after is not None:
        handled = metrics_after["messages"] - metrics_before["messages"]
        trips = metrics_after["round_trips"] - metrics_before["round_trips"]
        run.round_trips_per_msg = round(trips / max(handled, 1), 3)
        run.notes["messages_counted"] = handled
        # Real replies, not silence: a flood-limited or opted-out sender costs less to answer.
        run.notes["sms_per_msg"] = round(
            (metrics_after["sms"] - metrics_before["sms"]) / max(handled, 1), 2
        )
        run.notes["flood_limited"] = metrics_after["flood"] - metrics_before["flood"]
    requests.unlink()
    return run


def paired(
    redis_url: str, prefix: str, pairs: int, seconds: int, work: Path, store: redis.Redis
) -> dict[str, object]:
    """Throughput against the yardstick, measured so that the machine's own ups and downs
    (a shared host, another tenant) fall on both sides: both servers up at once, runs
    alternating, baseline then bot, `pairs` times. The ratio reported is the median pair."""
    baseline, bot = start_baseline(), start_bot(redis_url, prefix)
    try:
        drive(bot, 16, 3, work, seed=400)  # warm, as the other bot runs are by the 1-conn run
        ratios, bot_cpu, base_cpu = [], [], []
        for pair in range(pairs):
            base_run = drive(baseline, 16, seconds, work, seed=401 + pair)
            bot_run = drive(bot, 16, seconds, work, seed=411 + pair, store=store)
            ratios.append(round(bot_run.rps / base_run.rps, 3))
            bot_cpu.append(bot_run.cpu_us_per_msg)
            base_cpu.append(base_run.cpu_us_per_msg)
    finally:
        baseline.stop()
        bot.stop()
    return {
        "ratios": ratios,
        "median_ratio": sorted(ratios)[len(ratios) // 2],
        "bot_cpu_us_per_msg": bot_cpu,
        "baseline_cpu_us_per_msg": base_cpu,
    }


def bot_counters(server: Server) -> Counter[str] | None:
    if not server.name.startswith("bot"):
        return None
    from prometheus_client.parser import text_string_to_metric_families

    authorization = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    text = (
        httpx.get(f"{server.url}/metrics", headers=authorization, timeout=5).raise_for_status().text
    )
    totals: Counter[str] = Counter()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "smsbot_messages_total":
                totals["messages"] += sample.value
                if sample.labels.get("intent") == "flood":
                    totals["flood"] += sample.value
            elif sample.name == "smsbot_sms_total":
                totals["sms"] += sample.value
            elif sample.name == "smsbot_store_round_trips_total":
                totals["round_trips"] += sample.value
    return totals


def redis_cpu_seconds(client: redis.Redis) -> float:
    """What the Redis server has spent, from INFO: it may run anywhere, not only here."""
    cpu = client.info("cpu")
    return float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])


def evalsha_calls(client: redis.Redis) -> int:
    stats = client.info("commandstats")
    return sum(stats.get(name, {}).get("calls", 0) for name in ("cmdstat_evalsha", "cmdstat_eval"))


def session_memory(client: redis.Redis, prefix: str, sample: int = 500) -> tuple[int, float]:
    keys = []
    for key in client.scan_iter(match=f"{prefix}:*:s", count=1000):
        keys.append(key)
    usage = [client.memory_usage(key) or 0 for key in keys[:sample]]
    return len(keys), (sum(usage) / len(usage) if usage else 0.0)


def profile(server: Server, connections: int, seconds: int, work: Path) -> dict[str, float]:
    """Where the bot's CPU goes, from py-spy's samples, by concern."""
    spy_binary = shutil.which("py-spy", path=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    if spy_binary is None:
        return {}
    out = work / "profile.txt"
    spy = subprocess.Popen(
        [
            spy_binary,
            "record",
            "--pid",
            str(server.process.pid),
            "--duration",
            str(seconds),
            "--rate",
            "250",
            "--format",
            "raw",
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    drive(server, connections, seconds, work, seed=99)
    spy.wait(timeout=60)
    return summarize_profile(out) if out.exists() else {}


CONCERNS = [
    ("redis client", ("redis/", "hiredis")),
    ("form parsing", ("parse_qsl", "urllib/parse", "parse_form", "Form.__init__")),
    (
        "signature check",
        ("signature (bot/webhook/twilio", "verify (bot/webhook/twilio", "hmac", "public_url"),
    ),
    ("keyword matching", ("bot/keywords.py", "rapidfuzz")),
    ("understanding", ("bot/understanding/", "bm25s", "Stemmer", "numpy")),
    ("routing", ("bot/router.py",)),
    ("content & TwiML", ("bot/content.py", "saxutils")),
    ("session store & batching", ("bot/store/", "json/")),
    ("sender hash", ("bot/privacy.py",)),
    ("metrics", ("prometheus_client",)),
    ("logging", ("logging/",)),
    ("FastAPI/Starlette", ("fastapi/", "starlette/")),
    ("uvicorn & HTTP parsing", ("uvicorn/", "httptools", "h11")),
    ("asyncio & event loop", ("asyncio/", "uvloop")),
]


def summarize_profile(path: Path) -> dict[str, float]:
    shares: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        concern = "other"
        for frame in reversed(frames):  # innermost frame that belongs to a concern
            match = next((name for name, marks in CONCERNS if any(m in frame for m in marks)), None)
            if match:
                concern = match
                break
        if all("idle" in f or "select" in f or "epoll" in f for f in frames[-1:]):
            concern = "idle (waiting)"
        shares[concern] += count
    return (
        {name: round(100 * count / total, 1) for name, count in shares.most_common()}
        if total
        else {}
    )


def print_table(runs: list[Run]) -> None:
    header = (
        f"{'server':<24}{'conns':>6}{'req/s':>10}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'errors':>8}{'CPU us/msg':>12}{'RSS MB':>8}{'wrk CPU%':>9}{'RT/msg':>8}"
        f"{'Redis us/msg':>14}"
    )
    print(header)
    print("-" * len(header))
    for run in runs:
        trips = "" if run.round_trips_per_msg is None else f"{run.round_trips_per_msg:.2f}"
        redis_cpu = "" if run.redis_cpu_us_per_msg is None else f"{run.redis_cpu_us_per_msg:.0f}"
        print(
            f"{run.server:<24}{run.connections:>6}{run.rps:>10.0f}{run.p50_ms:>9.2f}"
            f"{run.p95_ms:>9.2f}{run.p99_ms:>9.2f}{run.errors:>8}{run.cpu_us_per_msg:>12.0f}"
            f"{run.rss_mb:>8.0f}{run.loadgen_cpu_pct:>9.0f}{trips:>8}{redis_cpu:>14}"
        )


def redis_for_bench() -> tuple[str, RedisServer | None]:
    configured = os.environ.get("BENCH_REDIS_URL")
    if configured:
        return configured, None
    try:
        redis.Redis(socket_timeout=0.5).ping()
        return "redis://127.0.0.1:6379/0", None
    except redis.RedisError:
        server = RedisServer().start()
        return server.url, server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=8, help="per run")
    parser.add_argument("--connections", default="1,16,64")
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument(
        "--pairs", type=int, default=3, help="alternating baseline/bot runs at 16 connections"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk (scripts/bench does this)")
    levels = [int(c) for c in args.connections.split(",")]
    redis_url, own_redis = redis_for_bench()
    prefix = f"smsbot-bench-{os.getpid()}"
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    runs: list[Run] = []
    extra: dict[str, object] = {}
    work = Path(tempfile.mkdtemp(prefix="smsbot-bench-"))
    try:
        baseline = start_baseline()
        runs += [drive(baseline, c, args.seconds, work, seed=c) for c in levels]
        baseline.stop()

        # Each bot starts on its own empty state: 10,000 senders texting through every run in a
        # row would pass the flood limit, and silenced replies are cheaper than real ones.
        bot = start_bot(redis_url, f"{prefix}-x1")
        for connections in levels:
            calls = evalsha_calls(client)
            run = drive(bot, connections, args.seconds, work, seed=connections, store=client)
            run.scripts_per_msg = round((evalsha_calls(client) - calls) / max(run.requests, 1), 3)
            runs.append(run)
        if not args.no_profile:
            extra["profile_at_16_connections_pct"] = profile(bot, 16, args.seconds, work)
        bot.stop()

        bot2 = start_bot(redis_url, f"{prefix}-x2", workers=2)
        runs += [
            drive(bot2, c, args.seconds, work, seed=100 + c, store=client) for c in levels if c > 1
        ]
        bot2.stop()
        baseline2 = start_baseline(workers=2)
        runs += [drive(baseline2, c, args.seconds, work, seed=200 + c) for c in levels if c > 1]
        baseline2.stop()

        if args.pairs:
            extra["paired_at_16_connections"] = paired(
                redis_url, f"{prefix}-pairs", args.pairs, args.seconds, work, client
            )

        # The catalog comparison: each bot fresh, on empty state, warmed up the same way.
        catalog, sizes = ten_times_catalog(PROJECT_ROOT, work / "catalog10x")
        extra["catalog_sizes"] = sizes
        for name, folder in (("shipped", None), ("10x", catalog)):
            bot = start_bot(redis_url, f"{prefix}-{name}", catalog=folder)
            drive(bot, 16, 3, work, seed=300)
            run = drive(bot, 16, args.seconds, work, seed=301, store=client)
            run.server = f"bot x1 {name} catalog"
            runs.append(run)
            bot.stop()

        sessions, per_session = session_memory(client, f"{prefix}-x1")
        extra["sessions_stored"] = sessions
        extra["redis_bytes_per_session"] = round(per_session, 1)
        extra["redis_mb_per_100k_patients"] = round(per_session * 100_000 / 2**20, 1)
    finally:
        for key_batch in _batches(client.scan_iter(match=f"{prefix}*", count=1000), 1000):
            client.delete(*key_batch)
        if own_redis is not None:
            own_redis.cleanup()
        shutil.rmtree(work, ignore_errors=True)

    print_table(runs)
    print()
    by = {(r.server, r.connections): r for r in runs}
    for c in levels:
        bot_run, base_run = by.get(("bot x1", c)), by.get(("baseline x1", c))
        if bot_run and base_run:
            throughput = bot_run.rps / base_run.rps
            cpu = bot_run.cpu_us_per_msg / base_run.cpu_us_per_msg
            print(
                f"bot/baseline at {c:>2} connections: throughput {throughput:.2f}x, "
                f"CPU per message {cpu:.2f}x"
            )
    pairs = extra.get("paired_at_16_connections")
    if isinstance(pairs, dict):
        shown = ", ".join(f"{ratio:.2f}x" for ratio in pairs["ratios"])
        print(
            f"bot/baseline at 16 connections, alternating pairs: {shown} "
            f"(median {pairs['median_ratio']:.2f}x)"
        )
    for run in runs:
        if run.notes.get("replayed"):
            print(f"WARNING {run.server} at {run.connections}: {run.notes['replayed']:.0f} replays")
        if "sms_per_msg" in run.notes:
            print(
                f"{run.server} at {run.connections:>2} connections: "
                f"{run.notes['sms_per_msg']:.2f} SMS per message, "
                f"{run.notes['flood_limited']:.0f} flood-limited"
            )
    small, large = by.get(("bot x1 shipped catalog", 16)), by.get(("bot x1 10x catalog", 16))
    if small and large:
        print(
            f"10x catalog at 16 connections: CPU per message {large.cpu_us_per_msg:.0f} us vs "
            f"{small.cpu_us_per_msg:.0f} us ({large.cpu_us_per_msg / small.cpu_us_per_msg:.2f}x)"
        )
    for key, value in extra.items():
        print(f"{key}: {value}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(
        json.dumps({"runs": [asdict(r) for r in runs], **extra}, indent=2)
    )


def _batches(items, size: int):
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


if __name__ == "__main__":
    main()
