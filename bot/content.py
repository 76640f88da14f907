"""The content patients read: menus and snippets in each language, ready to send.

English comes from messages/en.yaml (the source); other languages from compiled gettext
catalogs in locales/<lang>/LC_MESSAGES/messages.mo, where each entry's msgctxt is the snippet
ID and its msgid the English it translates. Loading fails loudly on a missing, incomplete or
stale catalog: a patient who asked in Spanish must never silently get English.
"""

from __future__ import annotations

import hashlib
import string
from collections.abc import Iterable, Mapping
from pathlib import Path

from bot.catalog.files import Source
from bot.catalog.model import (
    LATE_PLACEHOLDERS,
    MENU_PREFIX,
    PLACEHOLDERS,
    Menu,
    Structure,
    chosen_text,
    placeholders,
)
from bot.catalog.po import load_translation
from bot.clinic import ClinicDetails
from bot.errors import CatalogError
from bot.models import LANGUAGES, Language, Part
from bot.sms import gsm_friendly

DRUG_PART = "drug:"  # a drug named with its class: "drug:checkpoint:Keytruda (pembrolizumab)"
CHOICE_PART = "choice:"  # a numbered did-you-mean line: "choice:2:topic.cure.label"


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
                key: gsm_friendly(_fill(key, chosen_text(key, text, snippets, values), values))
                for key, text in snippets.items()
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
    # Only bare {name}: a format spec such as {clinic_phone:>640000} would pad a reply to any
    # length (and stall the process that answers patients while it does).
    for _, field, spec, conversion in string.Formatter().parse(text):
        if field is not None and (spec or conversion):
            raise CatalogError(f"'{key}': write placeholders as {{{field}}}, with nothing after")
    return text.format_map({**LATE_PLACEHOLDERS, **values})
