"""Reading gettext files: paths, PO and MO, and the PO files gettext tools accept.

Babel's `write_po` wraps a fuzzy entry's previous English (`#| msgid`) like a comment, breaking
lines inside its quotes, and its reader does not parse `#|` back: `po_bytes` and
`restore_previous` make the round trip what GNU gettext does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo
from babel.messages.pofile import PoFileError, normalize, read_po, unescape, write_po

from bot.errors import CatalogError

DOMAIN = "messages"


def po_path(locales_dir: Path, language: str) -> Path:
    return locales_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(locales_dir: Path, language: str) -> Path:
    return locales_dir / language / "LC_MESSAGES" / f"{DOMAIN}.mo"


def translations_by_id(catalog: Catalog) -> dict[str, tuple[str, str, bool]]:
    """snippet ID -> (English it translates, translation, fuzzy?) for every entry with a context."""
    return {
        message.context: (str(message.id), str(message.string or ""), message.fuzzy)
        for message in catalog
        if message.id and message.context
    }


def read_po_file(path: Path) -> Catalog:
    try:
        with path.open("rb") as handle:
            return restore_previous(read_po(handle, abort_invalid=True))
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read: {exc}") from exc
    except (PoFileError, ValueError) as exc:  # ValueError: not UTF-8, a bad plural header
        raise CatalogError(f"{path}: not a valid PO file: {exc}") from exc


PO_WIDTH = 76

QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')


def po_bytes(catalog: Catalog) -> bytes:
    """The catalog as a PO file that gettext tools (Poedit, msgfmt) accept.

    Babel wraps a fuzzy entry's previous English (`#| msgid`) like a comment, breaking lines
    inside its quotes, which gettext rejects. So it is written here, as gettext writes it.
    """
    buffer = BytesIO()
    write_po(buffer, catalog, width=PO_WIDTH, include_previous=False, sort_output=False)
    previous = {
        f"msgctxt {normalize(m.context, width=PO_WIDTH)}": _previous_lines(m.previous_id[0])
        for m in catalog
        if m.id and m.context and m.previous_id
    }
    lines = []
    for line in buffer.getvalue().decode("utf-8").split("\n"):
        lines += previous.get(line, [])
        lines.append(line)
    return "\n".join(lines).encode("utf-8")


def _previous_lines(english: str) -> list[str]:
    first, *rest = normalize(english, width=PO_WIDTH).split("\n")
    return [f"#| msgid {first}", *(f"#| {line}" for line in rest)]


def restore_previous(catalog: Catalog) -> Catalog:
    """Babel reads `#| msgid "..."` (the English a fuzzy translation was written for) as a
    comment; written again it would become a `# | msgid` comment that piles up. Turn it back
    into the message's previous ID, which po_bytes writes as `#|` again."""
    for message in catalog:
        previous = [c[1:].strip() for c in message.user_comments if c.startswith("|")]
        if not previous:
            continue
        message.user_comments = [c for c in message.user_comments if not c.startswith("|")]
        # Lines may have been wrapped anywhere (older files): rejoin, then read the quoted
        # pieces that follow `msgid`.
        joined = " ".join(previous)
        if "msgid " in joined and not message.previous_id:
            text = joined.split("msgid ", 1)[1].split(" msgid_plural ")[0]
            pieces = QUOTED.findall(text)
            message.previous_id = ["".join(unescape(f'"{piece}"') for piece in pieces)]
    return catalog


def load_translation(
    locales_dir: Path, language: str, english: Mapping[str, str]
) -> dict[str, str]:
    """The compiled translations for one language, refused when missing, stale or incomplete."""
    mo = mo_path(locales_dir, language)
    if not mo.is_file():
        raise CatalogError(f"{mo} is missing: run `smsbot catalog compile`")
    with mo.open("rb") as handle:
        compiled = translations_by_id(read_mo(handle))
    po = po_path(locales_dir, language)
    if po.is_file():
        source = {
            key: (msgid, text, False)
            for key, (msgid, text, fuzzy) in translations_by_id(read_po_file(po)).items()
            if text and not fuzzy
        }
        if source != compiled:
            raise CatalogError(f"{mo} is older than {po.name}: run `smsbot catalog compile`")
    problems = []
    for key, text in english.items():
        msgid, translated, _ = compiled.get(key, ("", "", False))
        if not translated:
            problems.append(f"'{key}' has no {language} translation")
        elif msgid != text:
            problems.append(f"'{key}': the English changed since it was translated")
    if problems:
        raise CatalogError(
            f"{language} catalog is not ready: {'; '.join(problems[:5])}"
            + (f" (and {len(problems) - 5} more)" if len(problems) > 5 else "")
            + ". Run `smsbot catalog check` for details."
        )
    return {key: compiled[key][1] for key in english}
