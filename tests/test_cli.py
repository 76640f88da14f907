"""The commands people type: chat like a patient, serve for real."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import httpx2 as httpx
import pytest
import redis
from click.testing import CliRunner

from bot.app import build_bot
from bot.cli import main
from bot.content import Content
from bot.webhook import twilio
from tests.helpers.phone import replies
from tests.helpers.processes import ServerProcess, production_env
from tests.helpers.settings import TOKEN, make_settings
from tests.helpers.store import stored_count


def chat(*args: str, lines: list[str], env: Mapping[str, str | None] | None = None) -> str:
    result = CliRunner().invoke(main, ["chat", *args], input="\n".join(lines) + "\n", env=env)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def content() -> Content:
    return build_bot(make_settings()).content


def test_chat_in_english(content: Content) -> None:
    how = content.structure.menus["main"].items.index("how") + 1
    output = chat(lines=["menu", str(how), "MORE", "asdf"])
    assert content.render("en", ("menu:main",)) in output
    assert content.render("en", ("topic.how.1", "hint.more")) in output
    assert content.render("en", ("topic.how.2", "hint.more")) in output
    assert content.render("en", ("reply.safety",)) in output  # its own SMS, then the menu
    assert "GSM-7, 1 segment]" in output


def test_chat_in_spanish_with_typos(content: Content) -> None:
    cell_therapy = content.structure.menus["types"].items.index("cell_therapy") + 1
    output = chat("--lang", "es", lines=["tipso", str(cell_therapy), "efectos secundaios", "ayuda"])
    assert content.render("es", ("menu:types",)) in output
    assert content.render("es", ("topic.cell_therapy.1", "hint.more")) in output
    assert content.render("es", ("topic.side_effects.1", "hint.more")) in output
    assert "UCS-2, 3 segments]" in output


def test_chat_with_redis_remembers_between_runs(
    redis_url: str, prefix: str, rdb: redis.Redis, content: Content
) -> None:
    env = {"REDIS_URL": redis_url, "REDIS_KEY_PREFIX": prefix, "SESSION_HASH_KEY": "k" * 32}
    chat("--from", "+15557770000", lines=["ESPAÑOL"], env=env)
    assert stored_count(rdb, prefix, "session") == 1
    output = chat("--from", "+15557770000", lines=["TYPES"], env=env)
    assert content.render("es", ("menu:types",)) in output


def test_serve_refuses_public_address_in_local_mode() -> None:
    result = CliRunner().invoke(
        main, ["serve", "--host", "0.0.0.0"], env={"TWILIO_AUTH_TOKEN": None}
    )
    assert result.exit_code != 0
    assert "loopback" in result.output


def test_production_needs_real_secrets() -> None:
    env = {"TWILIO_AUTH_TOKEN": "a-real-token-value", "SESSION_HASH_KEY": "changeme"}
    result = CliRunner().invoke(main, ["serve"], env=env)
    assert result.exit_code != 0 and "SESSION_HASH_KEY" in result.output


@pytest.fixture
def server(redis_url: str, prefix: str) -> Iterator[ServerProcess]:
    process = ServerProcess(production_env(redis_url, prefix))
    yield process
    process.stop()


@pytest.mark.e2e
def test_real_server_round_trip(
    server: ServerProcess, rdb: redis.Redis, prefix: str, content: Content
) -> None:
    health = httpx.get(f"{server.base}/healthz").json()
    assert health == {"status": "ok", "store": {"ok": True}}
    form = {
        "MessageSid": "SM" + "a" * 32,
        "From": "+15553334444",
        "Body": "TIPOS",
        "FromCountry": "US",
    }
    signature = twilio.signature(TOKEN, "https://sms.example-clinic.org/sms", form)
    response = httpx.post(
        f"{server.base}/sms", data=form, headers={"X-Twilio-Signature": signature}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    answered = replies(response.text)  # a first message: the welcome, then the menu
    assert len(answered) == 2 and answered[-1] == content.render("es", ("menu:types",))
    assert stored_count(rdb, prefix, "session") == 1
    refused = httpx.post(f"{server.base}/sms", data=form, headers={"X-Twilio-Signature": "x"})
    assert refused.status_code == 403
    assert httpx.get(f"{server.base}/").status_code == 404  # no simulator outside local mode


def test_production_needs_a_clinic_phone() -> None:
    env = {
        "TWILIO_AUTH_TOKEN": "a-real-token-value",
        "SESSION_HASH_KEY": "k" * 32,
        "CLINIC_PHONE": "",
    }
    result = CliRunner().invoke(main, ["serve"], env=env)
    assert result.exit_code != 0 and "CLINIC_PHONE" in result.output


def test_real_server_logs_hold_no_numbers_or_bodies(server: ServerProcess) -> None:
    form = {"MessageSid": "SM" + "1" * 32, "From": "+15559871234", "Body": "quokka-7731 efectos"}
    url = "https://sms.example-clinic.org/sms"
    signature = twilio.signature(TOKEN, url, form)
    sent = httpx.post(f"{server.base}/sms", data=form, headers={"X-Twilio-Signature": signature})
    assert sent.is_success
    httpx.post(f"{server.base}/sms", data=form, headers={"X-Twilio-Signature": "forged"})
    logs = server.stop()
    assert "intent=topic:side_effects lang=es" in logs  # the log is there, and useful
    assert "refused a webhook" in logs
    for secret in ("9871234", "quokka", "efectos"):
        assert secret not in logs


def test_understand_eval_lists_what_it_got_wrong(tmp_path: Path) -> None:
    labelled = tmp_path / "two.yaml"
    labelled.write_text(
        "items:\n"
        "  - {text: how much does it cost, lang: en, expect: topic, topic: cost}\n"
        "  - {text: my cat is sick what do i do, lang: en, expect: topic, topic: cost}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["understand", "eval", "--misses", str(labelled)])
    assert result.exit_code == 0, result.output
    assert "top-1  50.0%" in result.output
    misses = [line for line in result.output.splitlines() if "expected" in line]
    assert len(misses) == 1
    assert "'my cat is sick what do i do' expected topic cost, got" in misses[0]
    assert "top1.en" in misses[0]
