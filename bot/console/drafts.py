"""Drafts as pure functions over catalogs: applying them, what they change, and uploads.

No I/O here: bot/console/versions.py reads and writes the drafts, the routes decide.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.catalog.model import CatalogData, Translation
from bot.models import ENGLISH, ChangeKind


@dataclass(frozen=True, slots=True)
class Change:
    kind: ChangeKind
    language: str
    key: str  # snippet ID or topic
    before: str
    after: str


def parse_drafts(raw: Mapping[str, str]) -> dict[tuple[str, str, str], dict[str, Any]]:
    drafts = {}
    for field, value in raw.items():
        kind, first, second = field.split("|", 2)
        drafts[(kind, first, second)] = json.loads(value)
    return drafts


def apply_drafts(
    published: CatalogData, drafts: dict[tuple[str, str, str], dict[str, Any]]
) -> tuple[CatalogData, list[Change]]:
    english = dict(published.english)
    translations = {lang: dict(entries) for lang, entries in published.translations.items()}
    keywords = json.loads(json.dumps(published.keywords))
    examples = json.loads(json.dumps(published.examples))
    changes: list[Change] = []
    for (kind, first, second), draft in sorted(drafts.items()):
        if kind == "t" and first == ENGLISH and draft["value"] != english.get(second):
            changes.append(Change("text", ENGLISH, second, english.get(second, ""), draft["value"]))
            english[second] = draft["value"]
    for (kind, first, second), draft in sorted(drafts.items()):
        if kind == "t" and first != ENGLISH:
            before = translations.get(first, {}).get(second)
            # Against the English it was written for: a later English edit flags it for review.
            source = draft.get("source", english.get(second, ""))
            after = Translation(draft["value"], source, False)
            if before != after:
                changes.append(
                    Change("text", first, second, before.text if before else "", after.text)
                )
                translations.setdefault(first, {})[second] = after
        elif kind == "k":
            topic, language = first, second
            entry = keywords.setdefault("topics", {}).setdefault(topic, {})
            before_words = entry.get(language, [])
            if list(draft["value"]) != list(before_words):
                changes.append(
                    Change(
                        "keywords",
                        language,
                        topic,
                        ", ".join(before_words),
                        ", ".join(draft["value"]),
                    )
                )
                entry[language] = list(draft["value"])
        elif kind == "x":
            changes += _example_change(examples, first, second, list(draft["value"]))
    return CatalogData(english, translations, keywords, examples), changes


def _example_change(
    examples: dict[str, Any], topic: str, language: str, questions: list[str]
) -> list[Change]:
    """A topic's example questions in one language, drafted like its keywords."""
    entry = examples.setdefault("topics", {}).setdefault(topic, {})
    before = list(entry.get(language) or [])
    if questions == before:
        return []
    entry[language] = questions
    removed = [q for q in before if q not in questions]
    added = [q for q in questions if q not in before]
    # A topic has dozens of examples: the review shows the ones taken out and put in.
    return [Change("examples", language, topic, "; ".join(removed), "; ".join(added))]


def on_files(snapshot: CatalogData, files: CatalogData, topics: frozenset[str]) -> CatalogData:
    """A published snapshot applied on the catalog in the files of this deployment.

    The files decide which snippets and topics exist: a page or topic added by a deploy is
    served from the files until staff publish a new wording. The snapshot decides the wording
    of the snippets it has (English and translations together, so they stay a pair) and the
    words of the topics it has. Every other list in keywords.yaml (commands, opt-out words and
    phrases, emergency phrases, language hints) comes from the files only: the console does not
    edit them, and an emergency or opt-out phrase added by a deploy must never be lost to an
    older snapshot.
    """

    def source(key: str) -> CatalogData:
        return snapshot if key in snapshot.english else files

    english = {key: source(key).english[key] for key in files.english}
    translations = {
        language: {
            key: entry
            for key in files.english
            if (entry := source(key).translations.get(language, {}).get(key)) is not None
        }
        for language in files.translations
    }
    file_topics = files.keywords.get("topics") or {}
    published_topics = snapshot.keywords.get("topics") or {}
    keywords = {
        **files.keywords,
        "topics": {
            **file_topics,
            **{topic: words for topic, words in published_topics.items() if topic in topics},
        },
    }
    file_examples = files.examples.get("topics") or {}
    published_examples = snapshot.examples.get("topics") or {}
    examples = {
        "topics": {
            **file_examples,
            **{t: e for t, e in published_examples.items() if t in file_examples},
        }
    }
    return CatalogData(english, translations, keywords, examples)


def diff(before: CatalogData, after: CatalogData) -> list[Change]:
    changes = [
        Change("text", ENGLISH, key, before.english.get(key, ""), text)
        for key, text in after.english.items()
        if before.english.get(key) != text
    ]
    for language, entries in after.translations.items():
        for key, entry in entries.items():
            old = before.translations.get(language, {}).get(key)
            if old is None or old.text != entry.text or approved(before, after, language, key):
                changes.append(Change("text", language, key, old.text if old else "", entry.text))
    return changes


def approved(before: CatalogData, after: CatalogData, language: str, key: str) -> bool:
    """The translation needed review and now stands reviewed: a change even with the same text
    (a fuzzy mark cleared in Poedit, a needs-review cell emptied in a spreadsheet)."""
    entry = after.translations.get(language, {}).get(key)
    unchanged = entry == before.translations.get(language, {}).get(key)
    return (
        not unchanged
        and before.needs_review(language, key)
        and not after.needs_review(language, key)
    )


def cell(data: CatalogData, language: str, key: str) -> str:
    if language == ENGLISH:
        return data.english.get(key, "")
    entry = data.translations.get(language, {}).get(key)
    return entry.text if entry else ""


def older(
    published: CatalogData, candidate: CatalogData, language: str, key: str, text: str
) -> bool:
    """The file has the published text where a draft has changed it since: a file made before
    that draft. The draft stays; a file never takes a text back without anyone noticing."""
    now = cell(candidate, language, key)
    return text != now and text == cell(published, language, key)


def cells(imported: CatalogData, changes: list[Change]) -> CatalogData:
    """Only the texts an upload changes, to be applied on the catalog as it is when confirmed."""
    english = {c.key: imported.english[c.key] for c in changes if c.language == ENGLISH}
    translations: dict[str, dict[str, Translation]] = {}
    for change in changes:
        if change.language != ENGLISH:
            entry = imported.translations[change.language][change.key]
            translations.setdefault(change.language, {})[change.key] = entry
    return CatalogData(english, translations, {})


def overlay(base: CatalogData, texts: CatalogData) -> CatalogData:
    english = {**base.english, **{k: v for k, v in texts.english.items() if k in base.english}}
    translations = {language: dict(entries) for language, entries in base.translations.items()}
    for language, entries in texts.translations.items():
        translations.setdefault(language, {}).update(
            {key: entry for key, entry in entries.items() if key in base.english}
        )
    return CatalogData(english, translations, base.keywords, base.examples)


def restore_changes(before: CatalogData, after: CatalogData) -> list[Change]:
    """Everything a restore changes: the texts and each topic's keywords."""
    return diff(before, after) + keyword_changes(before, after)


def keyword_changes(before: CatalogData, after: CatalogData) -> list[Change]:
    old, new = before.keywords.get("topics") or {}, after.keywords.get("topics") or {}
    changes = []
    for topic in new:
        for language in sorted(set(new[topic] or {}) | set(old.get(topic) or {})):
            was = list((old.get(topic) or {}).get(language) or [])
            now = list((new[topic] or {}).get(language) or [])
            if was != now:
                changes.append(Change("keywords", language, topic, ", ".join(was), ", ".join(now)))
    return changes
