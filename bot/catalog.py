"""Catalog tools for the people who keep the content: update, check, compile.

- update:  English source (messages/en.yaml) -> messages/messages.pot, merged into every
           locales/<lang>/LC_MESSAGES/messages.po. A snippet whose English changed keeps its old
           translation marked fuzzy, with the previous English shown, so it needs a review.
- check:   everything that would make a patient get a wrong, missing or too long message.
- compile: PO -> MO for the app, refused while check finds errors.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import yaml
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo

from bot import readability
from bot.content import (
    DOMAIN,
    OPTIONAL_PLACEHOLDERS,
    PLACEHOLDERS,
    ClinicDetails,
    Content,
    Source,
    Structure,
    mo_path,
    optional_placeholder_problems,
    parse_hours,
    placeholders,
    po_bytes,
    po_path,
    read_po_file,
)
from bot.errors import CatalogError
from bot.keywords import Keywords
from bot.models import LANGUAGES, Language
from bot.provenance import Provenance
from bot.router import reply_shapes
from bot.sms import measure

MAX_CHARACTERS = 320
MAX_SEGMENTS = 3
TRANSLATED = tuple(language for language in LANGUAGES if language != "en")


@dataclass(frozen=True, slots=True)
class Line:
    """One SMS the bot can send, measured."""

    name: str
    language: Language
    characters: int
    encoding: str
    segments: int
    score: str
    ucs2: tuple[str, ...]


@dataclass
class Report:
    lines: list[Line] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


# -- update -----------------------------------------------------------------------------------


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
        notes[page] = f"{'; '.join(where)}.{more}"
        notes[page] = notes[page][0].upper() + notes[page][1:]
    for key in source.english:
        for name in OPTIONAL_PLACEHOLDERS:
            original = key.removesuffix(f".no_{name}")
            if original != key:
                notes[key] = f"Sent instead of '{original}' while {name.upper()} is not set."
    return notes


HEADER_COMMENT = """\
# Translation of the smsbot SMS information line.
# msgctxt is the snippet ID; msgid is the English in messages/en.yaml.
# Each reply: at most 320 characters and 3 SMS segments. A reply with á, í, ó
# or ú is sent as UCS-2, so then at most 201 characters (67 per segment).
# Keep {program_name}, {clinic_phone}, {clinic_hours}, {after_hours_phone} and
# {financial_counselor_phone} exactly as they are.
#"""


def template(source: Source) -> Catalog:
    notes = describe(source)
    pot = Catalog(domain=DOMAIN, project="smsbot", fuzzy=False)
    for key, text in source.english.items():
        pot.add(text, context=key, auto_comments=[notes[key]] if key in notes else [])
    return pot


def merge(po: Catalog, pot: Catalog) -> tuple[Catalog, list[str]]:
    """The PO brought in line with the template, and what changed, for the person running it."""
    existing = {m.context: m for m in po if m.id and m.context}
    merged = Catalog(locale=po.locale, domain=DOMAIN, header_comment=po.header_comment, fuzzy=False)
    merged.mime_headers = po.mime_headers
    changes = []
    for new in pot:
        if not new.id:
            continue
        old: Message | None = existing.pop(new.context, None)
        if old is None:
            merged.add(new.id, "", context=new.context, auto_comments=new.auto_comments)
            changes.append(f"added {new.context} (needs a translation)")
            continue
        english_changed = old.id != new.id
        # The English the translation was written for: kept through further English edits.
        written_for = old.previous_id if old.fuzzy and old.previous_id else [old.id]
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
        merged.obsolete[(old.id, key)] = old
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


# -- check ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Translation:
    text: str
    source: str  # the English it translates (the PO msgid)
    fuzzy: bool = False


@dataclass
class CatalogData:
    """Everything staff can change: the English, the translations and the topic keywords.

    The files in messages/ and locales/ hold one; the staff console publishes others.
    """

    english: dict[str, str]
    translations: dict[str, dict[str, Translation]]  # language -> snippet ID -> translation
    keywords: dict[str, Any]  # the whole of keywords.yaml; staff edit `topics`

    def needs_review(self, language: str, key: str) -> bool:
        entry = self.translations.get(language, {}).get(key)
        return entry is not None and (entry.fuzzy or entry.source != self.english.get(key))

    def texts(self, language: str) -> dict[str, str]:
        if language == "en":
            return dict(self.english)
        return {key: entry.text for key, entry in self.translations.get(language, {}).items()}

    def to_json(self) -> dict[str, Any]:
        return {
            "english": self.english,
            "translations": {
                language: {key: [t.text, t.source, t.fuzzy] for key, t in entries.items()}
                for language, entries in self.translations.items()
            },
            "keywords": self.keywords,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CatalogData:
        return cls(
            dict(data["english"]),
            {
                language: {key: Translation(*value) for key, value in entries.items()}
                for language, entries in data["translations"].items()
            },
            data["keywords"],
        )


def load_data(messages_dir: Path, locales_dir: Path) -> CatalogData:
    """The catalog as the files hold it. Raises CatalogError when a file cannot be read."""
    source = Source.load(messages_dir)
    keywords = yaml.safe_load((messages_dir / "keywords.yaml").read_text(encoding="utf-8"))
    translations: dict[str, dict[str, Translation]] = {}
    for language in TRANSLATED:
        path = po_path(locales_dir, language)
        if not path.is_file():
            raise CatalogError(f"{language}: {path} is missing: run `smsbot catalog update`")
        translations[language] = {
            message.context: Translation(str(message.string or ""), str(message.id), message.fuzzy)
            for message in read_po_file(path)
            if message.id and message.context
        }
    return CatalogData(dict(source.english), translations, keywords)


def check(
    messages_dir: Path,
    locales_dir: Path,
    details: ClinicDetails,
    locales: Mapping[Language, str],
) -> Report:
    """Check the catalog in the files."""
    try:
        structure = Source.load(messages_dir).structure
        data = load_data(messages_dir, locales_dir)
    except (CatalogError, OSError, yaml.YAMLError) as exc:
        report = Report()
        report.errors.append(str(exc))
        return report
    report = check_data(data, structure, details, locales)
    _check_provenance(messages_dir, structure, data.english, report)
    return report


def _check_provenance(
    messages_dir: Path, structure: Structure, english: Mapping[str, str], report: Report
) -> None:
    """Sources and clinical review of every page (messages/sources.yaml)."""
    try:
        provenance = Provenance.load(messages_dir)
    except CatalogError as exc:
        report.errors.append(str(exc))
        return
    pages = {page for topic in structure.topics.values() for page in topic.pages}
    listed = set(provenance.pages) & set(english)  # replies that state facts may be listed too
    found = provenance.findings(pages | listed, datetime.now(UTC).date())
    report.errors += found.errors
    report.warnings += found.warnings


def check_data(
    data: CatalogData,
    structure: Structure,
    details: ClinicDetails,
    locales: Mapping[Language, str],
) -> Report:
    """Everything that would give a patient a wrong, missing or too long message."""
    report = Report()
    source = Source(data.english, structure)
    try:
        keywords = Keywords.from_data(data.keywords)
    except CatalogError as exc:
        report.errors.append(str(exc))
        return report
    report.errors += structure.problems(source.english)
    report.errors += _keyword_problems(keywords, source)
    report.errors += optional_placeholder_problems(source.english)
    for key, text in source.english.items():
        if not text.strip():
            report.errors.append(f"en: '{key}' is empty")
        unknown = _placeholders_or_error(text, f"en: '{key}'", report) - PLACEHOLDERS
        if unknown:
            report.errors.append(f"en: '{key}' uses unknown placeholder(s) {sorted(unknown)}")
    texts: dict[Language, dict[str, str]] = {"en": dict(source.english)}
    for language in TRANSLATED:
        entries = data.translations.get(language, {})
        texts[language] = _check_translation(language, entries, source.english, report)
    if not _parses(details.clinic_hours):
        report.warnings.append(
            f"CLINIC_HOURS {details.clinic_hours!r} is not like 'Mon-Fri 08:00-17:00', "
            "so it is shown as written"
        )
    if report.errors and any("does not exist" in e for e in report.errors):
        return report  # rendering needs a complete menu tree
    _measure_all(source, texts, details, locales, report)
    return report


def _check_translation(
    language: Language,
    entries: Mapping[str, Translation],
    english: Mapping[str, str],
    report: Report,
) -> dict[str, str]:
    usable: dict[str, str] = {}
    for key, text in english.items():
        entry = entries.get(key)
        where = f"{language}: '{key}'"
        if entry is None:
            report.errors.append(f"{where} is missing: run `smsbot catalog update`")
        elif not entry.text.strip():
            report.errors.append(f"{where} has no translation")
        elif entry.fuzzy:
            report.errors.append(f"{where} needs review (fuzzy): the English changed")
        elif entry.source != text:
            report.errors.append(f"{where}: the English changed; run `smsbot catalog update`")
        if entry is not None and entry.text:
            ours = _placeholders_or_error(entry.text, where, report)
            theirs = _placeholders_or_error(text, f"en: '{key}'", report)
            if ours != theirs:
                report.errors.append(
                    f"{where}: placeholders {sorted(ours)} differ from English {sorted(theirs)}"
                )
            usable[key] = entry.text
        else:
            usable[key] = text  # measured in English so the rest of the report still renders
    extra = sorted(set(entries) - set(english))
    if extra:
        report.warnings.append(f"{language}: entries not in the English source: {', '.join(extra)}")
    return usable


def _measure_all(
    source: Source,
    texts: Mapping[Language, Mapping[str, str]],
    details: ClinicDetails,
    locales: Mapping[Language, str],
    report: Report,
) -> None:
    try:
        content = Content(
            source.structure,
            texts,
            {language: details.for_locale(locales[language]) for language in texts},
        )
    except (CatalogError, KeyError) as exc:
        report.errors.append(f"cannot render the catalog: {exc}")
        return
    for language in content.languages:
        emergency = content.text(language, "reply.emergency")
        if "911" not in emergency.split(".")[0]:
            report.errors.append(f"{language}: 'reply.emergency' must say to call 911 first")
    report.lines = measure_replies(content, with_scores=True)
    report.errors += budget_problems(report.lines)
    report.errors += _other_case_problems(source, texts, details.flipped(), locales)


def _other_case_problems(
    source: Source,
    texts: Mapping[Language, Mapping[str, str]],
    details: ClinicDetails,
    locales: Mapping[Language, str],
) -> list[str]:
    """Budgets with each optional number (AFTER_HOURS_PHONE ...) set the other way."""
    other = Content(
        source.structure,
        texts,
        {language: details.for_locale(locales[language]) for language in texts},
    )
    case = ", ".join(
        f"{name} {'set' if value else 'unset'}"
        for name, value in (
            ("AFTER_HOURS_PHONE", details.after_hours_phone),
            ("FINANCIAL_COUNSELOR_PHONE", details.financial_counselor_phone),
        )
    )
    return [f"{problem} (with {case})" for problem in budget_problems(measure_replies(other))]


def measure_replies(content: Content, with_scores: bool = False) -> list[Line]:
    """Every SMS the bot can send, in every language, as it will travel."""
    lines = []
    for language in content.languages:
        for name, parts in reply_shapes(content.structure):
            text = content.render(language, parts)
            cost = measure(text)
            score = str(readability.score(text, language)) if with_scores else ""
            lines.append(
                Line(
                    name,
                    language,
                    cost.characters,
                    cost.encoding,
                    cost.segments,
                    score,
                    cost.ucs2_characters,
                )
            )
    return lines


def budget_problems(lines: list[Line]) -> list[str]:
    return [
        f"{line.language}: '{line.name}' is {line.characters} characters, {line.segments} "
        f"{line.encoding} segments (limit {MAX_CHARACTERS} and {MAX_SEGMENTS})"
        for line in lines
        if line.characters > MAX_CHARACTERS or line.segments > MAX_SEGMENTS
    ]


def _keyword_problems(keywords: Keywords, source: Source) -> list[str]:
    problems = [
        f"keywords.yaml: '{word}' is reserved for opt-out/help and cannot be a keyword of '{topic}'"
        for topic, word in keywords.reserved_topic_words()
    ]
    problems += [
        f"keywords.yaml: topic '{topic}' is not in menus.yaml"
        for topic in sorted(keywords.topic_names() - set(source.structure.topics))
    ]
    return problems


def _placeholders_or_error(text: str, where: str, report: Report) -> set[str]:
    try:
        return placeholders(text)
    except CatalogError as exc:
        report.errors.append(f"{where}: {exc}")
        return set()


def _parses(hours: str) -> bool:
    try:
        parse_hours(hours)
    except ValueError:
        return False
    return True


# -- compile ----------------------------------------------------------------------------------


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
