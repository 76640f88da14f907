"""Catalog tools for the people who keep the content: update and compile.

- update:  English source (messages/en.yaml) -> messages/messages.pot, merged into every
           locales/<lang>/LC_MESSAGES/messages.po. A snippet whose English changed keeps its old
           translation marked fuzzy, with the previous English shown, so it needs a review.
- compile: PO -> MO for the app (the command refuses while the check finds errors).
The check itself is in bot/catalog/check.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo

from bot.catalog.check import Report
from bot.catalog.files import Source
from bot.catalog.model import OPTIONAL_PLACEHOLDERS
from bot.catalog.po import DOMAIN, mo_path, po_bytes, po_path, read_po_file
from bot.models import LANGUAGES, TRANSLATED
from bot.sms import BUDGET, UCS2_PART


def describe(source: Source) -> dict[str, str]:
    """A note for translators on where each snippet appears."""
    notes: dict[str, str] = {}
    for menu in source.structure.menus.values():
        notes[menu.header] = f"Header of the '{menu.id}' menu; numbered topic labels follow."
    places: dict[str, list[str]] = {}
    followed: set[str] = set()  # pages that 'hint.more' follows in at least one topic
    for topic in source.structure.topics.values():
        notes[topic.label] = f"Menu label of topic '{topic.id}'. Keep it very short."
        for number, page in enumerate(topic.pages, start=1):
            places.setdefault(page, []).append(
                f"topic '{topic.id}', page {number} of {len(topic.pages)}"
            )
            if number < len(topic.pages):
                followed.add(page)
    for page, where in places.items():
        more = " 'hint.more' is added below it." if page in followed else ""
        note = f"{'; '.join(where)}.{more}"
        notes[page] = note[0].upper() + note[1:]
    for key in source.english:
        for name in OPTIONAL_PLACEHOLDERS:
            original = key.removesuffix(f".no_{name}")
            if original != key:
                notes[key] = f"Sent instead of '{original}' while {name.upper()} is not set."
    return notes


HEADER_COMMENT = (
    "# Translation of the smsbot SMS information line.\n"
    "# msgctxt is the snippet ID; msgid is the English in messages/en.yaml.\n"
    f"# Each reply: at most {BUDGET.characters} characters and {BUDGET.segments} SMS segments."
    " A reply with á, í, ó\n"
    f"# or ú is sent as UCS-2, so then at most {BUDGET.segments * UCS2_PART} characters"
    f" ({UCS2_PART} per segment).\n"
    "# Keep {program_name}, {clinic_phone}, {clinic_hours}, {after_hours_phone} and\n"
    "# {financial_counselor_phone} exactly as they are.\n"
    "#"
)


def template(source: Source) -> Catalog:
    notes = describe(source)
    pot = Catalog(domain=DOMAIN, project="smsbot", fuzzy=False)
    for key, text in source.english.items():
        pot.add(text, context=key, auto_comments=[notes[key]] if key in notes else [])
    return pot


def merge(po: Catalog, pot: Catalog) -> tuple[Catalog, list[str]]:
    """The PO brought in line with the template, and what changed, for the person running it."""
    existing = {str(m.context): m for m in po if m.id and m.context}
    merged = Catalog(locale=po.locale, domain=DOMAIN, header_comment=po.header_comment, fuzzy=False)
    merged.mime_headers = po.mime_headers
    changes = []
    for new in pot:
        if not new.id:
            continue
        old: Message | None = existing.pop(new.context or "", None)
        if old is None:
            merged.add(new.id, "", context=new.context, auto_comments=new.auto_comments)
            changes.append(f"added {new.context} (needs a translation)")
            continue
        english_changed = old.id != new.id
        # The English the translation was written for: kept through further English edits.
        written_for = list(old.previous_id) if old.fuzzy and old.previous_id else [str(old.id)]
        flags = set(old.flags)
        if english_changed and old.string:
            flags.add("fuzzy")
            changes.append(f"{new.context}: English changed, translation marked for review")
        merged.add(
            new.id,
            old.string,
            context=new.context,
            auto_comments=new.auto_comments,
            user_comments=old.user_comments,
            flags=flags,
            previous_id=written_for if english_changed else old.previous_id,
        )
    for key, old in existing.items():
        merged.obsolete[(str(old.id), key)] = old
        changes.append(f"{key}: no longer in the English source, kept as obsolete")
    return merged, changes


def update(messages_dir: Path, locales_dir: Path) -> list[str]:
    source = Source.load(messages_dir)
    pot = template(source)
    _write_po(messages_dir / f"{DOMAIN}.pot", pot)
    changes = []
    for language in TRANSLATED:
        path = po_path(locales_dir, language)
        po = (
            read_po_file(path)
            if path.is_file()
            else Catalog(locale=language, domain=DOMAIN, header_comment=HEADER_COMMENT)
        )
        merged, changed = merge(po, pot)
        _write_po(path, merged)
        changes += [f"{language}: {change}" for change in changed]
    return changes


def _write_po(path: Path, catalog: Catalog) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(po_bytes(catalog))


def compile_catalogs(locales_dir: Path) -> list[Path]:
    """Write a .mo beside each .po (translated, non-fuzzy entries, as msgfmt does)."""
    written = []
    for language in TRANSLATED:
        po = read_po_file(po_path(locales_dir, language))
        target = mo_path(locales_dir, language)
        buffer = BytesIO()
        write_mo(buffer, po, use_fuzzy=False)
        target.write_bytes(buffer.getvalue())
        written.append(target)
    return written


def summary(report: Report) -> Iterator[str]:
    for language in LANGUAGES:
        lines = [line for line in report.lines if line.language == language]
        if lines:
            longest = max(lines, key=lambda line: (line.segments, line.characters))
            yield (
                f"{language}: {len(lines)} replies, max {longest.segments} segments "
                f"({longest.name}, {longest.characters} chars {longest.encoding})"
            )
