"""Arbitrary input never breaks the bot: property tests, a webhook fuzz and schemathesis."""

from __future__ import annotations

import random
import string

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import build_bot
from bot.models import Inbound, Session
from bot.sms import BUDGET, measure
from bot.webhook import twilio
from tests.helpers.phone import Phone
from tests.helpers.settings import make_settings

BOT = build_bot(make_settings(redis_url=None))
TOPICS = sorted(BOT.content.structure.topics)
MENUS = sorted(BOT.content.structure.menus)

sessions = st.builds(
    Session,
    language=st.sampled_from([None, "en", "es"]),
    menu=st.one_of(st.none(), st.sampled_from(MENUS), st.text(max_size=8)),
    topic=st.one_of(st.none(), st.sampled_from(TOPICS), st.text(max_size=8)),
    page=st.integers(min_value=-2, max_value=12),
    opted_out=st.booleans(),
)
bodies = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=string.printable, max_size=40),
    st.sampled_from(["STOP", "MÁS", "2", "#10", "efectos", "ESPAÑOL", "help", "chest pain", ""]),
    st.lists(st.sampled_from(["side", "effects", "tipos", "stop", "más", "911", "x"])).map(
        " ".join
    ),
)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=bodies,
    saved=st.one_of(st.none(), sessions),
    country=st.sampled_from(["", "US", "MX", "zz"]),
    opt_out_type=st.sampled_from(["", "", "", "STOP", "START", "HELP", "weird"]),
    recent=st.integers(min_value=1, max_value=100),
)
def test_router_always_answers_within_budget(
    body: str, saved: Session | None, country: str, opt_out_type: str, recent: int
) -> None:
    inbound = Inbound("s", "SM1", body, from_country=country, opt_out_type=opt_out_type)
    reply, after = BOT.conversation.router.route(inbound, saved, recent=recent)
    assert reply.language in ("en", "es")
    assert after.language in ("en", "es")
    for parts in reply.messages:
        text = BOT.content.render(reply.language, parts)
        cost = measure(text)
        assert cost.characters > 0 and not BUDGET.over(cost)


FIELDS = [*twilio.WEBHOOK_FIELDS, "MediaUrl0", "NumSegments", "ProfileName", "WaId"]


def random_value(rng: random.Random) -> str:
    kind = rng.randrange(6)
    if kind == 0:
        return ""
    if kind == 1:
        return "".join(chr(rng.randrange(32, 0x2FFF)) for _ in range(rng.randrange(1, 40)))
    if kind == 2:
        return str(rng.choice([-1, 0, 1, 2, 99, 10**30]))
    if kind == 3:
        return rng.choice(["STOP", "START", "HELP", "whatsapp:+15551234567", "+5215512345678"])
    if kind == 4:
        return "x" * rng.randrange(1000, 3000)
    return "".join(rng.choice(string.printable) for _ in range(rng.randrange(1, 60)))


def test_signed_webhook_fuzz_never_errors(client: TestClient) -> None:
    rng = random.Random(20261126)
    phone = Phone(client)
    statuses: dict[int, int] = {}
    for _ in range(600):
        form = {
            name: random_value(rng) for name in rng.sample(FIELDS, rng.randrange(1, len(FIELDS)))
        }
        if rng.random() < 0.8:
            form["From"] = f"+1555{rng.randrange(10**7):07d}"
        status = phone.post(form).status_code
        statuses[status] = statuses.get(status, 0) + 1
    assert not any(status >= 500 for status in statuses), statuses
    assert statuses.get(200, 0) > 400  # most were valid, signed messages
