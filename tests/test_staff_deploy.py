"""A published catalog meets newer files: a deploy adds pages and safety phrases while Redis
holds a version published from the staff console."""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from bot.catalog.tools import compile_catalogs
from bot.config import PROJECT_ROOT, Settings
from bot.webhook.asgi import create_app
from tests.helpers.console import Staff, add_account, spanish, staff_settings
from tests.helpers.phone import Phone, bot_of

NEW_PAGE_EN = "Write your questions down before you call, so you remember them."
NEW_PAGE_ES = "Escriba sus preguntas antes de llamar, para recordarlas."
PUBLISHED_ES = "Listo, le escribo en español."


@pytest.fixture
def files(tmp_path: Path) -> Path:
    for folder in ("messages", "locales"):
        shutil.copytree(PROJECT_ROOT / folder, tmp_path / folder)
    return tmp_path


def settings_for(redis_url: str, prefix: str, files: Path) -> Settings:
    return staff_settings(
        redis_url,
        prefix,
        messages_dir=files / "messages",
        locales_dir=files / "locales",
    )


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def deploy_a_new_page_and_safety_phrases(files: Path) -> None:
    """What a developer commits: a new third page for CALL, an emergency and an opt-out
    phrase."""
    messages = files / "messages"
    edit(
        messages / "menus.yaml",
        "pages: [topic.call.1, topic.side_effects.signs, ",
        "pages: [topic.call.1, topic.side_effects.signs, topic.call.3, ",
    )
    edit(
        messages / "en.yaml",
        "  topic.call.2:",
        f'  topic.call.3: "{NEW_PAGE_EN}"\n  topic.call.2:',
    )
    edit(messages / "keywords.yaml", "    - suicide\n", "    - suicide\n    - lips are swelling\n")
    edit(
        messages / "keywords.yaml",
        "    - leave me alone\n",
        "    - leave me alone\n    - never text me again\n",
    )
    po = files / "locales/es/LC_MESSAGES/messages.po"
    with po.open("a", encoding="utf-8") as handle:
        handle.write(f'\nmsgctxt "topic.call.3"\nmsgid "{NEW_PAGE_EN}"\nmsgstr "{NEW_PAGE_ES}"\n')
    compile_catalogs(files / "locales")


def publish(client: TestClient, key: str, es: str) -> None:
    reviewer = Staff(client)
    reviewer.sign_in("rita")
    english = bot_of(client).content.text("en", key)
    reviewer.post(f"/staff/snippet/{key}", {"en": english, "es": es})
    assert reviewer.publish().status_code == 200


def wait_for(predicate: Callable[[], object], seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_a_deploy_after_a_publish_serves_both(redis_url: str, prefix: str, files: Path) -> None:
    add_account(redis_url, prefix, "rita", "reviewer")
    with TestClient(create_app(settings_for(redis_url, prefix, files))) as before:
        publish(before, "reply.language", PUBLISHED_ES)
        wait_for(lambda: bot_of(before).catalog_version == 1)

    deploy_a_new_page_and_safety_phrases(files)
    with TestClient(create_app(settings_for(redis_url, prefix, files))) as after:
        assert bot_of(after).catalog_version == 1
        assert spanish(after, "reply.language") == PUBLISHED_ES
        patient = Phone(after, "+15550001111")
        patient.text("CALL")
        patient.text("MORE")
        assert patient.text("MORE")[0].startswith(NEW_PAGE_EN)
        paciente = Phone(after, "+15550002222")
        paciente.text("LLAMAR")
        paciente.text("MÁS")
        assert paciente.text("MÁS")[0].startswith(NEW_PAGE_ES)
        assert "911" in Phone(after, "+15550003333").text("my lips are swelling")[0]
        leaving = Phone(after, "+15550004444")
        assert "unsubscribed" in leaving.text("please never text me again")[0]
        assert leaving.text("CURE") == []

        staff = Staff(after)
        staff.sign_in("rita")
        overview = staff.get("/staff/?topic=call")  # the page the deploy added, in its topic
        assert overview.status_code == 200 and NEW_PAGE_EN in overview.text


def test_a_version_that_does_not_fit_the_files_is_skipped(
    redis_url: str, prefix: str, files: Path, caplog: pytest.LogCaptureFixture
) -> None:
    add_account(redis_url, prefix, "rita", "reviewer")
    with TestClient(create_app(settings_for(redis_url, prefix, files))) as before:
        reviewer = Staff(before)
        reviewer.sign_in("rita")
        reviewer.get("/staff/keywords/side_effects")
        reviewer.post(
            "/staff/keywords/side_effects", {"en": "side effects\nfatigue", "es": "efectos"}
        )
        assert reviewer.publish().status_code == 200
        wait_for(lambda: bot_of(before).catalog_version == 1)

    # The deploy makes "fatigue" a help word, which version 1 uses for a topic.
    edit(files / "messages/keywords.yaml", "en: [help, info,", "en: [help, info, fatigue,")
    caplog.set_level(logging.ERROR, logger="smsbot.catalog")
    with TestClient(create_app(settings_for(redis_url, prefix, files))) as after:
        assert bot_of(after).catalog_version == 0  # the files, not a broken mix
        assert "Call" in Phone(after, "+15550005555").text("fatigue")[0]  # the help reply
        refusals = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
        assert any("version 1" in m and "fatigue" in m for m in refusals)

        fixer = Staff(after)  # a fix is published, and followed again
        fixer.sign_in("rita")
        fixer.get("/staff/keywords/side_effects")
        fixer.post("/staff/keywords/side_effects", {"en": "side effects", "es": "efectos"})
        publish(after, "reply.language", PUBLISHED_ES)
        wait_for(lambda: bot_of(after).catalog_version == 2)
        assert spanish(after, "reply.language") == PUBLISHED_ES


def test_the_follower_survives_an_unreadable_version(
    redis_url: str, prefix: str, files: Path
) -> None:
    add_account(redis_url, prefix, "rita", "reviewer")
    with TestClient(create_app(settings_for(redis_url, prefix, files))) as client:
        publish(client, "reply.language", PUBLISHED_ES)
        wait_for(lambda: bot_of(client).catalog_version == 1)
        rdb = redis.Redis.from_url(redis_url, decode_responses=True)
        tag = f"{prefix}:{{{prefix}:staff}}:catalog"
        good = rdb.get(f"{tag}:v:1")
        assert good is not None
        rdb.set(f"{tag}:v:2", "{not json")
        rdb.set(f"{tag}:version", 2)
        time.sleep(0.5)  # several polls meet version 2
        assert bot_of(client).catalog_version == 1
        rdb.set(f"{tag}:v:3", good)
        rdb.set(f"{tag}:version", 3)
        wait_for(lambda: bot_of(client).catalog_version == 3)


def test_turning_the_console_off_serves_the_files(redis_url: str, prefix: str, files: Path) -> None:
    """STAFF_CONSOLE=false: no pages, and the catalog in the files, not one published earlier."""
    add_account(redis_url, prefix, "rita", "reviewer")
    with TestClient(create_app(settings_for(redis_url, prefix, files))) as before:
        in_the_files = spanish(before, "reply.language")
        publish(before, "reply.language", PUBLISHED_ES)
        wait_for(lambda: bot_of(before).catalog_version == 1)

    off = settings_for(redis_url, prefix, files).model_copy(update={"staff_console": False})
    with TestClient(create_app(off)) as after:
        assert after.get("/staff/login").status_code == 404
        assert bot_of(after).catalog_version == 0
        assert spanish(after, "reply.language") == in_the_files
        assert Phone(after, "+15550005555").text("ESPAÑOL")[0] == in_the_files
