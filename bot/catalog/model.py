"""The catalog as data: the menu tree, the texts staff can change, and the placeholders they use.

Imports nothing but errors and models, so the pure router can use the menu tree without pulling in
file formats, Babel or YAML.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.errors import CatalogError

# Numbers a clinic may not have. A snippet that gives one has a sibling snippet,
# '<its ID>.no_<placeholder>', that says what to do instead; it is sent while the setting is
# empty, so no patient ever reads a blank where a phone number should be.
OPTIONAL_PLACEHOLDERS = frozenset({"after_hours_phone", "financial_counselor_phone"})
PLACEHOLDERS = (
    frozenset({"program_name", "clinic_phone", "clinic_hours", "callback_when"})
    | OPTIONAL_PLACEHOLDERS
)
# Filled when the reply is sent, not when the catalog is loaded: kept as written until then.
LATE_PLACEHOLDERS = {"callback_when": "{callback_when}"}


MENU_PREFIX = "menu:"


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


def placeholders(text: str) -> set[str]:
    try:
        return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}
    except ValueError as exc:  # an unmatched brace
        raise CatalogError(f"bad braces in {text[:40]!r}: {exc}") from exc


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
    examples: dict[str, Any] = field(default_factory=dict)  # examples.yaml: example questions

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
            "examples": self.examples,
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
            data.get("examples") or {},  # versions published before examples had none
        )


def without(key: str, placeholder: str) -> str:
    """The snippet sent instead of `key` while the clinic has no `placeholder` number."""
    return f"{key}.no_{placeholder}"


def optional_placeholder_problems(english: Mapping[str, str]) -> list[str]:
    """Snippets giving an optional number must have a text for when it is not set."""
    problems = []
    for key, text in english.items():
        used = sorted(placeholders(text) & OPTIONAL_PLACEHOLDERS)
        if len(used) > 1:
            problems.append(f"en: '{key}' may give only one of {used}: split it")
        for name in used:
            fallback = english.get(without(key, name))
            if fallback is None:
                problems.append(
                    f"en: '{key}' uses {{{name}}}: add '{without(key, name)}', "
                    "the text sent while that number is not set"
                )
            elif name in placeholders(fallback):
                problems.append(f"en: '{without(key, name)}' may not use {{{name}}}")
    return problems


def chosen_text(key: str, text: str, snippets: Mapping[str, str], values: Mapping[str, str]) -> str:
    """The snippet's text, or its fallback when it gives an optional number that is not set."""
    for name in sorted(placeholders(text) & OPTIONAL_PLACEHOLDERS):
        if not values.get(name):
            return snippets.get(without(key, name), text)
    return text
