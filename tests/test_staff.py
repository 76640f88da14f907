"""The staff console: sign-in, drafts, review, publish, rollback, round trips, permissions."""

from __future__ import annotations

import html
import re
import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from bot.cli import main
from bot.config import PROJECT_ROOT
from bot.webhook.asgi import create_app
from tests.helpers.console import (
    PASSWORD,
    SIDE_EFFECTS,
    Staff,
    add_account,
    drafted,
    spanish,
    staff_settings,
)
from tests.helpers.phone import Phone, bot_of
from tests.helpers.settings import HASH_KEY, TOKEN


class TestAccess:
    @pytest.mark.parametrize(
        "path",
        [
            "/staff/",
            "/staff/review",
            "/staff/history",
            f"/staff/snippet/{SIDE_EFFECTS}",
            "/staff/export/es.po",
        ],
    )
    def test_signed_out_is_sent_to_sign_in(self, console: TestClient, path: str) -> None:
        response = console.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/staff/login"

    def test_signed_out_api_is_refused(self, console: TestClient) -> None:
        response = console.post(
            "/staff/api/preview", json={"key": SIDE_EFFECTS, "language": "es", "text": "x"}
        )
        assert response.status_code == 401

    def test_wrong_password(self, console: TestClient) -> None:
        response = Staff(console).sign_in("nora", "not the password")
        assert "Wrong name or password" in response.text

    def test_sign_in_attempts_are_limited(self, console: TestClient) -> None:
        staff = Staff(console)
        for _ in range(5):
            staff.sign_in("nora", "guess guess guess")
        response = staff.sign_in("nora", PASSWORD)
        assert response.status_code == 429 and "too many" in response.text

    def test_missing_csrf_token_is_refused(self, console: TestClient) -> None:
        staff = Staff(console)
        staff.sign_in("nora")
        response = console.post(f"/staff/snippet/{SIDE_EFFECTS}", data={"en": "x", "es": "y"})
        assert response.status_code == 403 and "CSRF" in response.text

    def test_an_editor_cannot_publish(self, console: TestClient) -> None:
        staff = Staff(console)
        staff.sign_in("nora")
        staff.post(
            f"/staff/snippet/{SIDE_EFFECTS}",
            {"en": bot_of(console).content.text("en", SIDE_EFFECTS), "es": "Nuevo texto."},
        )
        staff.get("/staff/review")
        assert staff.post("/staff/publish", {"version": "0"}).status_code == 403
        assert bot_of(console).catalog_version == 0

    def test_session_cookie_is_httponly_and_strict(self, console: TestClient) -> None:
        staff = Staff(console)
        staff.get("/staff/login")
        response = staff.post(
            "/staff/login", {"name": "nora", "password": PASSWORD}, follow_redirects=False
        )
        cookie = response.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie

    def test_console_can_be_switched_off(self, redis_url: str, prefix: str) -> None:
        with TestClient(
            create_app(staff_settings(redis_url, prefix, staff_console=False))
        ) as client:
            assert client.get("/staff/login").status_code == 404


class TestPublishing:
    def test_draft_review_publish_and_rollback(self, console: TestClient) -> None:
        original = spanish(console)
        english = bot_of(console).content.text("en", SIDE_EFFECTS)
        editor = Staff(console)
        editor.sign_in("nora")
        new = "La inmunoterapia puede causar efectos secundarios. Avísele a su equipo médico."
        editor.post(f"/staff/snippet/{SIDE_EFFECTS}", {"en": english, "es": new})
        assert spanish(console) == original  # drafts never reach patients
        review = editor.get("/staff/review")
        assert new in drafted(review.text) and "Approve and publish" not in review.text

        reviewer = Staff(console)
        reviewer.sign_in("rita")
        page = reviewer.get("/staff/review")
        before = re.findall(r'<div class="before text">(.*?)</div>', page.text, re.S)
        assert new in drafted(page.text) and original.split(".")[0] in re.sub(
            r"<[^>]+>", "", html.unescape(before[0])
        )  # a diff
        assert "<ins>" in page.text and "<del>" in page.text  # the changed words marked
        assert reviewer.publish("clearer").status_code == 200
        deadline = time.monotonic() + 5
        while spanish(console) != new:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        patient = Phone(console)
        assert patient.text("EFECTOS")[-1].startswith(new)  # after the first-contact welcome

        history = reviewer.get("/staff/history")
        assert "rita" in history.text and "clearer" in history.text and "nora draft" in history.text
        reviewer.restore(0)
        deadline = time.monotonic() + 5
        while spanish(console) != original:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert bot_of(console).catalog_version == 2  # the restore is a new version

    def test_publish_is_refused_while_the_check_fails(self, console: TestClient) -> None:
        english = bot_of(console).content.text("en", SIDE_EFFECTS)
        reviewer = Staff(console)
        reviewer.sign_in("rita")
        reviewer.post(f"/staff/snippet/{SIDE_EFFECTS}", {"en": english, "es": "Día " * 60})
        response = reviewer.publish()
        assert response.status_code == 422
        assert "Not published" in response.text and "UCS-2 segments" in response.text
        assert bot_of(console).catalog_version == 0

    def test_english_change_marks_spanish_for_review(self, console: TestClient) -> None:
        key = "topic.cure.1"
        editor = Staff(console)
        editor.sign_in("nora")
        editor.post(
            f"/staff/snippet/{key}",
            {"en": "Immunotherapy is not a cure. It can help.", "es": spanish(console, key)},
        )
        assert "needs review: the English changed" in editor.get(f"/staff/snippet/{key}").text
        overview = editor.get("/staff/?show=review").text  # the "Needs review" filter
        row = overview[overview.index(f'href="/staff/snippet/{key}"') :].split("</li>")[0]
        assert "needs review" in row  # on the overview too, before anything is published
        reviewer = Staff(console)
        reviewer.sign_in("rita")
        review = reviewer.get("/staff/review")
        assert f"es: &#39;{key}&#39;: the English changed" in review.text
        assert reviewer.publish().status_code == 422
        reviewer.post(
            f"/staff/snippet/{key}",
            {
                "en": "Immunotherapy is not a cure. It can help.",
                "es": "No es una cura. Puede ayudar.",
            },
        )
        assert reviewer.publish().status_code == 200

    def test_live_preview_uses_the_server_measurements(self, console: TestClient) -> None:
        staff = Staff(console)
        staff.sign_in("nora")
        plain = staff.client.post(
            "/staff/api/preview",
            json={
                "key": "reply.stop",
                "language": "es",
                "text": "Se dio de baja. Responda INICIO.",
            },
            headers={"X-CSRF-Token": staff.csrf},
        ).json()
        accented = staff.client.post(
            "/staff/api/preview",
            json={"key": "reply.stop", "language": "es", "text": "Se dio de baja. Envíe INICIO."},
            headers={"X-CSRF-Token": staff.csrf},
        ).json()
        assert plain["messages"][0]["encoding"] == "GSM-7"
        assert accented["messages"][0]["encoding"] == "UCS-2" and accented["ucs2"] == ["í"]
        assert ["í", True] in accented["messages"][0]["runs"]
        assert "INFLESZ" in accented["reading"]


class TestRoundTrips:
    def test_po_export_then_import_changes_nothing(self, console: TestClient) -> None:
        staff = Staff(console)
        staff.sign_in("nora")
        po = staff.client.get("/staff/export/es.po")
        assert po.status_code == 200 and b'msgctxt "topic.side_effects.1"' in po.content
        page = staff.post("/staff/import", files={"upload": ("es.po", po.content, "text/x-po")})
        assert "nothing to change" in page.text

    def test_csv_export_then_import_changes_nothing(self, console: TestClient) -> None:
        staff = Staff(console)
        staff.sign_in("nora")
        exported = staff.client.get("/staff/export/catalog.csv")
        page = staff.post(
            "/staff/import", files={"upload": ("catalog.csv", exported.content, "text/csv")}
        )
        assert "nothing to change" in page.text

    def test_an_edited_csv_shows_a_diff_then_becomes_a_draft(self, console: TestClient) -> None:
        staff = Staff(console)
        staff.sign_in("nora")
        exported = staff.client.get("/staff/export/catalog.csv").text
        edited = exported.replace(
            spanish(console, "reply.language"), "Listo, le escribo en español."
        )
        page = staff.post("/staff/import", files={"upload": ("c.csv", edited.encode(), "text/csv")})
        assert "Listo, le escribo en español." in page.text and "Make these drafts" in page.text
        token = re.search(r'name="token" value="([^"]+)"', page.text)
        assert token, page.text
        staff.post("/staff/import/confirm", {"token": token.group(1)})
        assert "Listo, le escribo en español." in drafted(staff.get("/staff/review").text)

    def test_a_bad_upload_is_explained(self, console: TestClient) -> None:
        staff = Staff(console)
        staff.sign_in("nora")
        page = staff.post(
            "/staff/import", files={"upload": ("x.csv", b"id,english\nnope,x\n", "text/csv")}
        )
        assert "columns" in page.text


def test_a_publish_reaches_another_process_and_export_writes_the_files(
    redis_url: str, prefix: str, tmp_path: Path
) -> None:
    add_account(redis_url, prefix, "rita", "reviewer")
    with (
        TestClient(create_app(staff_settings(redis_url, prefix))) as first,
        TestClient(create_app(staff_settings(redis_url, prefix))) as second,
    ):
        english = bot_of(first).content.text("en", "reply.language")
        reviewer = Staff(first)
        reviewer.sign_in("rita")
        reviewer.post(
            "/staff/snippet/reply.language",
            {"en": english, "es": "Listo: le escribiré en español."},
        )
        fields = reviewer.form("/staff/review", "/staff/publish")
        published_at = time.monotonic()
        reviewer.post("/staff/publish", fields)
        while spanish(second, "reply.language") != "Listo: le escribiré en español.":
            assert time.monotonic() - published_at < 5
            time.sleep(0.02)

    for folder in ("messages", "locales"):
        shutil.copytree(PROJECT_ROOT / folder, tmp_path / folder)
    env = {
        "TWILIO_AUTH_TOKEN": TOKEN,
        "SESSION_HASH_KEY": HASH_KEY,
        "CLINIC_PHONE": "+1 555 010 0100",
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": prefix,
        "MESSAGES_DIR": str(tmp_path / "messages"),
        "LOCALES_DIR": str(tmp_path / "locales"),
    }
    result = CliRunner().invoke(main, ["catalog", "export"], env=env)
    assert result.exit_code == 0, result.output
    po = Path(tmp_path / "locales/es/LC_MESSAGES/messages.po").read_text(encoding="utf-8")
    assert "Listo: le escribiré en español." in po
    assert "# Twilio's opt-out words" in (tmp_path / "messages/keywords.yaml").read_text()
    assert CliRunner().invoke(main, ["catalog", "check", "--quiet"], env=env).exit_code == 0


def test_staff_add_prompts_for_the_password(redis_url: str, prefix: str) -> None:
    env = {"REDIS_URL": redis_url, "REDIS_KEY_PREFIX": prefix}
    result = CliRunner().invoke(
        main,
        ["staff", "add", "Omar", "--role", "reviewer"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output


def test_an_opt_out_survives_a_catalog_publish(console: TestClient) -> None:
    patient = Phone(console, "+15558889999")
    patient.text("ALTO")
    reviewer = Staff(console)
    reviewer.sign_in("rita")
    english = bot_of(console).content.text("en", "reply.language")
    reviewer.post("/staff/snippet/reply.language", {"en": english, "es": "Listo, en español."})
    assert reviewer.publish().status_code == 200
    deadline = time.monotonic() + 5
    while bot_of(console).catalog_version != 1:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert patient.text("TIPOS") == []
