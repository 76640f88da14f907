"""Signing in to the staff console: the limit on guessing, the audit trail, and SMS answered
while passwords are checked."""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient

from bot.console.versions import FAILED_SIGN_INS_AUDITED
from tests.helpers.console import PASSWORD, Staff
from tests.helpers.phone import Phone, bot_of

WRONG = "not the password at all"


def token(client: TestClient) -> str:
    """The sign-in page's token (the same for every tab of one browser)."""
    page = client.get("/staff/login").text
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def attempt(client: TestClient, name: str, password: str = WRONG) -> int:
    """One sign-in from the sign-in page, as a browser sends it."""
    response = client.post(
        "/staff/login",
        data={"name": name, "password": password, "csrf": token(client)},
        follow_redirects=False,
    )
    return response.status_code


def test_parallel_guesses_count_against_the_limit(console: TestClient) -> None:
    token(console)  # one browser, many tabs
    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda _: attempt(console, "nora"), range(12)))
    assert answers.count(200) <= 5 and answers.count(429) >= 7  # 200: "wrong password"
    assert attempt(console, "nora", PASSWORD) == 429


def test_guessing_one_name_does_not_lock_out_colleagues(console: TestClient) -> None:
    # Behind the reverse proxy every member of staff comes from the same address.
    for _ in range(6):
        attempt(console, "nora")
    assert attempt(console, "nora", PASSWORD) == 429
    assert attempt(console, "rita", PASSWORD) == 303


def test_failed_sign_ins_cannot_flood_the_audit_trail(console: TestClient) -> None:
    token(console)
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda n: attempt(console, f"guess{n}"), range(30)))
    staff = Staff(console)
    staff.sign_in("nora")
    english = bot_of(console).content.text("en", "reply.language")
    staff.post("/staff/snippet/reply.language", {"en": english, "es": "Listo, en español."})
    trail = staff.get("/staff/history").text
    assert trail.count("failed sign-in ") == FAILED_SIGN_INS_AUDITED
    assert "not recording more failed sign-ins" in trail
    assert "nora sign-in" in trail and "nora draft es reply.language" in trail


def test_sms_are_answered_while_passwords_are_checked(
    console_with_production_hashing: TestClient,
) -> None:
    console = console_with_production_hashing
    token(console)
    start = time.monotonic()
    attempt(console, "someone")
    one_check = time.monotonic() - start
    patient = Phone(console, "+15550006666")
    patient.text("MENU")  # warm

    go = threading.Event()

    def guess(n: int) -> None:
        go.wait()
        attempt(console, f"someone{n}")

    with ThreadPoolExecutor(8) as pool:
        for n in range(8):
            pool.submit(guess, n)
        go.set()
        time.sleep(one_check / 2)  # the checks are under way
        sent = time.monotonic()
        assert patient.text("MENU")
        answered_in = time.monotonic() - sent
    assert answered_in < 2 * one_check, (answered_in, one_check)
