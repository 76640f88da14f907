"""Files for translators and spreadsheets: downloaded from what would be published with the
drafts, and uploaded back as drafts of exactly the texts that differ from it."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import subprocess
from typing import Any

import pytest
from babel.messages.catalog import Message
from babel.messages.pofile import read_po, write_po
from fastapi.testclient import TestClient
from httpx2 import Response

from bot.console.versions import catalog_versions
from bot.redis import connect
from tests.helpers.console import Staff, drafted, spanish, staff_settings, wait_for_version
from tests.helpers.phone import bot_of

KEY = "topic.cure.1"
NEW_EN = "Immunotherapy is not a cure. But it can control cancer for some people."
OTHER = "reply.language"
OTHER_ES = "Listo, le escribo en español."


@pytest.fixture
def editor(console: TestClient) -> Staff:
    staff = Staff(console)
    staff.sign_in("nora")
    return staff


def english(staff: Staff, key: str = KEY) -> str:
    return bot_of(staff.client).content.text("en", key)


def draft_english(staff: Staff, key: str, text: str) -> None:
    """The editor changes the English only, as on the edit page."""
    form = {"en": text, "es": spanish(staff.client, key)}
    assert staff.post(f"/staff/snippet/{key}", form).status_code == 200


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


def po_entry(content: bytes, key: str) -> Message:
    return next(m for m in read_po(io.BytesIO(content)) if m.context == key)


def translated_po(content: bytes, key: str, spanish: str | None = None) -> bytes:
    """The PO after a translator worked on one entry: a new Spanish text if given, and the
    fuzzy mark cleared (read and approved)."""
    catalog = read_po(io.BytesIO(content))
    entry = next(m for m in catalog if m.context == key)
    if spanish is not None:
        entry.string = spanish
    entry.flags.discard("fuzzy")
    out = io.BytesIO()
    write_po(out, catalog, width=76)
    return out.getvalue()


def csv_rows(content: bytes) -> dict[str, dict[str, str]]:
    return {row["id"]: row for row in csv.DictReader(io.StringIO(content.decode("utf-8-sig")))}


def upload(staff: Staff, name: str, content: bytes) -> Response:
    return staff.post(
        "/staff/import", files={"upload": (name, content, "application/octet-stream")}
    )


def confirm(staff: Staff, page: Response) -> None:
    token = re.search(r'name="token" value="([^"]+)"', page.text)
    assert token, page.text
    assert staff.post("/staff/import/confirm", {"token": token.group(1)}).status_code == 200


class TestDownloadsIncludeTheDrafts:
    def test_the_po_has_the_drafted_english_with_the_spanish_marked_fuzzy(
        self, editor: Staff
    ) -> None:
        published = english(editor)
        draft_english(editor, KEY, NEW_EN)

        po = editor.client.get("/staff/export/es.po").content
        entry = po_entry(po, KEY)
        assert entry.id == NEW_EN and entry.fuzzy
        block = next(b for b in po.decode().split("\n\n") if f'msgctxt "{KEY}"' in b)
        assert "#| msgid" in block and published[:30] in block  # what the English was
        assert entry.string == spanish(editor.client, KEY)
        assert not po_entry(po, OTHER).fuzzy
        # Poedit and Weblate read it as GNU gettext does: it must pass msgfmt's check.
        check = subprocess.run(
            ["msgfmt", "--check", "-o", "/dev/null", "-"], input=po, capture_output=True
        )
        assert check.returncode == 0, check.stderr.decode()

        page = upload(editor, "es.po", po)
        assert page.status_code == 200 and "not the current English" not in page.text
        assert "nothing to change" in page.text

    def test_the_csv_has_the_drafted_english_and_says_the_spanish_needs_review(
        self, editor: Staff
    ) -> None:
        draft_english(editor, KEY, NEW_EN)

        exported = editor.client.get("/staff/export/catalog.csv").content
        row = csv_rows(exported)[KEY]
        assert row["english"] == NEW_EN and row["spanish_needs_review"] == "yes"
        assert csv_rows(exported)[OTHER]["spanish_needs_review"] == ""
        assert "nothing to change" in upload(editor, "catalog.csv", exported).text

    def test_a_translation_of_the_drafted_english_becomes_a_draft(
        self, editor: Staff, redis_url: str, prefix: str
    ) -> None:
        draft_english(editor, KEY, NEW_EN)
        translated = translated_po(
            editor.client.get("/staff/export/es.po").content,
            KEY,
            "La inmunoterapia no es una cura, pero controla el cáncer en algunos.",
        )

        page = upload(editor, "es.po", translated)
        assert "no es una cura, pero controla" in page.text and "Make these drafts" in page.text
        confirm(editor, page)

        drafts = text_drafts(redis_url, prefix)
        assert drafts[("es", KEY)]["source"] == NEW_EN  # written against the drafted English
        assert drafts[("en", KEY)]["value"] == NEW_EN
        assert "needs review" not in editor.get(f"/staff/snippet/{KEY}").text


class TestUploadsKeepNewerDrafts:
    def test_a_csv_made_before_an_english_draft_keeps_that_draft(
        self, editor: Staff, redis_url: str, prefix: str
    ) -> None:
        published = english(editor)
        exported = editor.client.get("/staff/export/catalog.csv").text
        draft_english(editor, KEY, NEW_EN)  # after the file was downloaded
        edited = exported.replace(spanish(editor.client, OTHER), OTHER_ES)

        page = upload(editor, "catalog.csv", edited.encode())
        assert OTHER_ES in page.text and "changes 1 text" in page.text
        assert "Kept 1 draft" in page.text and NEW_EN in page.text
        confirm(editor, page)

        drafts = text_drafts(redis_url, prefix)
        assert drafts[("en", KEY)]["value"] == NEW_EN
        assert drafts[("es", OTHER)]["value"] == OTHER_ES
        assert set(drafts) == {("en", KEY), ("es", OTHER)}
        review = editor.get("/staff/review").text
        assert NEW_EN in drafted(review)
        assert published not in drafted(review)

    def test_a_po_made_before_a_spanish_draft_keeps_that_draft(
        self, editor: Staff, redis_url: str, prefix: str
    ) -> None:
        po = editor.client.get("/staff/export/es.po").content
        english_other = english(editor, OTHER)
        editor.post(f"/staff/snippet/{OTHER}", {"en": english_other, "es": OTHER_ES})
        page = upload(editor, "es.po", translated_po(po, "reply.stop", "Se dio de baja."))
        assert "Se dio de baja." in page.text and "Kept 1 draft" in page.text
        confirm(editor, page)

        drafts = text_drafts(redis_url, prefix)
        assert drafts[("es", OTHER)]["value"] == OTHER_ES
        assert drafts[("es", "reply.stop")]["value"] == "Se dio de baja."

    def test_a_draft_saved_while_an_upload_waits_for_a_yes_is_kept(
        self, editor: Staff, redis_url: str, prefix: str
    ) -> None:
        exported = editor.client.get("/staff/export/catalog.csv").text
        edited = exported.replace(spanish(editor.client, OTHER), OTHER_ES)
        page = upload(editor, "catalog.csv", edited.encode())
        writer = Staff(editor.client)
        writer.sign_in("nora")
        draft_english(writer, KEY, NEW_EN)  # before the first one confirms the upload

        confirm(editor, page)
        drafts = text_drafts(redis_url, prefix)
        assert drafts[("en", KEY)]["value"] == NEW_EN
        assert set(drafts) == {("en", KEY), ("es", OTHER)}


def cleared_po(content: bytes) -> bytes:
    """The PO after a translator read the entry and cleared its fuzzy mark, text unchanged."""
    assert po_entry(content, KEY).fuzzy
    return translated_po(content, KEY)


def cleared_csv(content: bytes) -> bytes:
    """The CSV after a translator read the row and emptied its spanish_needs_review cell."""
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    for row in rows:
        if row["id"] == KEY:
            assert row["spanish_needs_review"] == "yes"
            row["spanish_needs_review"] = ""
        writer.writerow(row)
    return out.getvalue().encode()


@pytest.mark.parametrize(
    ("name", "clear"),
    [
        pytest.param("es.po", cleared_po, id="po-fuzzy-mark-cleared"),
        pytest.param("catalog.csv", cleared_csv, id="csv-needs-review-emptied"),
    ],
)
def test_an_approval_in_a_file_is_a_change_a_reviewer_publishes(
    editor: Staff, redis_url: str, prefix: str, name: str, clear: Any
) -> None:
    es = spanish(editor.client, KEY)
    draft_english(editor, KEY, NEW_EN)
    assert "needs review" in editor.get(f"/staff/snippet/{KEY}").text
    approved = clear(editor.client.get(f"/staff/export/{name}").content)

    page = upload(editor, name, approved)
    assert "changes 1 text" in page.text and "nothing to change" not in page.text
    assert "reviewed against the current English" in page.text
    confirm(editor, page)

    draft = text_drafts(redis_url, prefix)[("es", KEY)]
    assert draft["value"] == es and draft["source"] == NEW_EN
    assert "needs review" not in editor.get(f"/staff/snippet/{KEY}").text
    reviewer = Staff(editor.client)
    reviewer.sign_in("rita")
    review = reviewer.get("/staff/review").text
    assert "reviewed against the current English" in review and "English changed" not in review
    assert reviewer.publish("reviewed in a file").status_code == 200
    wait_for_version(editor.client, 1)
    assert english(editor) == NEW_EN and spanish(editor.client, KEY) == es
