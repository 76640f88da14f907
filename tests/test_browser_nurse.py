"""A nurse educator's task in Chromium, as the trial did it by hand: find the fever line by a
word in it, edit the multi-line Spanish page, see at once that it is too long, shorten it,
have it reviewed and published; upload a spreadsheet Excel saved (Windows-1252, semicolons);
read the insights page after a day of traffic. Screenshots go to docs/staff/ for the README."""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
import uvicorn

from bot.app import Bot
from bot.config import PROJECT_ROOT
from bot.webhook.asgi import App, create_app
from tests.chromium import DESKTOP, DOCS, PHONE, console_errors, launch, needs_chromium
from tests.helpers.console import CHEAP_HASHER, PASSWORD, add_account, staff_settings
from tests.helpers.phone import text_server
from tests.helpers.redis_server import free_port
from tests.helpers.waiting import eventually

if TYPE_CHECKING:  # playwright comes with the e2e extra only
    from playwright.sync_api import Page

pytestmark = needs_chromium
SIGNS = "topic.side_effects.signs_more"


@pytest.fixture
def server(redis_url: str, prefix: str) -> Iterator[tuple[App, str]]:
    add_account(redis_url, prefix, "nora", "editor")
    add_account(redis_url, prefix, "rita", "reviewer")
    app = create_app(staff_settings(redis_url, prefix), password_hasher=CHEAP_HASHER)
    port = free_port()
    config = uvicorn.Config(app, port=port, log_level="warning", lifespan="on")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    eventually(lambda: running.started, 30, "the server to start")
    yield app, f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(10)


def sign_in(page: Page, base: str, name: str) -> None:
    page.goto(f"{base}/staff/login")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("text=Find a text")


def test_a_nurse_edits_reviews_uploads_and_reads_insights(server: tuple[App, str]) -> None:
    from playwright.sync_api import sync_playwright

    app, base = server
    DOCS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            # Find the text by a word in it, on a phone.
            phone = browser.new_context(**PHONE).new_page()
            errors = console_errors(phone)
            sign_in(phone, base, "nora")
            phone.fill("#q", "fiebre")
            phone.press("#q", "Enter")
            phone.wait_for_selector("text=When to call, page 3 of 6")
            assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways
            phone.screenshot(path=DOCS / "find-phone.png", full_page=True)
            phone.click(f"a[href='/staff/snippet/{SIGNS}']")
            phone.wait_for_selector("#text-es")

            # Edit the multi-line Spanish page: too long first, said in words at save time.
            spanish = phone.locator("#text-es")
            text = spanish.input_value()
            assert "\n- fiebre" in text
            spanish.fill(text + "\n- latidos rápidos o mareo fuerte")  # one line too many
            phone.click("text=Save draft")
            phone.wait_for_selector("#too-long")
            warning = phone.inner_text("#too-long")
            assert "cannot be published yet" in warning and "Remove about" in warning
            phone.screenshot(path=DOCS / "edit-too-long.png", full_page=True)
            # Shortened until it fits, as the preview shows: 193 characters, 3 SMS.
            fits = text.replace("También l", "L") + "\n- latidos rápidos"  # 193, 3 SMS
            phone.locator("#text-es").fill(fits)
            phone.click("text=Save draft")
            phone.wait_for_selector("text=Saved as a draft. A reviewer publishes it.")

            # Review and publish: only the Spanish changed (the English was never touched).
            desk = browser.new_context(**DESKTOP).new_page()
            errors += console_errors(desk)
            sign_in(desk, base, "rita")
            desk.goto(f"{base}/staff/review")
            assert desk.locator(".card.change").count() == 1
            assert desk.locator("ins", has_text="latidos").count() == 1  # the changed words
            desk.fill("#note", "A fast heartbeat is a warning sign")
            desk.screenshot(path=DOCS / "review.png", full_page=True)
            desk.click("text=Approve and publish")
            desk.wait_for_selector("text=A fast heartbeat is a warning sign")
            bot: Bot = app.state.bot
            eventually(lambda: "latidos" in bot.content.text("es", SIGNS), 10, "the publish")
            assert "\r" not in bot.content.text("es", SIGNS)
            assert bot.content.text("es", SIGNS).endswith("\n- latidos rápidos")

            # Upload what Excel saves with Spanish settings: Windows-1252 and semicolons.
            exported = desk.request.get(f"{base}/staff/export/catalog.csv").text()
            rows = list(csv.reader(io.StringIO(exported)))
            for row in rows:
                if row[0] == "reply.language":
                    row[3] = "Listo, le escribo en español. ¿Qué desea saber?"
            out = io.StringIO(newline="")
            csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(rows)
            path = PROJECT_ROOT / "build" / "excel-spanish.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(out.getvalue().encode("cp1252"))
            desk.goto(f"{base}/staff/")
            desk.click("text=Upload a spreadsheet or translation")
            desk.set_input_files("#upload", str(path))
            desk.click("text=Check the upload")
            desk.wait_for_selector("text=Make these drafts")
            assert desk.locator("text=¿Qué desea saber?").count() >= 1
            desk.screenshot(path=DOCS / "upload-excel.png", full_page=True)

            # A day of traffic, then the insights page.
            for n, body in enumerate(["MENU", "5", "EFECTOS", "chest pain"] * 3):
                text_server(base, f"+155503000{n:02d}", body)
            for n in range(6):
                text_server(base, f"+155504000{n:02d}", "HI")
                text_server(base, f"+155504000{n:02d}", "is the dog park open")
            desk.goto(f"{base}/staff/insights")
            desk.wait_for_selector("text=What patients ask that we cannot answer")
            assert desk.locator("th", has_text="dog").count() == 1
            assert desk.locator("svg").count() >= 4
            desk.screenshot(path=DOCS / "insights.png", full_page=True)
            assert not [e for e in errors if "favicon" in e or "404" in e]
        finally:
            browser.close()
