"""Spreadsheets as Excel, LibreOffice and Google Sheets save them: read into rows, and written.

Excel's plain "CSV (Comma delimited)" is not UTF-8 but the computer's code page (Windows-1252
in the Americas and western Europe, Mac Roman on an old Mac), and with Spanish or other
regional settings it separates cells with semicolons. "CSV UTF-8" is UTF-8 with a byte-order
mark. An .xlsx workbook has none of these problems. All of them are read here; when a file
still cannot be read, the error says what to do in Excel, in words a nurse can act on.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from charset_normalizer import from_bytes
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from bot.console.text_input import normalize_text

EXCEL_ADVICE = (
    "In Excel, choose File > Save As and pick \u201cCSV UTF-8 (Comma delimited)\u201d "
    "or \u201cExcel Workbook (.xlsx)\u201d, then upload that file."
)
# Code pages a spreadsheet program writes a "CSV" in, besides UTF-8. Left to guess among all
# code pages, a detector takes a short Spanish text for Cyrillic or Greek now and then.
SPREADSHEET_CODE_PAGES = ["cp1252", "latin_1", "mac_roman"]
DELIMITERS = ",;\t"
MAX_ROWS = 5000  # the catalog has a few hundred texts; more is not a catalog
MAX_UNPACKED_BYTES = 20_000_000  # an .xlsx is a zip: refuse one that unpacks to far more
XLSX_MAGIC = b"PK\x03\x04"


class UnreadableSpreadsheet(ValueError):
    """The file cannot be read as a table; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class Table:
    """Rows of a file by (lower-case) column name, cells normalized as typed texts are."""

    columns: tuple[str, ...]
    rows: list[dict[str, str]]
    encoding: str  # how the file was read: "xlsx", "utf-8", "cp1252"...
    delimiter: str = ","


def read_table(raw: bytes, required: Iterable[str] = ()) -> Table:
    """A CSV (any encoding and separator a spreadsheet program writes) or an .xlsx, as rows."""
    if not raw.strip():
        raise UnreadableSpreadsheet(f"The file is empty. {EXCEL_ADVICE}")
    table = _read_xlsx(raw) if raw.startswith(XLSX_MAGIC) else _read_csv(raw)
    missing = [name for name in required if name not in table.columns]
    if missing:
        found = ", ".join(name for name in table.columns if name) or "none"
        raise UnreadableSpreadsheet(
            f"The file needs the columns {', '.join(required)} in its first row "
            f"(found: {found}). Download the file again and keep its first row as it is. "
            f"{EXCEL_ADVICE}"
        )
    return table


def decode_text(raw: bytes) -> tuple[str, str]:
    """(text, encoding) of a CSV file: UTF-8 (with or without BOM), else a code page."""
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    if b"\x00" in raw:  # UTF-16 ("Unicode Text"), or not text at all
        raise UnreadableSpreadsheet(f"This file is not a CSV text file. {EXCEL_ADVICE}")
    best = from_bytes(raw, cp_isolation=SPREADSHEET_CODE_PAGES).best()
    if best is not None:
        return str(best), best.encoding
    try:  # too little text for the detector to be sure: Excel on Windows writes this one
        return raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:
        raise UnreadableSpreadsheet(f"This file is not a CSV text file. {EXCEL_ADVICE}") from exc


def sniff_delimiter(text: str) -> str:
    """The separator of a CSV text: a comma, a semicolon (Excel with Spanish settings) or a
    tab. Excel's own "sep=;" first line is honoured; then the header row decides, as it holds
    only column names; a file without one is left to the standard library's sniffer."""
    first = text.split("\n", 1)[0].strip()
    if first.lower().startswith("sep=") and len(first) == 5:
        return first[4]
    counts = {delimiter: first.count(delimiter) for delimiter in DELIMITERS}
    if any(counts.values()):
        return max(counts, key=lambda delimiter: counts[delimiter])
    try:
        return csv.Sniffer().sniff(text[:8192], delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","


def _read_csv(raw: bytes) -> Table:
    text, encoding = decode_text(raw)
    delimiter = sniff_delimiter(text)
    if text.lstrip().lower().startswith("sep="):
        text = text.split("\n", 1)[1] if "\n" in text else ""
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as exc:
        raise UnreadableSpreadsheet(
            f"A line of the file cannot be read ({exc}). {EXCEL_ADVICE}"
        ) from exc
    return _table(rows, encoding, delimiter)


def _read_xlsx(raw: bytes) -> Table:
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
        if unpacked > MAX_UNPACKED_BYTES:
            raise UnreadableSpreadsheet("This workbook is far larger than a catalog can be.")
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        if isinstance(exc, UnreadableSpreadsheet):
            raise
        raise UnreadableSpreadsheet(
            f"This file is not an Excel workbook that can be read. {EXCEL_ADVICE}"
        ) from exc
    try:
        sheet = book.worksheets[0]
        rows = [
            ["" if value is None else str(value) for value in row]
            for row in sheet.iter_rows(max_row=MAX_ROWS + 1, values_only=True)
        ]
    finally:
        book.close()
    return _table(rows, "xlsx", "")


def _table(rows: list[list[str]], encoding: str, delimiter: str) -> Table:
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise UnreadableSpreadsheet(f"The file has no rows. {EXCEL_ADVICE}")
    if len(rows) > MAX_ROWS + 1:
        raise UnreadableSpreadsheet(f"The file has more than {MAX_ROWS} rows.")
    columns = tuple(normalize_text(cell).lower() for cell in rows[0])
    records = [
        {name: normalize_text(cell) for name, cell in zip(columns, row, strict=False) if name}
        for row in rows[1:]
    ]
    return Table(columns, records, encoding, delimiter)


def xlsx_bytes(title: str, header: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    """A workbook with one sheet: bold header row kept on screen, wrapped text, wide columns."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]  # Excel's limit for a sheet name
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    for cells in sheet.iter_rows():
        for cell in cells:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # a text, never a formula Excel would run
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index, name in enumerate(header):
        letter = get_column_letter(index + 1)
        sheet.column_dimensions[letter].width = 60 if name in ("english", "spanish") else 24
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
