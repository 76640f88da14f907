"""Cells of the catalog CSV that a spreadsheet would not run.

Translators open `catalog.csv` in Excel or LibreOffice. A cell that starts with `=`, `+`, `-`
or `@` (or a full-width form of one, or a TAB or CR before it) is read there as a formula: an
editor's draft such as `=HYPERLINK("http://…"&D2,"click")` would leak the cells beside it, and
`@SUM(…)|cmd` would offer to run a program. Such a cell is written with a leading `'`, which
spreadsheets read as "this is text". Reading the file back removes exactly that one `'`, so a
download followed by an upload changes nothing, whatever the texts start with.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
TEXT_MARK = "'"


def _looks_like_formula(cell: str) -> bool:
    # Also a cell that already starts with marks: one more keeps the round trip exact.
    return cell.lstrip(TEXT_MARK).startswith(FORMULA_STARTS)


def neutralize(cell: str) -> str:
    """The cell as written into the CSV."""
    return TEXT_MARK + cell if _looks_like_formula(cell) else cell


def restore(cell: str) -> str:
    """The cell as it was before `neutralize` (a spreadsheet that dropped the mark is fine)."""
    if cell.startswith(TEXT_MARK) and _looks_like_formula(cell):
        return cell[len(TEXT_MARK) :]
    return cell
