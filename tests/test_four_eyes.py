"""Four-eyes review (security review F-3: Z02, Z05): a reviewer cannot publish their own drafts
nor restore a version alone; with STAFF_FOUR_EYES=false they can, and the history says so."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from bot.webhook.asgi import create_app
from tests.helpers.console import (
    CHEAP_HASHER,
    Staff,
    add_account,
    staff_settings,
    wait_for_version,
)
from tests.helpers.phone import bot_of

KEY = "topic.side_effects.1"
TEXT = "La inmunoterapia puede causar efectos secundarios. Avísele a su equipo médico."


def app(redis_url: str, prefix: str, four_eyes: bool) -> TestClient:
    add_account(redis_url, prefix, "nora", "editor")
    add_account(redis_url, prefix, "rita", "reviewer")
    add_account(redis_url, prefix, "rob", "reviewer")
    settings = staff_settings(redis_url, prefix, staff_four_eyes=four_eyes)
    return TestClient(create_app(settings, password_hasher=CHEAP_HASHER))


@pytest.fixture
def strict(redis_url: str, prefix: str) -> Iterator[TestClient]:
    with app(redis_url, prefix, four_eyes=True) as client:
        yield client


def signed_in(client: TestClient, name: str) -> Staff:
    staff = Staff(client)
    staff.sign_in(name)
    return staff


def english(client: TestClient) -> str:
    text: str = bot_of(client).content.text("en", KEY)
    return text


def draft(staff: Staff) -> None:
    form = {"en": english(staff.client), "es": TEXT}
    assert staff.post(f"/staff/snippet/{KEY}", form).status_code == 200


def test_a_reviewer_cannot_publish_their_own_draft(strict: TestClient) -> None:
    rita = signed_in(strict, "rita")
    draft(rita)
    assert rita.publish("self").status_code == 403
    wait_for_version(strict, 0)
    assert signed_in(strict, "rob").publish("second pair of eyes").status_code == 200
    wait_for_version(strict, 1)


def test_a_reviewer_cannot_publish_after_editing_someone_elses_draft(strict: TestClient) -> None:
    draft(signed_in(strict, "nora"))
    rita = signed_in(strict, "rita")
    draft_again = {"en": english(strict), "es": TEXT.replace("Avísele", "Dígale")}
    assert rita.post(f"/staff/snippet/{KEY}", draft_again).status_code == 200
    assert rita.publish().status_code == 403
    assert signed_in(strict, "rob").publish().status_code == 200


def test_a_restore_needs_a_second_reviewer(strict: TestClient) -> None:
    draft(signed_in(strict, "nora"))
    rita, rob = signed_in(strict, "rita"), signed_in(strict, "rob")
    assert rita.publish().status_code == 200
    asked = rita.restore(0)
    assert asked.status_code == 202 and "another reviewer" in asked.text
    wait_for_version(strict, 1)
    assert rita.restore(0).status_code == 202  # asking twice is still alone
    wait_for_version(strict, 1)
    assert rob.restore(0).status_code == 200
    wait_for_version(strict, 2)
    assert "asked by rita, approved by rob" in rob.get("/staff/history").text


def test_off_for_a_one_person_clinic_and_said_so(redis_url: str, prefix: str) -> None:
    with app(redis_url, prefix, four_eyes=False) as client:
        rita = signed_in(client, "rita")
        draft(rita)
        assert rita.publish("alone").status_code == 200
        assert rita.restore(0).status_code == 200
        wait_for_version(client, 2)
        history = rita.get("/staff/history").text
        assert history.count("four-eyes review is off") >= 2  # versions and the audit trail
