"""Publishing exactly what a reviewer saw, and drafts that outlive a publish or a restore."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi.testclient import TestClient

from bot.console.versions import catalog_versions
from bot.redis import connect
from tests.helpers.console import Staff, drafted, spanish, staff_settings, wait_for_version
from tests.helpers.phone import bot_of

FIRST = "reply.language"
SECOND = "reply.stop"
FIRST_ES = "Listo, le escribo en español."
SECOND_ES = "Se dio de baja. Responda INICIO para volver."


def draft(staff: Staff, key: str, es: str) -> None:
    english = bot_of(staff.client).content.text("en", key)
    assert staff.post(f"/staff/snippet/{key}", {"en": english, "es": es}).status_code == 200


def open_review(app: TestClient) -> tuple[Staff, Staff, dict[str, str]]:
    """An editor's draft, and a reviewer's publish form as the review page showed it."""
    editor, reviewer = Staff(app), Staff(app)
    editor.sign_in("nora")
    reviewer.sign_in("rita")
    draft(editor, FIRST, FIRST_ES)
    return editor, reviewer, reviewer.form("/staff/review", "/staff/publish")


def test_a_draft_saved_after_the_review_opened_is_not_published(console: TestClient) -> None:
    editor, reviewer, reviewed = open_review(console)
    draft(editor, SECOND, SECOND_ES)  # while the reviewer reads

    response = reviewer.post("/staff/publish", reviewed)
    assert response.status_code == 409
    assert "Not published" in response.text and "changed since you opened" in response.text
    assert SECOND_ES in response.text  # what would be published now, to review
    time.sleep(0.3)
    assert bot_of(console).catalog_version == 0

    assert reviewer.publish().status_code == 200  # approved as now shown
    wait_for_version(console, 1)
    assert spanish(console, FIRST) == FIRST_ES and spanish(console, SECOND) == SECOND_ES


def test_a_changed_draft_of_the_same_text_is_not_published(console: TestClient) -> None:
    editor, reviewer, reviewed = open_review(console)
    draft(editor, FIRST, "Listo, ahora en español.")
    assert reviewer.post("/staff/publish", reviewed).status_code == 409
    assert bot_of(console).catalog_version == 0


def test_a_publish_leaves_drafts_saved_meanwhile(redis_url: str, prefix: str) -> None:
    settings = staff_settings(redis_url, prefix)
    client = connect(settings, purpose="cli")
    versions = catalog_versions(settings, client)

    async def run() -> dict[tuple[str, str, str], dict[str, Any]]:
        try:
            await versions.save_text("es", FIRST, FIRST_ES, "nora")
            await versions.save_text("es", SECOND, SECOND_ES, "nora")
            found = await versions.for_review()
            # Saved after the reviewer's page was built, before the publish lands:
            await versions.save_text("es", SECOND, "Se dio de baja.", "nora")
            await versions.save_text("es", "reply.help", "Ayuda.", "nora")
            await versions.publish(
                found.data, found.number, "rita", "", found.changes, found.drafts
            )
            return await versions.drafts()
        finally:
            await client.aclose()

    left = asyncio.run(run())
    assert {key: d["value"] for (_, _, key), d in left.items()} == {
        SECOND: "Se dio de baja.",
        "reply.help": "Ayuda.",
    }


def test_a_restore_keeps_the_drafts_waiting_for_review(console: TestClient) -> None:
    reviewer = Staff(console)
    reviewer.sign_in("rita")
    draft(reviewer, FIRST, FIRST_ES)
    assert reviewer.publish().status_code == 200
    wait_for_version(console, 1)
    original = spanish(console, SECOND)
    draft(reviewer, SECOND, SECOND_ES)

    assert reviewer.restore(0).status_code == 200
    wait_for_version(console, 2)
    assert spanish(console, SECOND) == original
    assert SECOND_ES in drafted(reviewer.get("/staff/review").text)  # still a draft


def test_a_restore_from_an_old_page_is_refused_with_a_message(console: TestClient) -> None:
    first, second = Staff(console), Staff(console)
    first.sign_in("rita")
    second.sign_in("rita")
    draft(first, FIRST, FIRST_ES)
    assert first.publish().status_code == 200
    stale = first.form("/staff/version/0", "/staff/restore/0")
    draft(second, SECOND, SECOND_ES)
    assert second.publish().status_code == 200

    response = first.post("/staff/restore/0", stale)
    assert response.status_code == 409
    assert "was not restored" in response.text and "another version was published" in response.text
    wait_for_version(console, 2)
    time.sleep(0.3)
    assert bot_of(console).catalog_version == 2


def test_a_spanish_draft_needs_review_after_a_later_english_edit(console: TestClient) -> None:
    key, es = "topic.cure.1", "La inmunoterapia no se considera una cura."
    translator, writer, reviewer = Staff(console), Staff(console), Staff(console)
    translator.sign_in("nora")
    writer.sign_in("nora")
    reviewer.sign_in("rita")
    draft(translator, key, es)  # written against the published English
    writer.post(f"/staff/snippet/{key}", {"en": "Immunotherapy is not a cure.", "es": es})

    assert "needs review: the English changed" in writer.get(f"/staff/snippet/{key}").text
    review = reviewer.get("/staff/review")
    assert f"es: &#39;{key}&#39;: the English changed" in review.text
    assert reviewer.publish().status_code == 422
    assert bot_of(console).catalog_version == 0
