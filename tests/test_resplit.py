"""A captured, signed webhook re-split into other fields gets nowhere (security review F-7:
W14, W14b, W14d). The signature covers names and values run together, so each re-split below
still verifies; the shapes of Twilio's fields are what give it away."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.webhook import twilio
from tests.helpers.phone import Phone, replies
from tests.helpers.settings import TOKEN, WEBHOOK

FORM = "application/x-www-form-urlencoded"


def captured(number: str, body: str = "TYPES") -> list[tuple[str, str]]:
    sid = f"SM{uuid.uuid4().hex}"
    return [
        ("Body", body),
        ("From", number),
        ("MessageSid", sid),
        ("NumMedia", "0"),
        ("SmsSid", sid),
    ]


def resplits(fields: list[tuple[str, str]]) -> dict[str, list[tuple[str, str]]]:
    values = dict(fields)
    sid = values["MessageSid"]
    return {
        # MessageSid and SmsSid folded away: no ID left to recognise a retry by.
        "sid names folded": [
            ("Body", values["Body"]),
            ("From", values["From"]),
            ("Message", f"Sid{sid}"),
            ("NumMedia", "0"),
            ("SmsSi", f"d{sid}"),
        ],
        # The next field absorbed: a MessageSid never seen before.
        "new sid value": [
            ("Body", values["Body"]),
            ("From", values["From"]),
            ("MessageSid", f"{sid}NumMedia0"),
            ("SmsSid", sid),
        ],
    }


def send(phone: Phone, fields: list[tuple[str, str]], signature: str) -> Any:
    return phone.client.post(
        "/sms",
        content=urlencode(fields),
        headers={"Content-Type": FORM, "X-Twilio-Signature": signature},
    )


@pytest.mark.parametrize("variant", ["sid names folded", "new sid value"])
def test_a_resplit_replay_is_refused(new_phone: Callable[..., Phone], variant: str) -> None:
    phone = new_phone()
    original = captured(phone.number)
    signature = twilio.signature(TOKEN, WEBHOOK, twilio.Form(original))
    assert send(phone, original, signature).status_code == 200
    forged = resplits(original)[variant]
    # The attack is real: the re-split request carries a valid signature.
    assert twilio.signature(TOKEN, WEBHOOK, twilio.Form(forged)) == signature
    for _ in range(3):
        assert send(phone, forged, signature).status_code == 400


def test_resplit_replays_cannot_pause_a_patients_replies(new_phone: Callable[..., Phone]) -> None:
    """W14d: 32 re-split replays of one captured TYPES used to flood-pause the patient."""
    phone = new_phone()
    original = captured(phone.number)
    signature = twilio.signature(TOKEN, WEBHOOK, twilio.Form(original))
    assert send(phone, original, signature).status_code == 200
    forged = resplits(original)["sid names folded"]
    statuses = {send(phone, forged, signature).status_code for _ in range(32)}
    assert statuses == {400}
    answer = phone.text("MENU")
    assert answer and answer[0]  # answered, not silenced


def test_a_plain_replay_is_still_recognised_as_the_same_message(
    new_phone: Callable[..., Phone],
) -> None:
    phone = new_phone()
    original = captured(phone.number)
    signature = twilio.signature(TOKEN, WEBHOOK, twilio.Form(original))
    first, again = send(phone, original, signature), send(phone, original, signature)
    assert first.status_code == again.status_code == 200
    assert replies(first.text) == replies(again.text)


@pytest.mark.parametrize(
    "extra",
    [
        {"MessageSid": "SMsim1"},
        {"MessageSid": "SM" + "G" * 32},
        {"AccountSid": "ACnotanaccount"},
        {"SmsMessageSid": "SM" + "0" * 32},
        {"lowercase": "x"},
    ],
)
def test_fields_twilio_never_sends_are_refused(phone: Phone, extra: dict[str, str]) -> None:
    assert phone.post(phone.form("MENU", **extra)).status_code == 400


def test_twilios_own_fields_pass(phone: Phone) -> None:
    form = phone.form("MENU")
    sid = form["MessageSid"]
    form.update(SmsSid=sid, SmsMessageSid=sid, MessagingServiceSid="MG" + "a" * 32)
    form.update(MediaUrl0="https://api.twilio.com/x", FromCity="SAN FRANCISCO")
    assert phone.post(form).status_code == 200
