"""Slow and idle clients cannot hold `smsbot serve`'s connections (security review F-12,
slowloris S01-S03): deadlines for headers, bodies and idle keep-alive, and a connection limit."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx2 as httpx
import pytest

from tests.helpers.processes import ServerProcess, production_env

DEADLINES = {
    "SERVER_HEADER_TIMEOUT_SECONDS": "1",
    "SERVER_BODY_TIMEOUT_SECONDS": "1",
    "SERVER_KEEP_ALIVE_SECONDS": "1",
    "SERVER_LIMIT_CONCURRENCY": "16",
}

pytestmark = pytest.mark.e2e  # `smsbot serve` in its own process


@pytest.fixture
def server(redis_url: str, prefix: str) -> Iterator[ServerProcess]:
    process = ServerProcess(production_env(redis_url, prefix, **DEADLINES))
    yield process
    process.stop()


def connect(server: ServerProcess) -> socket.socket:
    address = urlsplit(server.base)
    return socket.create_connection((address.hostname, address.port), timeout=5)


def closed_within(sock: socket.socket, seconds: float, trickle: bytes = b"") -> float:
    """Send `trickle` a byte at a time (0.2 s apart) until the server closes the connection;
    how long that took. Fails if it is still open after `seconds`."""
    started = time.monotonic()
    sock.settimeout(0.2)
    for index in range(int(seconds / 0.2) + 1):
        try:
            if sock.recv(65536) == b"":
                return time.monotonic() - started
        except TimeoutError:
            pass
        except ConnectionResetError:
            return time.monotonic() - started
        if trickle:
            try:
                sock.send(trickle[index % len(trickle) : index % len(trickle) + 1])
            except (BrokenPipeError, ConnectionResetError):
                return time.monotonic() - started
    raise AssertionError(f"connection still open after {seconds} s")


def test_an_idle_connection_is_closed(server: ServerProcess) -> None:
    with connect(server) as sock:
        assert closed_within(sock, 4) < 3


def test_headers_sent_a_byte_at_a_time_are_cut_off(server: ServerProcess) -> None:
    with connect(server) as sock:
        sock.sendall(b"POST /sms HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        assert closed_within(sock, 4, trickle=b"X-Slow: aaaaaaaaaaaaaaaaaaaaaaa") < 3


def test_a_body_sent_a_byte_at_a_time_is_cut_off(server: ServerProcess) -> None:
    head = (
        b"POST /sms HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 4000\r\n\r\n"
    )
    with connect(server) as sock:
        sock.sendall(head)
        assert closed_within(sock, 4, trickle=b"Body=hello&") < 3
    assert httpx.get(f"{server.base}/healthz").status_code == 200


def test_an_idle_keep_alive_connection_is_closed(server: ServerProcess) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        sock.settimeout(5)
        assert b" 200 " in sock.recv(65536).split(b"\r\n", 1)[0] + b" "
        assert closed_within(sock, 4) < 3


def test_past_the_connection_limit_the_server_says_busy(server: ServerProcess) -> None:
    held = [connect(server) for _ in range(16)]
    try:
        time.sleep(0.3)
        assert httpx.get(f"{server.base}/healthz").status_code == 503
    finally:
        for sock in held:
            sock.close()
    time.sleep(0.3)
    assert httpx.get(f"{server.base}/healthz").status_code == 200
