"""The texting rules (CTIA, TCPA, carriers) and the privacy promises, each proven end to end."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import redis
from click.testing import CliRunner
from fastapi.testclient import TestClient

from bot.cli import main
from bot.models import Language
from bot.webhook.asgi import create_app
from tests.helpers.phone import MAIN, Phone, expect
from tests.helpers.redis_server import RedisServer
from tests.helpers.settings import HASH_KEY, TOKEN, make_settings
from tests.helpers.store import stored_count


def opt_out_keys(rdb: redis.Redis, prefix: str) -> list[str]:
    return list(rdb.scan_iter(match=f"{prefix}:*:o"))


class TestHelp:
    @pytest.mark.parametrize(
        ("word", "rates", "how_to_stop"),
        [
            ("HELP", "Msg & data rates may apply", "Reply STOP to cancel"),
            ("INFO", "Msg & data rates may apply", "Reply STOP to cancel"),
            ("AYUDA", "Pueden aplicarse tarifas de mensajes y datos", "ALTO para cancelar"),
        ],
    )
    def test_help_says_who_how_to_reach_rates_and_how_to_stop(
        self, new_phone: Callable[..., Phone], word: str, rates: str, how_to_stop: str
    ) -> None:
        (reply,) = new_phone().text(word)
        assert "Test Cancer Center" in reply and "(555) 010-0100" in reply
        assert rates in reply and how_to_stop in reply


class TestOptOut:
    @pytest.mark.parametrize(
        ("text", "language"),
        [
            ("stop texting me", "en"),
            ("Please STOP sending me these", "en"),
            ("no more messages", "en"),
            ("don't text me again", "en"),
            ("take me off this list", "en"),
            ("no me envíen más mensajes", "es"),
            ("ya no quiero recibir mensajes por favor", "es"),
            ("dejen de escribirme", "es"),
        ],
    )
    def test_plain_revocations_opt_out(
        self,
        new_phone: Callable[..., Phone],
        rdb: redis.Redis,
        prefix: str,
        text: str,
        language: Language,
    ) -> None:
        phone = new_phone()
        assert phone.text(text) == expect(phone, language, ("reply.stop",))
        assert len(opt_out_keys(rdb, prefix)) == 1
        assert phone.text("side effects") == []

    def test_exactly_one_confirmation_with_nothing_else(
        self, new_phone: Callable[..., Phone]
    ) -> None:
        phone = new_phone()
        phone.text("TYPES")
        (confirmation,) = phone.text("STOP")
        assert confirmation == expect(phone, "en", ("reply.stop",))[0]
        for body in ("STOP", "stop texting me", "MENU", "2", "hello?", "chest pain"):
            assert phone.text(body) == [], body

    def test_opt_out_survives_session_expiry(
        self, new_phone: Callable[..., Phone], rdb: redis.Redis, prefix: str
    ) -> None:
        phone = new_phone()
        phone.text("ALTO")
        (session,) = rdb.scan_iter(match=f"{prefix}:*:s")
        rdb.pexpire(session, 1)
        time.sleep(0.05)
        assert rdb.exists(session) == 0
        assert phone.text("TIPOS") == []

    def test_opt_out_survives_forget(
        self, new_phone: Callable[..., Phone], rdb: redis.Redis, prefix: str
    ) -> None:
        phone = new_phone()
        phone.text("STOP")
        assert phone.text("FORGET") == []  # honoured silently: no texts to an opted-out number
        assert len(opt_out_keys(rdb, prefix)) == 1
        assert phone.text("TYPES") == []

    def test_opt_out_survives_a_redis_restart_with_append_only_file(self) -> None:
        server = RedisServer("--appendonly", "yes", "--appendfsync", "always").start()
        try:
            settings = make_settings(redis_url=server.url, redis_key_prefix="aof")
            with TestClient(create_app(settings)) as client:
                phone = Phone(client)
                phone.text("ALTO")
            server.stop()
            server.start()
            with TestClient(create_app(settings)) as client:
                assert Phone(client).text("TIPOS") == []
        finally:
            server.cleanup()

    def test_opt_out_survives_hash_key_rotation(self, redis_url: str, prefix: str) -> None:
        old = make_settings(redis_url=redis_url, redis_key_prefix=prefix)
        with TestClient(create_app(old)) as client:
            Phone(client).text("STOP")
        rotated = make_settings(
            redis_url=redis_url,
            redis_key_prefix=prefix,
            session_hash_key="a-brand-new-hash-key-0123456789",
            session_hash_key_previous=HASH_KEY,
        )
        with TestClient(create_app(rotated)) as client:
            phone = Phone(client)
            assert phone.text("MENU") == []  # still opted out under the new key
            assert phone.text("START") == expect(phone, "en", ("reply.start",), MAIN)


class TestForget:
    def test_forget_deletes_everything_but_confirms(
        self, new_phone: Callable[..., Phone], rdb: redis.Redis, prefix: str
    ) -> None:
        phone = new_phone()
        phone.text("ESPAÑOL")
        phone.text("EFECTOS")
        assert phone.text("BORRAR") == expect(phone, "es", ("reply.forget",))
        left = list(rdb.scan_iter(match=f"{prefix}:*"))
        # Only the day's aggregate counters (messages by language and outcome) stay: nothing
        # in them is about this sender.
        assert all(":insights}:d:" in key and rdb.type(key) == "hash" for key in left), left
        # Nothing remembered: a new conversation, in the default language, welcomed again.
        assert phone.text("TYPES") == expect(
            phone, "en", ("reply.welcome_short", "offer.language"), ("menu:types",)
        )

    def test_forget_inside_a_sentence_is_not_a_request(
        self, new_phone: Callable[..., Phone]
    ) -> None:
        phone = new_phone()
        phone.text("menu")
        assert phone.text("I forget what checkpoint means") == expect(
            phone, "en", ("topic.checkpoint.1", "hint.more")
        )

    def test_forget_command_for_requests_by_phone(
        self, new_phone: Callable[..., Phone], rdb: redis.Redis, prefix: str, redis_url: str
    ) -> None:
        phone = new_phone("+15558887777")
        phone.text("ESPAÑOL")
        new_phone("+15558880000").text("ESPAÑOL")  # someone else
        env = {
            "TWILIO_AUTH_TOKEN": TOKEN,
            "SESSION_HASH_KEY": HASH_KEY,
            "REDIS_URL": redis_url,
            "REDIS_KEY_PREFIX": prefix,
            "CLINIC_PHONE": "+1 555 010 0100",
        }
        result = CliRunner().invoke(main, ["forget", "+1 (555) 888-7777"], env=env)
        assert result.exit_code == 0, result.output
        assert "5558887777" not in result.output
        assert stored_count(rdb, prefix, "session") == 1  # only the other person
        assert phone.text("TYPES") == expect(
            phone, "en", ("reply.welcome_short", "offer.language"), ("menu:types",)
        )
