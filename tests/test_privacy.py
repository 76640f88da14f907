"""A number plus 'asked about cancer' is health information: none of it is kept or logged."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable

import pytest
import redis

from bot.privacy import normalize_number, sender_key
from tests.helpers.phone import Phone


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("+15551230000", "+15551230000"),
        ("whatsapp:+15551230000", "+15551230000"),
        ("+1 (555) 123-0000", "+15551230000"),
        ("5551230000", "+15551230000"),
        ("+52 55 1234 5678", "+525512345678"),
        ("CLINIC", "clinic"),
    ],
)
def test_normalize_number(raw: str, e164: str) -> None:
    assert normalize_number(raw) == e164


def test_sender_key_is_keyed_and_stable() -> None:
    a = sender_key("+15551230000", b"key-one")
    assert a == sender_key("whatsapp:+1 555 123 0000", b"key-one")
    assert a != sender_key("+15551230000", b"key-two")
    assert len(a) == 22 and "5551230000" not in a


def test_no_number_or_body_in_redis_or_logs(
    new_phone: Callable[..., Phone], rdb: redis.Redis, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    rng = random.Random(7)
    sent = []
    for _ in range(20):
        number = f"+1555{rng.randrange(10**7):07d}"
        body = f"zebra{rng.randrange(10**9)} side effects"
        sent.append((number, body))
        new_phone(number).text(body)
    new_phone().text("STOP")
    stored = []
    for key in rdb.scan_iter(match=f"{prefix}:*"):
        stored.append(key)
        if rdb.type(key) == "string":
            stored.append(rdb.get(key))
    everything = "\n".join(stored) + "\n" + caplog.text
    for number, body in sent:
        assert number not in everything and number[2:] not in everything
        assert body.split()[0] not in everything
    assert "side effects" not in caplog.text
