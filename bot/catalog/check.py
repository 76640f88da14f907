"""The catalog check: everything that would give a patient a wrong, missing or too long message.

Used by `smsbot catalog check` and `compile`, by the staff console before a publish, and by
every worker before it serves a published version.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bot import readability
from bot.catalog.files import Source, load_data
from bot.catalog.model import (
    PLACEHOLDERS,
    CatalogData,
    Structure,
    Translation,
    optional_placeholder_problems,
    placeholders,
)
from bot.catalog.provenance import Provenance
from bot.clinic import ClinicDetails, parse_hours
from bot.content import Content
from bot.errors import CatalogError
from bot.keywords import Keywords
from bot.models import TRANSLATED, Language
from bot.router import reply_shapes
from bot.sms import BUDGET, measure

MAX_CHARACTERS = BUDGET.characters  # names the console's wording helpers use
MAX_SEGMENTS = BUDGET.segments


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
    except (CatalogError, OSError) as exc:
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
    pages = provenance.checked_pages(structure, english)
    found = provenance.findings(pages, datetime.now(UTC).date())
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
        f"{line.encoding} segments (limit {BUDGET.characters} and {BUDGET.segments})"
        for line in lines
        if line.characters > BUDGET.characters or line.segments > BUDGET.segments
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
