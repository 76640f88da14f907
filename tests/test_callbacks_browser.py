"""The callback queue in a real browser on a phone-sized screen, across two app processes: a
patient texts NURSE to one, a nurse signs in on the other, claims the request, gets the call
link, and records that she reached the patient. Screenshots go to build/screenshots."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bot.config import new_callback_key
from tests.chromium import CHROMIUM
from tests.helpers.browser import SHOTS
from tests.helpers.console import PASSWORD, add_account
from tests.helpers.phone import text_server
from tests.helpers.processes import PUBLIC, ServerProcess, production_env

if TYPE_CHECKING:  # playwright comes with the e2e extra only
    from playwright.sync_api import ViewportSize

PATIENT = "+15557651234"
PHONE_SCREEN: ViewportSize = {"width": 390, "height": 844}

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium"),
]


@pytest.fixture
def servers(redis_url: str, prefix: str) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    add_account(redis_url, prefix, "nina", "nurse")
    env = production_env(
        redis_url,
        prefix,
        STAFF_SECRET_KEY="browser-test-staff-secret-0123456789",
        STAFF_COOKIE_SECURE="false",
        CALLBACKS="true",
        CALLBACK_KEY=new_callback_key(),
    )
    pair = (ServerProcess(env), ServerProcess(env))
    yield pair
    for server in pair:
        server.stop()


def text(base: str, body: str) -> list[str]:
    return text_server(base, PATIENT, body, signed_for=f"{PUBLIC}/sms")


def test_a_nurse_claims_calls_and_closes_on_a_phone(
    servers: tuple[ServerProcess, ServerProcess],
) -> None:
    from playwright.sync_api import sync_playwright

    console_side, patient_side = servers
    SHOTS.mkdir(parents=True, exist_ok=True)
    text(patient_side.base, "EFECTOS")
    (confirmation,) = text(patient_side.base, "ENFERMERA")
    assert confirmation.startswith("Una enfermera le llamará a más tardar el")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"],
        )
        try:
            page = browser.new_page(viewport=PHONE_SCREEN, device_scale_factor=2)
            page.goto(f"{console_side.base}/staff/login")
            page.fill("#name", "nina")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_selector("text=1 waiting")
            assert page.locator("text=Spanish").count() >= 1
            assert page.locator("text=Last read: Side effects").count() == 1
            assert page.locator("a[href^='tel:']").count() == 0  # no number in the list
            page.screenshot(path=SHOTS / "callbacks-1-queue.png")

            page.click("text=Claim and call")
            link = page.locator("a.tel")
            link.wait_for()
            assert link.get_attribute("href") == f"tel:{PATIENT}"
            assert "+1 555-765-1234" in link.inner_text()
            page.screenshot(path=SHOTS / "callbacks-2-call.png")

            page.click("button[value=reached]")
            page.wait_for_selector("text=Request closed: the number is deleted.")
            assert page.locator("text=No patient is waiting for a call.").count() == 1
            page.screenshot(path=SHOTS / "callbacks-3-closed.png")
        finally:
            browser.close()
    (asked_again,) = text(patient_side.base, "ENFERMERA")
    assert asked_again.startswith("Una enfermera")  # closed: a new request, not "ya lo pidió"
    logs = console_side.stop() + patient_side.stop()  # both logged at debug level
    assert "intent=nurse" in logs  # the logs are there to read, at debug level
    for form in (PATIENT, PATIENT[1:], PATIENT[2:], PATIENT[-7:]):
        assert form not in logs
