"""Sources and review dates in the console: who may sign a page off, what a sign-off sets, and
how it reaches messages/sources.yaml."""

from __future__ import annotations

import asyncio
import re
import shutil
import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import uvicorn
from click.testing import CliRunner
from fastapi.testclient import TestClient
from ruamel.yaml import YAML

from bot.catalog.provenance import Provenance
from bot.cli import main
from bot.config import PROJECT_ROOT, Settings
from bot.console.sign_offs import SignOffs
from bot.console.versions import catalog_versions
from bot.redis import connect
from bot.store.keys import StaffKeys
from bot.webhook.asgi import create_app
from tests.chromium import DOCS, PHONE, console_errors, launch, needs_chromium
from tests.helpers.console import CHEAP_HASHER, PASSWORD, Staff, add_account, staff_settings
from tests.helpers.redis_server import free_port
from tests.helpers.settings import HASH_KEY, TOKEN
from tests.helpers.waiting import eventually

NEVER = "topic.cure.2"  # no one has signed it off in the files
OVERDUE = "topic.cure.1"  # signed off in the files long ago (see `catalog_copy`)
SIGN_OFF = "/staff/sources/sign-off"


@pytest.fixture
def catalog_copy(tmp_path: Path) -> Path:
    """messages/ and locales/ to write into, with one page signed off in 2020."""
    for folder in ("messages", "locales"):
        shutil.copytree(PROJECT_ROOT / folder, tmp_path / folder)
    path = tmp_path / "messages/sources.yaml"
    yaml = YAML(typ="safe")
    data = yaml.load(path)
    data["pages"][OVERDUE].update(reviewed_by="A. Nurse, RN", reviewed_on=date(2020, 1, 2))
    yaml.dump(data, path)
    return tmp_path


@pytest.fixture
def settings_copy(redis_url: str, prefix: str, catalog_copy: Path) -> Settings:
    return staff_settings(
        redis_url,
        prefix,
        messages_dir=catalog_copy / "messages",
        locales_dir=catalog_copy / "locales",
    )


@pytest.fixture
def accounts(redis_url: str, prefix: str) -> None:
    """An editor (nora), a reviewer (rita) and a nurse (nina)."""
    for name, role in (("nora", "editor"), ("rita", "reviewer"), ("nina", "nurse")):
        add_account(redis_url, prefix, name, role)


@pytest.fixture
def app(accounts: None, settings_copy: Settings) -> Iterator[TestClient]:
    """The console on the copy."""
    with TestClient(create_app(settings_copy, password_hasher=CHEAP_HASHER)) as client:
        yield client


def signed_in(client: TestClient, name: str) -> Staff:
    staff = Staff(client)
    staff.sign_in(name)
    return staff


def listed(page_html: str, section: str) -> list[str]:
    """The page IDs in one section of /staff/sources."""
    found = re.search(rf'aria-labelledby="section-{section}">(.*?)</section>', page_html, re.S)
    assert found, f"no section {section}"
    return re.findall(r'<span class="meta">ID ([\w.]+)</span>', found.group(1))


def effective(settings: Settings) -> Provenance:
    """What the console reads: the files with the sign-offs in Redis over them."""

    async def run() -> Provenance:
        client = connect(settings, purpose="cli")
        try:
            sign_offs = SignOffs(client, StaffKeys(settings.redis_key_prefix))
            return await sign_offs.effective(settings.messages_dir)
        finally:
            await client.aclose()

    return asyncio.run(run())


def audit_trail(settings: Settings) -> list[str]:
    async def run() -> list[str]:
        client = connect(settings, purpose="cli")
        try:
            entries = await catalog_versions(settings, client).audit_trail()
            return [f"{e['who']} {e['action']} {e['detail']}" for e in entries]
        finally:
            await client.aclose()

    return asyncio.run(run())


def clinic_today(settings: Settings) -> date:
    return datetime.now(ZoneInfo(settings.clinic_timezone)).date()


def test_a_reviewers_sign_off_sets_the_review_and_the_next_one(
    app: TestClient, settings_copy: Settings
) -> None:
    rita = signed_in(app, "rita")
    assert NEVER in listed(rita.get("/staff/sources").text, "never")

    response = rita.post(SIGN_OFF, {"only": NEVER})
    assert response.status_code == 200 and "Signed off 1 page(s)" in response.text
    assert NEVER not in listed(response.text, "never")
    assert NEVER in listed(response.text, "current")

    today = clinic_today(settings_copy)
    signed = effective(settings_copy)
    record = signed.pages[NEVER]
    assert (record.reviewed_by, record.reviewed_on) == ("rita, reviewer", today)
    assert signed.due(NEVER) == today + timedelta(days=365)
    assert f"rita signed off {NEVER}" in audit_trail(settings_copy)


def test_ticked_pages_are_signed_off_together(app: TestClient, settings_copy: Settings) -> None:
    rita = signed_in(app, "rita")
    rita.get("/staff/sources")
    response = rita.post(SIGN_OFF, {"page": [NEVER, OVERDUE]})
    assert "Signed off 2 page(s)" in response.text
    assert not {NEVER, OVERDUE} & set(
        listed(response.text, "never") + listed(response.text, "overdue")
    )
    signed = effective(settings_copy)
    assert {signed.pages[key].reviewed_by for key in (NEVER, OVERDUE)} == {"rita, reviewer"}


def test_a_page_past_its_review_by_date_comes_first(app: TestClient) -> None:
    page_html = signed_in(app, "rita").get("/staff/sources").text
    assert listed(page_html, "overdue") == [OVERDUE]
    assert page_html.index('section-overdue"') < page_html.index('section-never"')
    assert "2021-01-01" in page_html  # its review-by date: a year after 2020-01-02
    assert "A. Nurse, RN" in page_html


@pytest.mark.parametrize(
    ("name", "refusal"),
    [
        pytest.param("nora", 403, id="editor"),
        pytest.param("nina", 303, id="nurse, sent to the callback queue"),
    ],
)
def test_editors_and_nurses_see_the_page_but_cannot_sign_off(
    app: TestClient, settings_copy: Settings, name: str, refusal: int
) -> None:
    staff = signed_in(app, name)
    response = staff.get("/staff/sources")
    assert response.status_code == 200 and NEVER in listed(response.text, "never")
    assert SIGN_OFF not in response.text

    refused = staff.post(SIGN_OFF, {"only": NEVER}, follow_redirects=False)
    assert refused.status_code == refusal
    assert effective(settings_copy).pages[NEVER].reviewed_on is None


def test_a_sign_off_without_the_csrf_token_is_refused(
    app: TestClient, settings_copy: Settings
) -> None:
    rita = signed_in(app, "rita")
    assert rita.post(SIGN_OFF, {"only": NEVER, "csrf": ""}).status_code == 403
    assert effective(settings_copy).pages[NEVER].reviewed_on is None
    assert not [entry for entry in audit_trail(settings_copy) if "signed off" in entry]


def test_only_pages_can_be_signed_off(app: TestClient) -> None:
    rita = signed_in(app, "rita")
    assert rita.post(SIGN_OFF, {"only": "no.such.page"}).status_code == 422
    assert rita.post(SIGN_OFF, {}).status_code == 400


def test_export_writes_the_sign_offs_into_sources_yaml(
    app: TestClient, settings_copy: Settings, catalog_copy: Path, redis_url: str, prefix: str
) -> None:
    signed_in(app, "rita").post(SIGN_OFF, {"only": NEVER})
    env = {
        "TWILIO_AUTH_TOKEN": TOKEN,
        "SESSION_HASH_KEY": HASH_KEY,
        "CLINIC_PHONE": "+1 555 010 0100",
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": prefix,
        "MESSAGES_DIR": str(catalog_copy / "messages"),
        "LOCALES_DIR": str(catalog_copy / "locales"),
    }
    before = (catalog_copy / "messages/sources.yaml").read_text(encoding="utf-8")

    result = CliRunner().invoke(main, ["catalog", "export"], env=env)
    assert result.exit_code == 0, result.output
    assert "sources.yaml (1 sign-off(s))" in result.output
    text = (catalog_copy / "messages/sources.yaml").read_text(encoding="utf-8")
    assert text.startswith(before.split("\n", 1)[0])  # the file's comments stay
    written = Provenance.load(catalog_copy / "messages").pages[NEVER]
    assert (written.reviewed_by, written.reviewed_on) == (
        "rita, reviewer",
        clinic_today(settings_copy),
    )
    checked = CliRunner().invoke(main, ["catalog", "check", "--quiet"], env=env)
    assert checked.exit_code == 0, checked.output
    never = next(line for line in checked.output.splitlines() if "no clinical sign-off" in line)
    assert NEVER not in never and "topic.cure.3" in never


def test_an_unreadable_sources_file_is_said_in_words(app: TestClient, catalog_copy: Path) -> None:
    (catalog_copy / "messages/sources.yaml").write_text("pages: {a: {reviewed_on: soon}}\n")
    response = signed_in(app, "rita").get("/staff/sources")
    assert response.status_code == 500
    assert "'a' reviewed_on is not a date" in response.text


@pytest.fixture
def served(accounts: None, settings_copy: Settings) -> Iterator[str]:
    """The console on the copy, served over HTTP for a browser."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings_copy, password_hasher=CHEAP_HASHER),
            port=port,
            log_level="warning",
            lifespan="on",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    eventually(lambda: server.started, what="the console to start")
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.mark.e2e
@needs_chromium
def test_a_reviewer_signs_off_a_page_on_a_phone(served: str, settings_copy: Settings) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            phone = browser.new_context(**PHONE).new_page()
            errors = console_errors(phone)  # a blocked inline script would show here
            phone.goto(f"{served}/staff/login")
            phone.fill("#name", "rita")
            phone.fill("#password", PASSWORD)
            phone.click("button[type=submit]")
            phone.click("text=Sources & review")
            phone.wait_for_selector("#section-overdue")
            assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways
            DOCS.mkdir(parents=True, exist_ok=True)
            phone.screenshot(path=DOCS / "sources-phone.png")
            row = phone.locator(f'[id="never-{NEVER}"]')
            row.locator("button[name=only]").click()
            phone.wait_for_selector("text=Signed off 1 page(s) today.")
            assert phone.locator(f'[id="current-{NEVER}"]').count() == 1
            assert not errors, errors
        finally:
            browser.close()
    assert effective(settings_copy).pages[NEVER].reviewed_by == "rita, reviewer"
