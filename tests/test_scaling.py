"""Out to many processes and machines: one round trip a message, shared state, Redis Cluster."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
import redis
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from bot.app import build_bot
from bot.privacy import sender_key
from bot.webhook import twilio
from bot.webhook.asgi import create_app
from tests.helpers.phone import Phone, bot_of, replies, round_trips
from tests.helpers.processes import PUBLIC, ServerProcess, production_env
from tests.helpers.redis_server import Cluster, RedisServer, free_port
from tests.helpers.settings import HASH_KEY, METRICS_TOKEN, TOKEN, make_settings
from tests.helpers.store import session_of

pytestmark = pytest.mark.e2e  # real server processes, a cluster, TLS


def test_one_round_trip_per_message_on_the_common_path(
    client: TestClient, new_phone: Callable[..., Phone]
) -> None:
    new_phone().text("MENU")  # on a fresh Redis server, the first commit also loads its script
    phone = new_phone()
    before = round_trips(client)
    conversation = ["TYPES", "2", "MORE", "MORE", "MENU", "5", "MÁS", "asdf", "HELP", "CURE"]
    for body in conversation:
        phone.text(body)
    assert round_trips(client) - before == len(conversation)


def test_a_known_sender_new_to_this_process_costs_one_more(
    redis_url: str, prefix: str, new_phone: Callable[..., Phone]
) -> None:
    settings = make_settings(redis_url=redis_url, redis_key_prefix=prefix)
    with TestClient(create_app(settings)) as first:
        Phone(first, "+15557001000").text("ESPAÑOL")
    with TestClient(create_app(settings)) as second:  # a restarted or another worker
        phone = Phone(second, "+15557001000")
        start = round_trips(second)  # the start-up ping
        assert phone.text("TYPES") == [bot_of(second).content.render("es", ("menu:types",))]
        assert round_trips(second) - start == 2
        phone.text("MENU")
        assert round_trips(second) - start == 3


def post(base: str, body: str, number: str) -> list[str]:
    form = {"MessageSid": f"SM{time.monotonic_ns():032x}", "From": number, "Body": body}
    signature = twilio.signature(TOKEN, f"{PUBLIC}/sms", form)
    response = httpx.post(f"{base}/sms", data=form, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200
    return replies(response.text)


@pytest.fixture
def two_servers(redis_url: str, prefix: str) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    env = production_env(redis_url, prefix, PROGRAM_NAME="Test Cancer Center")
    servers = (ServerProcess(env), ServerProcess(env))
    yield servers
    for server in servers:
        server.stop()


def test_a_conversation_alternating_between_two_processes(
    two_servers: tuple[ServerProcess, ServerProcess],
) -> None:
    a, b = (server.base for server in two_servers)
    content = build_bot(make_settings(redis_url=None)).content

    def es(*parts: str) -> list[str]:
        return [content.render("es", parts)]

    number = "+15557002000"
    assert post(a, "ESPAÑOL", number)[0] == es("reply.language")[0]
    assert post(b, "TYPES", number) == es("menu:types")  # language carried over
    cell_therapy = content.structure.menus["types"].items.index("cell_therapy") + 1
    assert post(a, str(cell_therapy), number) == es("topic.cell_therapy.1", "hint.more")
    assert post(b, "MÁS", number) == es("topic.cell_therapy.2", "hint.more")  # MORE position
    assert post(a, "MORE", number) == es("topic.cell_therapy.3", "hint.more")
    assert post(b, "STOP", number) == es("reply.stop")
    assert post(a, "TYPES", number) == []  # opt-out carried over
    assert post(b, "MENU", number) == []
    assert post(a, "START", number) == [*es("reply.start"), *es("menu:main")]
    what = content.structure.menus["main"].items.index("what") + 1
    assert post(b, str(what), number) == es("topic.what.1", "hint.more")


def test_serve_with_two_workers(redis_url: str, prefix: str) -> None:
    server = ServerProcess(production_env(redis_url, prefix), "--workers", "2")
    try:
        for n in range(20):
            assert post(server.base, "TIPOS", f"+1555700{n:04d}")
        metrics = httpx.get(
            f"{server.base}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
        ).text
        totals = [
            sample.value
            for family in text_string_to_metric_families(metrics)
            if family.name == "smsbot_replies"
            for sample in family.samples
            if sample.name == "smsbot_replies_total"
        ]
        assert sum(totals) == 20  # counted across both workers
    finally:
        logs = server.stop()
    assert logs.count("ready: store=redis") == 2


@pytest.mark.skipif(shutil.which("redis-cli") is None, reason="redis-cli comes with redis-server")
def test_redis_cluster() -> None:
    cluster = Cluster()
    try:
        settings = make_settings(
            redis_url=f"redis://127.0.0.1:{cluster.nodes[0].port}/0",
            redis_cluster=True,
            redis_key_prefix="cl",
        )
        with TestClient(create_app(settings)) as client:
            content = bot_of(client).content
            start = round_trips(client)
            for n in range(30):
                phone = Phone(client, f"+1555701{n:04d}")
                assert phone.text("ESPAÑOL")
                assert phone.text("TYPES") == [content.render("es", ("menu:types",))]
                assert phone.text("3") == [
                    content.render("es", ("topic.antibodies.1", "hint.more"))
                ]
            phone.text("STOP")
            assert phone.text("TYPES") == []
            assert round_trips(client) - start == 30 * 3 + 2
        sessions = [
            len(list(redis.Redis(port=node.port).scan_iter(match="cl:*:s")))
            for node in cluster.nodes
        ]
        assert sum(sessions) == 30 and all(count > 0 for count in sessions), sessions
    finally:
        cluster.cleanup()


def certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A private CA and a server certificate for 127.0.0.1 signed by it, as a managed Redis
    with its own CA presents."""
    ca, ca_key = folder / "ca.pem", folder / "ca.key"
    cert, key, request = folder / "redis.pem", folder / "redis.key", folder / "redis.csr"
    names = folder / "names.ext"
    names.write_text("subjectAltName=IP:127.0.0.1\n")
    for command in (
        f"req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=smsbot-test-ca "
        f"-keyout {ca_key} -out {ca}",
        f"req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout {key} -out {request}",
        f"x509 -req -days 1 -in {request} -CA {ca} -CAkey {ca_key} -CAcreateserial "
        f"-extfile {names} -out {cert}",
    ):
        subprocess.run(["openssl", *command.split()], check=True, capture_output=True)
    return ca, cert, key


def test_a_redis_over_tls(tmp_path: Path) -> None:
    """`rediss://`, as managed Redis services offer: sessions over TLS, the server's
    certificate checked against the CA named in the URL; an untrusted server is never used."""
    ca, cert, key = certificates(tmp_path)
    tls_port = free_port()
    server = RedisServer(
        *("--tls-port", str(tls_port), "--tls-cert-file", str(cert), "--tls-key-file", str(key)),
        *("--tls-ca-cert-file", str(ca), "--tls-auth-clients", "no"),
    ).start()
    try:
        trusted = make_settings(
            redis_url=f"rediss://127.0.0.1:{tls_port}/0?ssl_ca_certs={ca}", redis_key_prefix="tls"
        )
        with TestClient(create_app(trusted)) as client:
            content = bot_of(client).content
            phone = Phone(client, "+15557030000")
            assert phone.text("ESPAÑOL")
            assert phone.text("TYPES") == [content.render("es", ("menu:types",))]
            assert client.get("/healthz").json()["store"]["ok"] is True
        assert len(list(redis.Redis(port=server.port).scan_iter(match="tls:*:s"))) == 1

        untrusted = make_settings(  # the system's CAs do not know this one
            redis_url=f"rediss://127.0.0.1:{tls_port}/0", redis_key_prefix="tls-untrusted"
        )
        with TestClient(create_app(untrusted)) as client:
            assert client.get("/healthz").json()["store"]["ok"] is False
            assert Phone(client, "+15557030001").text("TYPES")  # answered, without a session
        assert list(redis.Redis(port=server.port).scan_iter(match="tls-untrusted:*")) == []
    finally:
        server.cleanup()


def test_a_rolling_restart_loses_no_message(redis_url: str, prefix: str, rdb: redis.Redis) -> None:
    """SIGTERM under load, as a deploy does: every message answered 200 is saved, none gets an
    error status, and Twilio's retry of a message that went unanswered is applied exactly once."""
    env = production_env(redis_url, prefix)
    quiet = ("--log-level", "info")  # a line per message would fill the unread log pipe
    numbers = [f"+1555710{n:04d}" for n in range(600)]  # uvicorn notices SIGTERM within 0.1 s
    forms = {
        number: {"MessageSid": f"SM{n:032d}", "From": number, "Body": "ESPAÑOL"}
        for n, number in enumerate(numbers)
    }

    async def deliver(
        server: ServerProcess, pending: list[str], terminate_after: int | None = None
    ) -> set[str]:
        """Send each sender's message, 16 at a time; SIGTERM the server once `terminate_after`
        are answered. Returns the senders answered with a 200."""
        answered: set[str] = set()
        gate = asyncio.Semaphore(16)

        async def one(http: httpx.AsyncClient, number: str) -> None:
            form = forms[number]
            signed = twilio.signature(TOKEN, f"{PUBLIC}/sms", form)
            async with gate:
                try:
                    response = await http.post(
                        f"{server.base}/sms", data=form, headers={"X-Twilio-Signature": signed}
                    )
                except httpx.TransportError:
                    return  # not answered: Twilio retries it
            assert response.status_code == 200, response.text
            answered.add(number)
            if len(answered) == terminate_after:
                server.process.terminate()

        async with httpx.AsyncClient(timeout=10) as http:
            await asyncio.gather(*(one(http, number) for number in pending))
        return answered

    first = ServerProcess(env, *quiet)
    try:
        answered = asyncio.run(deliver(first, numbers, terminate_after=100))
        first.process.wait(timeout=20)
    finally:
        logs = first.stop()
    assert "Application shutdown complete" in logs  # graceful: in-flight requests finished
    assert 100 <= len(answered) < len(numbers)  # the restart really landed mid-traffic
    for number in answered:
        assert saved_language(rdb, prefix, number) == "es"  # a 200 means it was saved

    second = ServerProcess(env, *quiet)
    try:
        retried = [number for number in numbers if number not in answered]
        assert asyncio.run(deliver(second, retried)) == set(retried)
        for number in numbers:
            assert saved_language(rdb, prefix, number) == "es"
            assert rdb.hlen(f"{prefix}:{{{sender_key(number, HASH_KEY.encode())}}}:m") == 1
    finally:
        second.stop()


def saved_language(rdb: redis.Redis, prefix: str, number: str) -> str:
    session = session_of(rdb, prefix, number)
    return (session.language or "") if session else ""
