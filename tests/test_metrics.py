"""/metrics: what an operator graphs, with no phone numbers or message text in it."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers.phone import Phone


def samples(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    found = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_counts_by_intent_language_and_outcome(
    client: TestClient, new_phone: Callable[..., Phone]
) -> None:
    phone = new_phone("+15556667777")
    for body in ("TIPOS", "zebra-secret-words", "STOP", "START"):
        phone.text(body)
    client.post("/sms", data=phone.form("x"), headers={"X-Twilio-Signature": "forged"})
    metrics = samples(client)
    assert metrics[("smsbot_messages_total", (("intent", "topic:types"), ("language", "es")))] == 1
    assert metrics[("smsbot_messages_total", (("intent", "stop"), ("language", "es")))] == 1
    assert metrics[("smsbot_replies_total", (("outcome", "ok"),))] == 4
    assert metrics[("smsbot_opt_outs_total", ())] == 1
    assert metrics[("smsbot_opt_ins_total", ())] == 1
    assert metrics[("smsbot_webhook_refused_total", (("reason", "signature invalid"),))] == 1
    assert metrics[("smsbot_message_seconds_count", ())] == 4
    text = client.get("/metrics").text
    assert "5556667777" not in text and "zebra" not in text


def test_store_failures_are_counted(redis_url: str) -> None:
    from fastapi.testclient import TestClient

    from bot.webhook.asgi import create_app
    from tests.helpers.phone import Phone
    from tests.helpers.settings import make_settings

    settings = make_settings(redis_url="redis://127.0.0.1:1/0", redis_timeout_seconds=0.1)
    with TestClient(create_app(settings)) as client:
        assert Phone(client).text("TYPES")
        metrics = samples(client)
    assert metrics[("smsbot_store_errors_total", (("operation", "commit"),))] == 1
    assert metrics[("smsbot_replies_total", (("outcome", "stateless"),))] == 1
