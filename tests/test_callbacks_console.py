"""/staff/callbacks on a real Redis: who may work the queue, claiming, the call link, outcomes,
and the audit trail (which names the request, never the number)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
import redis
from click.testing import CliRunner
from fastapi.testclient import TestClient
from redis import asyncio as aioredis

from bot.callbacks.queue import CallbackQueue
from bot.cli import main
from bot.config import new_callback_key, parse_callback_key
from bot.privacy import sender_key
from bot.store.keys import CallbackKeys, Keys, StaffKeys
from bot.webhook.asgi import create_app
from tests.helpers.console import PASSWORD, add_account, claim_first, signed_in, staff_settings
from tests.helpers.phone import Phone
from tests.helpers.settings import HASH_KEY, TOKEN
from tests.helpers.store import dump_redis

NUMBER = "+15557650001"
KEY = new_callback_key()


@pytest.fixture
def console(redis_url: str, prefix: str) -> Iterator[TestClient]:
    add_account(redis_url, prefix, "nina", "nurse")
    add_account(redis_url, prefix, "rosa", "nurse")
    add_account(redis_url, prefix, "nora", "editor")
    add_account(redis_url, prefix, "rita", "reviewer")
    settings = staff_settings(redis_url, prefix, callbacks=True, callback_key=KEY)
    with TestClient(create_app(settings)) as client:
        yield client


def test_a_nurse_sees_only_the_queue_and_an_editor_not_at_all(console: TestClient) -> None:
    nina = signed_in(console, "nina")
    landing = nina.get("/staff/")
    assert landing.url.path == "/staff/callbacks" and "No patient is waiting" in landing.text
    assert "Review &amp; publish" not in landing.text
    assert nina.get("/staff/review").url.path == "/staff/callbacks"
    nora = signed_in(console, "nora")
    assert nora.get("/staff/callbacks").status_code == 403
    assert ">Callbacks<" not in nora.get("/staff/").text
    assert ">Callbacks<" in signed_in(console, "rita").get("/staff/").text


def test_claim_call_and_close(console: TestClient, rdb: redis.Redis, prefix: str) -> None:
    patient = Phone(console, NUMBER)
    patient.text("EFECTOS")
    patient.text("ENFERMERA")
    nina, rosa = signed_in(console, "nina"), signed_in(console, "rosa")
    queue = nina.get("/staff/callbacks").text
    assert "Spanish" in queue and "Side effects" in queue and "Waiting 0 of 120 min" in queue
    assert "555" not in queue.replace("(555)", "")  # no number in the list
    request_id, call = claim_first(nina)
    assert f'href="tel:{NUMBER}"' in call and "+1 555-765-0001" in call
    assert "is calling" in rosa.get("/staff/callbacks").text  # held: rosa cannot claim it
    held = rosa.post(f"/staff/callbacks/{request_id}/claim")
    assert "nina is calling this patient" in held.text
    done = nina.post(f"/staff/callbacks/{request_id}/close", {"outcome": "reached"})
    assert "the number is deleted" in done.text
    assert "No patient is waiting" in done.text
    joined = "\n".join(map(str, rdb.lrange(StaffKeys(prefix).audit, 0, -1)))  # decoded: str
    assert f"request {request_id}" in joined and "callback number shown" in joined
    assert "reached" in joined
    dump = dump_redis(rdb, prefix)
    for form in (NUMBER, NUMBER[1:], NUMBER[2:], NUMBER[-7:]):
        assert form not in dump and form not in joined


def test_no_answer_puts_it_back_for_later(console: TestClient) -> None:
    Phone(console, NUMBER).text("NURSE")
    nina = signed_in(console, "nina")
    request_id, _ = claim_first(nina)
    back = nina.post(f"/staff/callbacks/{request_id}/close", {"outcome": "no_answer"})
    assert "No answer, try 1" in back.text and "1 call without answer" in back.text
    assert "Try again in 59 min" in back.text or "Try again in 60 min" in back.text


def test_a_request_of_someone_who_opted_out_since_is_closed_not_called(
    console: TestClient, rdb: redis.Redis, prefix: str
) -> None:
    Phone(console, NUMBER).text("NURSE")
    rdb.set(Keys(prefix).opt_out(sender_key(NUMBER, HASH_KEY.encode())), "1")
    _, answer = claim_first(signed_in(console, "nina"))
    assert "opted out since asking" in answer and "tel:" not in answer


def test_outcomes_are_checked_and_need_the_claim(console: TestClient) -> None:
    Phone(console, NUMBER).text("NURSE")
    nina, rosa = signed_in(console, "nina"), signed_in(console, "rosa")
    request_id, _ = claim_first(nina)
    assert nina.post(f"/staff/callbacks/{request_id}/close", {"outcome": "x"}).status_code == 422
    refused = rosa.post(f"/staff/callbacks/{request_id}/close", {"outcome": "reached"})
    assert "nina holds this request" in refused.text
    forged = nina.request(
        "POST", f"/staff/callbacks/{request_id}/close", data={"outcome": "reached"}
    )
    assert forged.status_code == 403  # no CSRF token


def test_staff_add_makes_a_nurse(console: TestClient, redis_url: str, prefix: str) -> None:
    env = {"REDIS_URL": redis_url, "REDIS_KEY_PREFIX": prefix}
    result = CliRunner().invoke(  # the password on standard input, never in argv
        main, ["staff", "add", "nadia", "--role", "nurse"], input=f"{PASSWORD}\n", env=env
    )
    assert result.exit_code == 0, result.output
    assert "as nurse" in result.output
    landing = signed_in(console, "nadia").get("/staff/")  # a nurse lands on the queue
    assert landing.url.path == "/staff/callbacks"


def test_new_key_makes_a_key_the_settings_accept() -> None:
    result = CliRunner().invoke(main, ["callbacks", "new-key"])
    assert result.exit_code == 0 and len(parse_callback_key(result.output.strip())) == 32


def test_a_reviewer_works_callbacks_too(console: TestClient) -> None:
    Phone(console, NUMBER).text("NURSE")
    _, call = claim_first(signed_in(console, "rita"))
    assert f'href="tel:{NUMBER}"' in call


def test_smsbot_forget_withdraws_the_request(
    console: TestClient, redis_url: str, prefix: str, rdb: redis.Redis
) -> None:
    Phone(console, NUMBER).text("NURSE")
    assert list(rdb.scan_iter(match=f"{CallbackKeys(prefix).request_prefix}*"))
    env = {
        "TWILIO_AUTH_TOKEN": TOKEN,
        "SESSION_HASH_KEY": HASH_KEY,
        "CLINIC_PHONE": "+1 555 010 0100",
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": prefix,
        "CALLBACKS": "true",
        "CALLBACK_KEY": KEY,
    }
    result = CliRunner().invoke(main, ["forget", NUMBER], env=env)
    assert result.exit_code == 0, result.output
    assert "No patient is waiting" in signed_in(console, "nina").get("/staff/callbacks").text
    assert not list(
        rdb.scan_iter(match=f"{CallbackKeys(prefix).request_prefix}*")
    )  # the sealed number with it


@pytest.mark.parametrize("request_id", ["x", "{other}slot-0123456", "a" * 17])
def test_an_id_the_queue_never_made_is_not_found(console: TestClient, request_id: str) -> None:
    nina = signed_in(console, "nina")
    nina.get("/staff/callbacks")
    assert nina.post(f"/staff/callbacks/{request_id}/claim").status_code == 404


def test_a_request_past_the_target_is_marked(
    console: TestClient, redis_url: str, prefix: str
) -> None:
    async def old_request() -> None:
        client = aioredis.Redis.from_url(redis_url, decode_responses=True)
        asked = int(time.time()) - 3 * 3600
        await CallbackQueue(client, prefix, 3).request(
            "sender-x", "sealed", "en", ("cure",), "SM1", asked, asked + 60
        )
        await client.aclose()

    asyncio.run(old_request())
    page = signed_in(console, "nina").get("/staff/callbacks").text
    assert "Waiting 180 of 120 min" in page and "over target" in page
    assert "English" in page and "Last read: Can it cure cancer?" in page
