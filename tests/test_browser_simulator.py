"""The local simulator on a phone: the text box stays on screen, the newest reply is in view,
and each reply says what it costs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.chromium import DOCS, PHONE, console_errors, launch, needs_chromium
from tests.helpers.processes import ServerProcess

if TYPE_CHECKING:  # playwright comes with the e2e extra only
    from playwright.sync_api import Page

pytestmark = needs_chromium


@pytest.fixture
def local(redis_url: str, prefix: str) -> Iterator[ServerProcess]:
    server = ServerProcess(
        {"REDIS_URL": redis_url, "REDIS_KEY_PREFIX": prefix, "TWILIO_AUTH_TOKEN": ""}
    )
    yield server
    server.stop()


def in_view(page: Page, selector: str) -> bool:
    return bool(
        page.evaluate(
            """selector => {
            const box = document.querySelector(selector).getBoundingClientRect();
            return box.top >= 0 && box.bottom <= window.innerHeight;
        }""",
            selector,
        )
    )


def test_a_long_conversation_on_a_phone(local: ServerProcess) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_context(**PHONE).new_page()
            errors = console_errors(page)
            page.goto(local.base + "/")
            assert "Try texting" in page.evaluate(
                "getComputedStyle(document.querySelector('#log'), '::before').content"
            )
            for n, body in enumerate(["MENU", "6", "MORE", "MORE", "ESPAÑOL", "EFECTOS", "MÁS"]):
                page.fill("#body", body)
                page.press("#body", "Enter")
                page.wait_for_function(
                    "n => document.querySelectorAll('.bot .cost').length >= n", arg=n + 1
                )
            assert in_view(page, "#body"), "the text box left the screen"
            assert in_view(page, "#log > .bubble:last-child"), "the newest reply is out of view"
            assert page.evaluate("document.documentElement.scrollHeight") <= 844
            last = page.locator(".bot .cost").last
            assert last.get_attribute("data-encoding") == "UCS-2"  # Spanish with accents
            assert int(last.get_attribute("data-segments") or 0) >= 1
            assert "SMS segment" in last.inner_text()
            assert page.title() == "Immunotherapy Info Line - simulator"  # PROGRAM_NAME
            DOCS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=DOCS / "simulator-phone.png")
            assert errors == []  # no favicon 404, no script error
        finally:
            browser.close()
