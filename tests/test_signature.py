"""Only Twilio gets in: every request is verified with the code that signs the test requests."""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from bot.webhook import twilio
from bot.webhook.asgi import App, create_app
from tests.helpers.phone import Phone, replies
from tests.helpers.settings import TOKEN, make_settings


def keys_written(rdb: redis.Redis, prefix: str) -> list[str]:
    return list(rdb.scan_iter(match=f"{prefix}:*"))


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        pytest.param({}, "signature missing", id="missing"),
        pytest.param({"X-Twilio-Signature": ""}, "signature missing", id="empty"),
        pytest.param(
            {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}, "signature invalid", id="garbage"
        ),
    ],
)
def test_unsigned_requests_are_refused_and_write_nothing(
    client: TestClient, rdb: redis.Redis, prefix: str, headers: dict[str, str], why: str
) -> None:
    form = Phone(client).form("STOP")
    response = client.post("/sms", data=form, headers=headers)
    assert response.status_code == 403
    assert why in response.text
    assert keys_written(rdb, prefix) == []


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"X-Twilio-Signature": "sé".encode("latin-1")}, id="non-ascii signature"),
        pytest.param({"X-Forwarded-Port": "abc"}, id="port not a number"),
        pytest.param({"X-Forwarded-Host": "["}, id="host not a host"),
        pytest.param({"Host": "[::1"}, id="broken host header"),
    ],
)
def test_junk_headers_are_refused_not_an_error(
    client: TestClient, rdb: redis.Redis, prefix: str, headers: dict[str, str]
) -> None:
    phone = Phone(client)
    response = phone.post(phone.form("STOP"), headers=headers)
    assert response.status_code == 403
    assert keys_written(rdb, prefix) == []


def test_wrong_token_is_refused(client: TestClient, rdb: redis.Redis, prefix: str) -> None:
    phone = Phone(client, token="some-other-account-token")
    response = phone.post(phone.form("STOP"))
    assert response.status_code == 403
    assert keys_written(rdb, prefix) == []


def test_signature_for_another_url_is_refused(
    client: TestClient, rdb: redis.Redis, prefix: str
) -> None:
    phone = Phone(client, url="http://testserver/other")
    assert phone.post(phone.form("STOP")).status_code == 403
    assert keys_written(rdb, prefix) == []


def test_tampered_body_is_refused(client: TestClient) -> None:
    phone = Phone(client)
    form = phone.form("MENU")
    signature = twilio.signature(TOKEN, phone.url, form)
    form["Body"] = "STOP"
    response = client.post("/sms", data=form, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403


def test_valid_signature_answers(client: TestClient) -> None:
    phone = Phone(client)
    response = phone.post(phone.form("TYPES"))
    assert response.status_code == 200 and replies(response.text)


class TestBehindProxy:
    """TLS ends at the proxy; Twilio signed https://public-host/sms, the app sees http."""

    def test_forwarded_headers_rebuild_the_public_url(self, client: TestClient) -> None:
        phone = Phone(client, url="https://sms.example-clinic.org/sms")
        headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "sms.example-clinic.org"}
        assert phone.post(phone.form("TYPES"), headers=headers).status_code == 200

    def test_without_forwarded_headers_the_https_signature_fails(self, client: TestClient) -> None:
        phone = Phone(client, url="https://sms.example-clinic.org/sms")
        headers = {"Host": "sms.example-clinic.org"}
        assert phone.post(phone.form("TYPES"), headers=headers).status_code == 403

    def test_forwarded_prefix_and_port(self, client: TestClient) -> None:
        phone = Phone(client, url="https://clinic.example.org:8443/textline/sms")
        headers = {
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "clinic.example.org",
            "X-Forwarded-Port": "8443",
            "X-Forwarded-Prefix": "/textline",
        }
        assert phone.post(phone.form("TYPES"), headers=headers).status_code == 200

    def test_explicit_default_port_in_signed_url(self, client: TestClient) -> None:
        phone = Phone(client, url="https://sms.example-clinic.org:443/sms")
        headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "sms.example-clinic.org"}
        assert phone.post(phone.form("TYPES"), headers=headers).status_code == 200

    def test_public_base_url_wins_over_headers(self, redis_url: str, prefix: str) -> None:
        settings = make_settings(
            redis_url=redis_url,
            redis_key_prefix=prefix,
            public_base_url="https://sms.example-clinic.org/",
        )
        with TestClient(create_app(settings)) as client:
            good = Phone(client, url="https://sms.example-clinic.org/sms")
            assert good.post(good.form("TYPES")).status_code == 200
            spoofed = Phone(client, url="https://attacker.example/sms")
            headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "attacker.example"}
            assert spoofed.post(spoofed.form("TYPES"), headers=headers).status_code == 403

    def test_query_string_is_part_of_the_signed_url(self, client: TestClient) -> None:
        phone = Phone(client, url="http://testserver/sms?clinic=north")
        form = phone.form("TYPES")
        signature = twilio.signature(TOKEN, phone.url, form)
        response = client.post(
            "/sms?clinic=north", data=form, headers={"X-Twilio-Signature": signature}
        )
        assert response.status_code == 200


SHARED_KEY = "webhook-shared-key-secret-0123456789"
SHARED_KEY_SETTINGS = "key=webhooks_sharedkey_x,algorithm=HMAC_SHA256"


def test_shared_key_signature(redis_url: str, prefix: str) -> None:
    """An account that signs webhooks with a SharedKey: HMAC-SHA256 with that key's secret."""
    settings = make_settings(
        redis_url=redis_url, redis_key_prefix=prefix, twilio_shared_key=SHARED_KEY
    )
    with TestClient(create_app(settings)) as client:
        phone = Phone(client)
        form = phone.form("TYPES")
        for secret, status in ((SHARED_KEY, 200), (TOKEN, 403)):
            headers = {
                "X-Twilio-Signature": twilio.signature(secret, phone.url, form, "HMAC_SHA256"),
                "X-Twilio-Webhooks-Signature-Settings": SHARED_KEY_SETTINGS,
            }
            assert client.post("/sms", data=form, headers=headers).status_code == status


def test_shared_key_signature_without_the_key_configured_is_refused(
    client: TestClient, rdb: redis.Redis, prefix: str
) -> None:
    phone = Phone(client)
    form = phone.form("STOP")
    headers = {
        "X-Twilio-Signature": twilio.signature(TOKEN, phone.url, form, "HMAC_SHA256"),
        "X-Twilio-Webhooks-Signature-Settings": SHARED_KEY_SETTINGS,
    }
    assert client.post("/sms", data=form, headers=headers).status_code == 403
    assert keys_written(rdb, prefix) == []


class TestBadRequests:
    def test_a_client_that_hangs_up_mid_body(self, client: TestClient) -> None:
        """Counted as a hang-up, not as a body too large."""
        sent: list[MutableMapping[str, Any]] = []

        async def receive() -> MutableMapping[str, Any]:
            return {"type": "http.disconnect"}

        async def send(message: MutableMapping[str, Any]) -> None:
            sent.append(message)

        scope: dict[str, Any] = {
            "type": "http",
            "method": "POST",
            "path": "/sms",
            "query_string": b"",
            "scheme": "http",
            "headers": [(b"content-type", b"application/x-www-form-urlencoded")],
        }
        app = client.app
        assert isinstance(app, App)
        asyncio.run(app(scope, receive, send))
        assert sent[0]["status"] == 400
        metrics = client.get("/metrics").text
        assert 'smsbot_webhook_refused_total{reason="client disconnected"} 1.0' in metrics
        assert "request too large" not in metrics

    def test_not_a_form(self, client: TestClient) -> None:
        response = client.post("/sms", json={"Body": "hi"})
        assert response.status_code == 415

    def test_too_large(self, client: TestClient, rdb: redis.Redis, prefix: str) -> None:
        phone = Phone(client)
        form = phone.form("x" * 20_000)
        assert phone.post(form).status_code == 413
        assert keys_written(rdb, prefix) == []

    @pytest.mark.parametrize("body", [b"Body=%FF%FE&From=%2B1555", b"Body=\xff&From=1"])
    def test_not_utf8(self, client: TestClient, body: str) -> None:
        response = client.post(
            "/sms", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert response.status_code == 400

    def test_too_many_fields(self, client: TestClient) -> None:
        body = "&".join(f"f{i}=x" for i in range(500))
        response = client.post(
            "/sms", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert response.status_code == 400

    def test_signed_but_no_sender(self, client: TestClient) -> None:
        phone = Phone(client)
        form = phone.form("TYPES")
        del form["From"]
        assert phone.post(form).status_code == 400


@settings(max_examples=300, deadline=None)
@given(
    url=st.sampled_from(["https://sms.example.org/sms", "http://h:8080/sms?x=1&y=%20"]),
    fields=st.lists(
        st.tuples(st.sampled_from(["Body", "From", "To", "MediaUrl0", "B", "a"]), st.text()),
        max_size=12,
    ),
    algorithm=st.sampled_from([None, "HMAC_SHA1", "HMAC_SHA256"]),
)
def test_signature_matches_twilios_own_code(url: str, fields: Any, algorithm: str) -> None:
    """Our fast signer is Twilio's algorithm: checked against the SDK's RequestValidator."""
    form = twilio.Form(fields)
    expected = RequestValidator(TOKEN).compute_signature(url, form, algorithm)
    assert twilio.signature(TOKEN, url, form, algorithm) == expected
    plain = dict(fields)
    assert twilio.signature(TOKEN, url, plain, algorithm) == RequestValidator(
        TOKEN
    ).compute_signature(url, plain, algorithm)


@settings(max_examples=500, deadline=None)
@given(
    st.lists(st.tuples(st.text(), st.text()), max_size=20),
    st.sampled_from(["", "&", "&&x", "=", "a=b=c", "+%2B+"]),
)
def test_form_parsing_reads_forms_as_the_standard_library_does(fields: Any, extra: Any) -> None:
    from urllib.parse import parse_qsl, urlencode

    body = urlencode(fields) + extra
    expected = twilio.Form(parse_qsl(body, keep_blank_values=True))
    parsed = twilio.parse_form(body.encode())
    assert {name: parsed.getlist(name) for name in parsed} == {
        name: expected.getlist(name) for name in expected
    }
