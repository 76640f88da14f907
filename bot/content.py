"""The content patients read: menus and snippets in each language, ready to send.

English comes from messages/en.yaml (the source); other languages from compiled gettext
catalogs in locales/<lang>/LC_MESSAGES/messages.mo, where each entry's msgctxt is the snippet
ID and its msgid the English it translates. Loading fails loudly on a missing, incomplete or
stale catalog: a patient who asked in Spanish must never silently get English.
"""

from __future__ import annotations

import hashlib
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import time
from io import BytesIO
from pathlib import Path
from typing import Any

import phonenumbers
import yaml
from babel import Locale
from babel.dates import format_time, get_day_names
from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo
from babel.messages.pofile import normalize, read_po, unescape, write_po

from bot.errors import CatalogError
from bot.models import LANGUAGES, Language, Part
from bot.sms import gsm_friendly

DOMAIN = "messages"
PLACEHOLDERS = frozenset({"program_name", "clinic_phone", "clinic_hours"})
MENU_PREFIX = "menu:"
DRUG_PART = "drug:"
CHOICE_PART = "choice:"


@dataclass(frozen=True, slots=True)
class Topic:
    id: str
    label: str  # snippet ID of the menu label
    pages: tuple[str, ...] = ()  # snippet IDs, read one per message with MORE
    menu: str | None = None  # a topic may open a submenu instead of pages


@dataclass(frozen=True, slots=True)
class Menu:
    id: str
    header: str  # snippet ID
    items: tuple[str, ...]  # topic IDs, numbered from 1


@dataclass(frozen=True, slots=True)
class Structure:
    """The menu tree from messages/menus.yaml."""

    menus: Mapping[str, Menu]
    topics: Mapping[str, Topic]

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Structure:
        menus = {
            name: Menu(name, str(spec["header"]), tuple(str(i) for i in spec["items"]))
            for name, spec in (data.get("menus") or {}).items()
        }
        topics = {
            name: Topic(
                name,
                str(spec["label"]),
                tuple(str(p) for p in spec.get("pages") or ()),
                spec.get("menu"),
            )
            for name, spec in (data.get("topics") or {}).items()
        }
        return cls(menus, topics)

    def snippet_ids(self) -> set[str]:
        used = {menu.header for menu in self.menus.values()}
        for topic in self.topics.values():
            used.add(topic.label)
            used.update(topic.pages)
        return used

    def problems(self, snippets: Iterable[str]) -> list[str]:
        """Dangling references in the menu tree."""
        known = set(snippets)
        found = [
            f"menus.yaml: snippet '{s}' does not exist" for s in sorted(self.snippet_ids() - known)
        ]
        found += [
            f"menus.yaml: '{name}' may only use letters, digits, '_' and '-'"
            for name in [*self.menus, *self.topics]
            if not name.replace("-", "_").isidentifier()
        ]
        if "main" not in self.menus:
            found.append("menus.yaml: there is no 'main' menu")
        for menu in self.menus.values():
            found += [
                f"menus.yaml: menu '{menu.id}' lists topic '{item}', which does not exist"
                for item in menu.items
                if item not in self.topics
            ]
        for topic in self.topics.values():
            if topic.menu and topic.menu not in self.menus:
                found.append(
                    f"menus.yaml: topic '{topic.id}' opens menu '{topic.menu}', "
                    "which does not exist"
                )
            if not topic.menu and not topic.pages:
                found.append(f"menus.yaml: topic '{topic.id}' has neither pages nor a menu")
        return found


@dataclass(frozen=True, slots=True)
class Source:
    """What is in messages/: the English snippets and the menu tree."""

    english: Mapping[str, str]
    structure: Structure

    @classmethod
    def load(cls, messages_dir: Path) -> Source:
        english = _read_yaml(messages_dir / "en.yaml").get("snippets") or {}
        bad = [key for key, value in english.items() if not isinstance(value, str)]
        if bad:
            raise CatalogError(
                f"en.yaml: these snippets are not text (quote them): {', '.join(bad)}"
            )
        structure = Structure.from_data(_read_yaml(messages_dir / "menus.yaml"))
        return cls(dict(english), structure)


def placeholders(text: str) -> set[str]:
    try:
        return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}
    except ValueError as exc:  # an unmatched brace
        raise CatalogError(f"bad braces in {text[:40]!r}: {exc}") from exc


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
    except Exception as exc:  # Babel raises several types for malformed files
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


@dataclass(frozen=True, slots=True)
class ClinicDetails:
    program_name: str
    clinic_phone: str
    clinic_hours: str

    def for_locale(self, locale: str) -> dict[str, str]:
        return {
            "program_name": self.program_name,
            "clinic_phone": format_phone(self.clinic_phone, locale),
            "clinic_hours": format_hours(self.clinic_hours, locale),
        }


class Content:
    """Every snippet of every language with clinic details filled in, ready to join into SMS."""

    def __init__(
        self,
        structure: Structure,
        texts: Mapping[Language, Mapping[str, str]],
        details: Mapping[Language, Mapping[str, str]],
    ):
        self.structure = structure
        self._texts: dict[Language, dict[str, str]] = {}
        for language, snippets in texts.items():
            values = details[language]
            self._texts[language] = {
                key: gsm_friendly(_fill(key, text, values)) for key, text in snippets.items()
            }
            for menu in structure.menus.values():
                self._texts[language][MENU_PREFIX + menu.id] = self._menu_text(language, menu)
        digest = hashlib.sha256()
        for language in sorted(self._texts):
            for key in sorted(self._texts[language]):
                digest.update(f"{language}\0{key}\0{self._texts[language][key]}\0".encode())
        self.version = digest.hexdigest()[:12]

    @classmethod
    def load(
        cls,
        messages_dir: Path,
        locales_dir: Path,
        details: ClinicDetails,
        locales: Mapping[Language, str],
    ) -> Content:
        source = Source.load(messages_dir)
        problems = source.structure.problems(source.english)
        if problems:
            raise CatalogError("; ".join(problems))
        texts: dict[Language, Mapping[str, str]] = {"en": source.english}
        for language in LANGUAGES:
            if language != "en":
                texts[language] = load_translation(locales_dir, language, source.english)
        per_language = {language: details.for_locale(locales[language]) for language in texts}
        return cls(source.structure, texts, per_language)

    @property
    def languages(self) -> tuple[Language, ...]:
        return tuple(self._texts)

    def text(self, language: Language, part: Part) -> str:
        return self._texts[language][part]

    def render(self, language: Language, parts: Iterable[Part]) -> str:
        return "\n".join(self._part(language, part) for part in parts)

    def _part(self, language: Language, part: Part) -> str:
        """A snippet, or one of the two parts made from data: a drug named with its class
        ("drug:checkpoint:Keytruda (pembrolizumab)") and a numbered did-you-mean choice
        ("choice:2:topic.cure.label")."""
        texts = self._texts[language]
        if part.startswith(DRUG_PART):
            drug_class, _, name = part[len(DRUG_PART) :].partition(":")
            return f"{name} {texts[f'drug.class.{drug_class}']}"
        if part.startswith(CHOICE_PART):
            number, _, label = part[len(CHOICE_PART) :].partition(":")
            return f"{number} {texts[label]}"
        return texts[part]

    def _menu_text(self, language: Language, menu: Menu) -> str:
        texts = self._texts[language]
        lines = [texts[menu.header]]
        for number, topic_id in enumerate(menu.items, start=1):
            lines.append(f"{number} {texts[self.structure.topics[topic_id].label]}")
        return "\n".join(lines)


def _fill(key: str, text: str, values: Mapping[str, str]) -> str:
    unknown = placeholders(text) - PLACEHOLDERS
    if unknown:
        raise CatalogError(f"'{key}' uses unknown placeholder(s): {', '.join(sorted(unknown))}")
    return text.format_map(values)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read: {exc}") from exc
    except yaml.YAMLError as exc:
        raise CatalogError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise CatalogError(f"{path}: expected a mapping at the top level")
    return data


# Clinic details, formatted the way each locale writes them ---------------------------------

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def format_phone(raw: str, locale: str) -> str:
    """National format when the clinic is in the locale's country, international otherwise."""
    region = Locale.parse(locale).territory or "US"
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return raw
    same_country = phonenumbers.region_code_for_number(number) in (region, None)
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if same_country
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)


def format_hours(raw: str, locale: str) -> str:
    """'Mon-Fri 08:00-17:00, Sat 09:00-12:00' in the locale's day names and clock.

    Text that does not follow that pattern is shown as written, so a clinic can always say
    something the pattern cannot express.
    """
    groups = [group.strip() for group in raw.replace(";", ",").split(",") if group.strip()]
    try:
        return ", ".join(_format_hours_group(group, locale) for group in groups)
    except ValueError:
        return raw


def parse_hours(raw: str) -> list[tuple[tuple[int, int], tuple[time, time]]]:
    """Raise ValueError when CLINIC_HOURS does not follow 'Mon-Fri 08:00-17:00[, ...]'."""
    parsed = []
    for group in raw.replace(";", ",").split(","):
        if not group.strip():
            continue
        days, _, hours = group.strip().partition(" ")
        first, _, last = days.lower().partition("-")
        start, _, end = hours.strip().partition("-")
        parsed.append(
            ((DAYS.index(first[:3]), DAYS.index((last or first)[:3])), (_clock(start), _clock(end)))
        )
    if not parsed:
        raise ValueError("no hours given")
    return parsed


def _format_hours_group(group: str, locale: str) -> str:
    ((first, last), (start, end)) = parse_hours(group)[0]
    names = get_day_names("wide", locale=locale)
    days = names[first] if first == last else f"{names[first]}-{names[last]}"
    opening = format_time(start, "short", locale=locale)
    closing = format_time(end, "short", locale=locale)
    return gsm_friendly(f"{days} {opening}-{closing}")


def _clock(text: str) -> time:
    hour, _, minute = text.strip().partition(":")
    return time(int(hour), int(minute or 0))
