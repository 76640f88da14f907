"""The catalog as files staff exchange with translators: CSV for spreadsheets, PO for Poedit and
Weblate. Pure: bytes in, catalog out (ImportFileError when a file cannot be imported)."""

from __future__ import annotations

import csv
import io

from babel.messages.catalog import Catalog
from babel.messages.pofile import PoFileError, read_po

from bot.catalog.model import CatalogData, Structure, Translation
from bot.catalog.po import DOMAIN, po_bytes
from bot.console import spreadsheet
from bot.console.drafts import Change, cell, older
from bot.console.index import build_index
from bot.console.spreadsheets import UnreadableSpreadsheet, read_table, xlsx_bytes
from bot.console.text_input import normalize_text, same_text
from bot.errors import ImportFileError
from bot.models import ENGLISH, SPANISH

SPREADSHEET_COLUMNS = ("id", "where", "english", "spanish", "spanish_needs_review")


def spreadsheet_rows(structure: Structure, data: CatalogData) -> list[list[str]]:
    """One row per text, in menu order, named as on the catalog page; a cell a spreadsheet
    would run as a formula is neutralized (read back by `from_csv`)."""
    rows = []
    for entry in build_index(structure, data):
        es = data.translations.get(SPANISH, {}).get(entry.key, Translation("", ""))
        review = "yes" if data.needs_review(SPANISH, entry.key) else ""
        row = [entry.key, entry.label, data.english[entry.key], es.text, review]
        rows.append([spreadsheet.neutralize(value) for value in row])
    return rows


def to_csv(structure: Structure, data: CatalogData) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(SPREADSHEET_COLUMNS)
    writer.writerows(spreadsheet_rows(structure, data))
    return out.getvalue()


def to_xlsx(structure: Structure, data: CatalogData) -> bytes:
    return xlsx_bytes("catalog", SPREADSHEET_COLUMNS, spreadsheet_rows(structure, data))


def from_csv(
    base: CatalogData, published: CatalogData, raw: bytes
) -> tuple[CatalogData, list[Change]]:
    """`base` with the texts of the file (CSV as Excel saves it, or .xlsx), and the drafts kept
    where the file is older."""
    try:
        table = read_table(raw, required=("id", "english", "spanish"))
    except UnreadableSpreadsheet as exc:  # it says what to do in Excel
        raise ImportFileError(str(exc)) from exc
    rows = [
        {
            name: spreadsheet.restore(value) if isinstance(value, str) else value
            for name, value in row.items()
        }
        for row in table.rows
    ]
    english = dict(base.english)
    spanish = dict(base.translations.get(SPANISH, {}))
    kept: list[Change] = []
    for row in rows:
        key = row["id"].strip()
        if key not in english:
            raise ImportFileError(f"unknown snippet id '{key}'")
        text = row["english"]
        if same_text(text, base.english[key]):
            continue
        if older(published, base, ENGLISH, key, text):
            kept.append(Change("text", ENGLISH, key, base.english[key], text))
        else:
            english[key] = text
    for row in rows:
        key, text = row["id"].strip(), row["spanish"]
        if same_text(text, cell(base, SPANISH, key)):
            if (
                reviewed(row)
                and base.needs_review(SPANISH, key)
                and same_text(row["english"], base.english[key])
            ):
                spanish[key] = Translation(text, row["english"])
            continue
        if older(published, base, SPANISH, key, text):
            kept.append(Change("text", SPANISH, key, cell(base, SPANISH, key), text))
        else:
            # Against the English in the same row: the English the translator read.
            spanish[key] = Translation(text, row["english"])
    data = CatalogData(
        english, {**base.translations, SPANISH: spanish}, base.keywords, base.examples
    )
    return data, kept


def to_po(data: CatalogData, language: str) -> bytes:
    catalog = Catalog(locale=language, domain=DOMAIN, project="smsbot", fuzzy=False)
    for key, text in data.english.items():
        entry = data.translations.get(language, {}).get(key)
        fuzzy = data.needs_review(language, key)
        catalog.add(
            text,
            entry.text if entry else "",
            context=key,
            flags=("fuzzy",) if fuzzy else (),
            previous_id=entry.source if entry and fuzzy else (),
        )
    return po_bytes(catalog)


def reviewed(row: dict[str, str]) -> bool:
    """The row's needs-review cell is there and empty (or "no"): the Spanish was read against
    the English beside it. Without the column, nothing is said about review."""
    flag = row.get("spanish_needs_review")
    return flag is not None and flag.strip().lower() in ("", "no")


def from_po(
    base: CatalogData, published: CatalogData, raw: bytes, language: str
) -> tuple[CatalogData, list[Change]]:
    """`base` with the translations of the file, and the drafts kept where the file is older."""
    try:
        catalog = read_po(io.BytesIO(raw), abort_invalid=True)
    except (PoFileError, ValueError) as exc:  # ValueError: not UTF-8, a bad header
        raise ImportFileError(f"not a valid PO file: {exc}") from exc
    entries = dict(base.translations.get(language, {}))
    kept: list[Change] = []
    for message in catalog:
        if not (message.id and message.context):
            continue
        key = message.context
        if key not in base.english:
            raise ImportFileError(f"unknown snippet id '{key}'")
        if str(message.id) != base.english[key]:
            raise ImportFileError(
                f"'{key}': the English in the file is not the current English: "
                "download the file again"
            )
        old = entries.get(key)
        text = normalize_text(str(message.string or ""))
        if message.fuzzy:
            continue  # a translator's unfinished work is not imported
        if older(published, base, language, key, text):
            kept.append(Change("text", language, key, cell(base, language, key), text))
        elif old is None or old.text != text or base.needs_review(language, key):
            entries[key] = Translation(text, base.english[key])
    data = CatalogData(
        base.english, {**base.translations, language: entries}, base.keywords, base.examples
    )
    return data, kept
