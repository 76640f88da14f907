"""No staff action can stall the webhook (security review F-4: P01, P01b, P02, F03b, U08):
format specs are refused, texts are bounded, previews and uploads run off the event loop."""

from __future__ import annotations

import re
import threading
import time
from typing import Any

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient

from bot.console.views import runs
from bot.webhook import twilio
from tests.helpers.console import PASSWORD, Staff, add_account
from tests.helpers.phone import bot_of
from tests.helpers.processes import ServerProcess, production_env
from tests.helpers.settings import TOKEN
from tests.helpers.waiting import eventually

KEY = "topic.cure.2"
PUBLIC = "https://sms.example-clinic.org/sms"


def preview(staff: Staff, text: str) -> dict[str, Any]:
    response = staff.request(
        "POST",
        "/staff/api/preview",
        json={"key": KEY, "language": "en", "text": text},
        headers={"X-CSRF-Token": staff.csrf},
    )
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


@pytest.fixture
def editor(console: TestClient) -> Staff:
    staff = Staff(console)
    staff.sign_in("nora")
    staff.get(f"/staff/snippet/{KEY}")
    return staff


def test_a_format_width_is_refused_in_a_preview_at_once(editor: Staff) -> None:
    started = time.monotonic()
    found = preview(editor, "{clinic_phone:>640000}")
    assert "placeholders" in found["error"] and time.monotonic() - started < 1


@pytest.mark.parametrize("spec", ["{clinic_phone!r}", "{clinic_phone:^9}", "{program_name:.3}"])
def test_the_catalog_check_refuses_format_specs(
    console: TestClient, editor: Staff, spec: str
) -> None:
    english = bot_of(console).content.text("en", KEY)
    spanish = bot_of(console).content.text("es", KEY)
    editor.post(f"/staff/snippet/{KEY}", {"en": f"{english} {spec}", "es": spanish})
    reviewer = Staff(console)
    reviewer.sign_in("rita")
    review = reviewer.get("/staff/review")
    assert "write placeholders as" in review.text
    assert reviewer.publish().status_code == 422


def test_long_texts_are_refused_at_save_and_in_a_preview(editor: Staff) -> None:
    assert "at most 1000 characters" in preview(editor, "a" * 5000)["error"]
    saved = editor.post(f"/staff/snippet/{KEY}", {"en": "a" * 5000, "es": "x"})
    assert saved.status_code == 400
    huge = editor.request(  # P02's 300k-character draft: refused before it is even read
        "POST",
        "/staff/api/preview",
        json={"key": KEY, "language": "en", "text": "a" * 300_000},
        headers={"X-CSRF-Token": editor.csrf},
    )
    assert huge.status_code == 413


def test_runs_are_linear() -> None:
    text = "aá" * 50_000
    started = time.monotonic()
    pieces = runs(text)
    assert time.monotonic() - started < 1
    assert len(pieces) == 100_000 and "".join(piece[0] for piece in pieces) == text


def sign_in(base: str, name: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=base, timeout=30)
    page = client.get("/staff/login").text
    token = csrf_of(page)
    client.post("/staff/login", data={"name": name, "password": PASSWORD, "csrf": token})
    page = client.get(f"/staff/snippet/{KEY}").text
    return client, csrf_of(page)


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


@pytest.mark.e2e
def test_sms_stay_fast_while_an_editor_previews_the_worst_input(
    redis_url: str, prefix: str
) -> None:
    add_account(redis_url, prefix, "nora", "editor")
    env = production_env(redis_url, prefix, STAFF_SECRET_KEY="s" * 40, STAFF_COOKIE_SECURE="false")
    server = ServerProcess(env)
    worst = ("{clinic_phone} á " * 60)[:1000]  # longest text allowed, every SMS it is part of
    stop = threading.Event()
    previews: list[int] = []

    def previewing() -> None:
        client, token = sign_in(server.base, "nora")
        while not stop.is_set():
            response = client.post(
                "/staff/api/preview",
                json={"key": KEY, "language": "en", "text": worst},
                headers={"X-CSRF-Token": token},
            )
            previews.append(response.status_code)

    def text(n: int) -> float:
        form = {"MessageSid": f"SM{n:032x}", "From": f"+1555321{n:04d}", "Body": "MENU"}
        signature = twilio.signature(TOKEN, PUBLIC, form)
        started = time.monotonic()
        sent = httpx.post(
            f"{server.base}/sms", data=form, headers={"X-Twilio-Signature": signature}
        )
        assert sent.status_code == 200
        return time.monotonic() - started

    editor = threading.Thread(target=previewing)
    latencies = []
    try:
        text(999)  # a new worker's first answer pays its one-time costs, editor or not
        editor.start()
        eventually(lambda: previews, seconds=30, what="the editor's first preview")
        for n in range(40):
            latencies.append(text(n))
            time.sleep(0.05)
    finally:
        stop.set()
        editor.join(timeout=30)
        server.stop()
    assert previews and set(previews) == {200}
    assert max(latencies) < 1.0, f"slowest SMS {max(latencies):.2f} s"
