"""Staff see and fix what free text is understood: example questions and "try a message"."""

from __future__ import annotations

import time

import redis
from fastapi.testclient import TestClient

from bot.models import Session
from bot.understanding.reading import Reading
from tests.helpers.console import Staff
from tests.helpers.phone import Phone, bot_of

QUESTION = "zorblat quixplen"  # no topic has these words until staff add the example


def test_example_questions_are_drafted_reviewed_and_published(console: TestClient) -> None:
    assert reading(console).decision == "none"
    editor = Staff(console)
    editor.sign_in("nora")
    page = editor.get("/staff/keywords/cure")
    assert "Example questions" in page.text and "will it cure me" in page.text
    english = page.text.split('name="examples_en" rows="10">')[1].split("</textarea>")[0]
    spanish = page.text.split('name="examples_es" rows="10">')[1].split("</textarea>")[0]
    words = {"en": "cure\r\ncured", "es": "cura"}
    saved = editor.post(
        "/staff/keywords/cure",
        {**words, "examples_en": f"{english}\r\n{QUESTION}", "examples_es": spanish},
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    assert reading(console).decision == "none"  # a draft only
    review = editor.get("/staff/review").text
    assert QUESTION in review and "example questions" in review

    reviewer = Staff(console)
    reviewer.sign_in("rita")
    assert reviewer.publish("patients ask it this way").status_code == 200
    deadline = time.monotonic() + 5
    while reading(console).topic != "cure":
        assert time.monotonic() < deadline, "the published example did not reach the bot"
        time.sleep(0.05)
    assert (
        Phone(console)
        .text(QUESTION)[-1]
        .startswith(bot_of(console).content.text("en", "topic.cure.1"))
    )


def test_try_a_message_shows_the_answer_and_why_and_keeps_nothing(
    console: TestClient, rdb: redis.Redis, prefix: str
) -> None:
    def sender_keys() -> list[str]:  # sessions, answers, flood counters, opt-outs
        return [
            k for k in rdb.scan_iter(match=f"{prefix}:*") if k.endswith((":s", ":m", ":f", ":o"))
        ]

    before = sender_keys()
    staff = Staff(console)
    staff.sign_in("nora")
    staff.get("/staff/try")
    page = staff.post("/staff/try", {"message": "me duele mucho el pecho", "country": "US"})
    assert page.status_code == 200
    assert "emergency: chest" in page.text and "911" in page.text
    assert "es (word score" in page.text
    page = staff.post("/staff/try", {"message": "my mom is on keytrooda", "country": "US"})
    assert "Keytruda (pembrolizumab)" in page.text and "checkpoint" in page.text
    assert sender_keys() == before  # nothing stored for the message tried


def reading(console: TestClient) -> Reading:
    """What the running bot reads in QUESTION now."""
    found = bot_of(console).conversation.router.read(QUESTION, Session())
    assert found is not None
    return found
