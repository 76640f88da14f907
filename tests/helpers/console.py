"""The staff console as a person uses it: accounts, a browser session without a browser."""

from __future__ import annotations

import asyncio
import html
import re
from typing import Any

from argon2 import PasswordHasher, profiles
from fastapi.testclient import TestClient
from httpx2 import Response

from bot.config import Settings
from bot.console.accounts import Accounts
from bot.console.versions import catalog_versions
from bot.redis import connect
from bot.store.keys import StaffKeys
from tests.helpers.phone import bot_of
from tests.helpers.settings import make_settings
from tests.helpers.waiting import eventually

PASSWORD = "correct horse battery"
SIDE_EFFECTS = "topic.side_effects.1"
# Argon2 at its cheapest (a fraction of a millisecond): production's 64 MiB and three passes
# would cost about a second per console test. One test keeps the production cost on purpose.
CHEAP_HASHER = PasswordHasher.from_parameters(profiles.CHEAPEST)


def staff_settings(redis_url: str, prefix: str, **extra: Any) -> Settings:
    return make_settings(
        redis_url=redis_url,
        redis_key_prefix=prefix,
        staff_secret_key="staff-secret-key-for-tests-0123456789",
        staff_cookie_secure=False,
        catalog_poll_seconds=0.1,
        **{"staff_four_eyes": False, **extra},  # one person may publish unless a test says not
    )


def add_account(redis_url: str, prefix: str, name: str, role: str) -> None:
    async def run() -> None:
        client = connect(make_settings(redis_url=redis_url), purpose="cli")
        try:
            await Accounts(client, StaffKeys(prefix), CHEAP_HASHER).add(
                name, role, PASSWORD, replace=True
            )
        finally:
            await client.aclose()

    asyncio.run(run())


class Staff:
    """A browser without a browser: its own sign-in cookie, and the CSRF token of the last page.

    Several can share one TestClient, like two people signed in at the same time.
    """

    def __init__(self, client: TestClient):
        self.client = client
        self.csrf = ""
        self.cookies = type(client.cookies)()

    def request(self, method: str, path: str, **kwargs: Any) -> Response:
        self.client.cookies = self.cookies
        try:
            return self.client.request(method, path, **kwargs)
        finally:
            self.cookies = self.client.cookies

    def sign_in(self, name: str, password: str = PASSWORD) -> Response:
        self.get("/staff/login")
        response = self.post("/staff/login", {"name": name, "password": password})
        self.get("/staff/")
        return response

    def get(self, path: str) -> Response:
        response = self.request("GET", path)
        found = re.search(r'name="csrf" value="([^"]+)"', response.text)
        if found:
            self.csrf = found.group(1)
        return response

    def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Response:
        return self.request("POST", path, data={"csrf": self.csrf, **(data or {})}, **kwargs)

    def form(self, path: str, action: str) -> dict[str, str]:
        """The hidden fields of the form on the page at `path` that posts to `action`."""
        page = self.get(path).text
        found = re.search(rf'<form[^>]*action="{re.escape(action)}"[^>]*>(.*?)</form>', page, re.S)
        assert found, f"no form for {action} on {path}"
        return dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', found.group(1)))

    def publish(self, note: str = "") -> Response:
        """Open the review page and approve what it shows."""
        fields = self.form("/staff/review", "/staff/publish")
        return self.post("/staff/publish", {**fields, "note": note})

    def restore(self, number: int) -> Response:
        """From the version's page, where a reviewer sees what it said and confirms."""
        action = f"/staff/restore/{number}"
        return self.post(action, self.form(f"/staff/version/{number}", action))


def signed_in(client: TestClient, name: str) -> Staff:
    staff = Staff(client)
    staff.sign_in(name)
    return staff


def claim_first(staff: Staff) -> tuple[str, str]:
    """Claim the first request in the callback queue: its id and the page with the call link."""
    page = staff.get("/staff/callbacks").text
    (request_id,) = re.findall(r'action="/staff/callbacks/([\w-]+)/claim"', page)[:1]
    return request_id, staff.post(f"/staff/callbacks/{request_id}/claim").text


def drafted(review_html: str) -> list[str]:
    """The texts in the review's Draft column, as they read without the changed-word marks."""
    cells = re.findall(r'<div class="after text">(.*?)</div>', review_html, re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in cells]


def spanish(client: TestClient, key: str = SIDE_EFFECTS) -> str:
    text: str = bot_of(client).content.text("es", key)
    return text


def wait_for_version(client: TestClient, number: int) -> None:
    eventually(lambda: bot_of(client).catalog_version == number, what=f"version {number}")


def text_drafts(redis_url: str, prefix: str) -> dict[tuple[str, str], dict[str, Any]]:
    """(language, snippet) -> the draft as stored in Redis."""
    settings = staff_settings(redis_url, prefix)
    client = connect(settings, purpose="cli")
    versions = catalog_versions(settings, client)

    async def run() -> dict[tuple[str, str, str], dict[str, Any]]:
        try:
            return await versions.drafts()
        finally:
            await client.aclose()

    return {(lang, key): d for (kind, lang, key), d in asyncio.run(run()).items() if kind == "t"}


def upload(staff: Staff, name: str, content: bytes) -> Response:
    return staff.post(
        "/staff/import", files={"upload": (name, content, "application/octet-stream")}
    )
