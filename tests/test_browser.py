"""The staff console in a real browser, end to end, across two app processes.

An editor changes the Spanish SIDE EFFECTS text and watches the segment counter jump when an
"á" makes the SMS UCS-2; a reviewer publishes; a second process answers EFECTOS with the new
text within seconds; a rollback brings the old text back. Screenshots go to build/screenshots.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from bot.catalog.files import Source
from bot.config import PROJECT_ROOT
from bot.webhook import twilio
from tests.chromium import CHROMIUM, launch
from tests.helpers.browser import SHOTS
from tests.helpers.console import PASSWORD
from tests.helpers.phone import replies
from tests.helpers.processes import PUBLIC
from tests.helpers.settings import TOKEN

KEY = "topic.infusion_day.3"  # the last page of Infusion day: what to do about a reaction
NEW_TEXT = (  # GSM-7 as typed (é is in GSM-7); the "á" typed after it makes it UCS-2
    "Si es una emergencia, como dolor de pecho o mucha falta de aire, llame al 911. Si algo es "
    "nuevo o empeora, aunque sea leve, llame a su equipo médico al {clinic_phone}."
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium"),
]


def infusion_day_last_page(base: str) -> str:
    """What a new patient reads on the last page of INFUSIÓN (a new number each time, so that
    polling never looks like a flood)."""
    number = f"+1555{time.monotonic_ns() % 10**7:07d}"
    answer = ""
    pages = Source.load(PROJECT_ROOT / "messages").structure.topics["infusion_day"].pages
    assert pages[-1] == KEY
    for body in ("INFUSIÓN", *["MÁS"] * (len(pages) - 1)):
        form = {"MessageSid": f"SM{time.monotonic_ns():032x}", "From": number, "Body": body}
        signature = twilio.signature(TOKEN, f"{PUBLIC}/sms", form)
        response = httpx.post(f"{base}/sms", data=form, headers={"X-Twilio-Signature": signature})
        answer = replies(response.text)[0]
    return answer


def wait_for(check: Any, seconds: float = 30.0) -> float:
    """Until the other worker serves the change: it rebuilds the catalog first, which takes
    several seconds on a loaded machine (how fast it is on a quiet one is the bench's job)."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < seconds, f"not live within {seconds} seconds"
        time.sleep(0.1)
    return time.monotonic() - started


def test_edit_preview_publish_and_rollback_in_a_browser(servers: Any) -> None:
    from playwright.sync_api import sync_playwright

    editor_side, patient_side = servers
    SHOTS.mkdir(parents=True, exist_ok=True)
    before = infusion_day_last_page(patient_side.base)
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            editor = browser.new_page(viewport={"width": 1280, "height": 900})
            editor.goto(f"{editor_side.base}/staff/")
            editor.fill("#name", "nora")
            editor.fill("#password", PASSWORD)
            editor.screenshot(path=SHOTS / "1-sign-in.png")
            editor.click("button[type=submit]")
            editor.wait_for_selector("text=published version 0")
            editor.screenshot(path=SHOTS / "2-catalog.png", full_page=False)

            editor.goto(f"{editor_side.base}/staff/snippet/{KEY}")
            spanish = editor.locator("#text-es")
            counter = editor.locator("#stats-es [data-segments]")
            spanish.fill("")
            spanish.type(NEW_TEXT, delay=2)
            editor.locator("#stats-es", has_text="GSM-7").wait_for()
            gsm_segments = int(counter.get_attribute("data-segments") or 0)
            editor.screenshot(path=SHOTS / "3-preview-gsm.png")
            spanish.type(" Está en buenas manos.", delay=5)
            editor.locator("#stats-es", has_text="UCS-2").wait_for()
            ucs2_segments = int(counter.get_attribute("data-segments") or 0)
            assert ucs2_segments > gsm_segments  # the á made it UCS-2: a bigger SMS bill
            assert editor.locator("mark.ucs2", has_text="á").count() >= 1  # highlighted
            editor.screenshot(path=SHOTS / "4-preview-ucs2.png")
            editor.click("text=Save draft")
            editor.wait_for_selector("text=Saved as a draft")

            reviewer = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            reviewer.goto(f"{editor_side.base}/staff/login")
            reviewer.fill("#name", "rita")
            reviewer.fill("#password", PASSWORD)
            reviewer.click("button[type=submit]")
            reviewer.goto(f"{editor_side.base}/staff/review")
            reviewer.wait_for_selector("text=Está en buenas manos.")
            reviewer.fill("#note", "Warmer last page, same advice")
            reviewer.screenshot(path=SHOTS / "5-review.png")
            reviewer.click("text=Approve and publish")
            reviewer.wait_for_selector("text=Warmer last page, same advice")
            published = time.monotonic()

            expected = (
                NEW_TEXT.replace("{clinic_phone}", "(555) 010-0100") + " Está en buenas manos."
            )
            wait_for(lambda: infusion_day_last_page(patient_side.base) == expected)
            print(f"publish to live on the other process: {time.monotonic() - published:.2f} s")
            reviewer.screenshot(path=SHOTS / "6-history.png")

            reviewer.goto(f"{editor_side.base}/staff/version/0")  # what it said, then a yes
            reviewer.click("text=Yes, restore version 0")
            reviewer.wait_for_selector("text=restored version 0")
            wait_for(lambda: infusion_day_last_page(patient_side.base) == before)
        finally:
            browser.close()
