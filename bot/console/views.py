"""What the pages show: where a snippet appears, the overview's rows, the live preview."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from bot import readability
from bot.catalog.check import measure_replies
from bot.catalog.model import MENU_PREFIX, CatalogData, Structure, Translation
from bot.console.deps import Console
from bot.console.drafts import Change, cell
from bot.console.index import Entry, labelled_shapes, search, topic_index
from bot.console.versions import Candidate, Version
from bot.console.wording import budget_warning, changed_words
from bot.errors import CatalogError, PreviewError
from bot.models import ENGLISH, LANGUAGES, SPANISH
from bot.router import reply_shapes
from bot.sms import BUDGET, measure, non_gsm_characters

LANGUAGE_NAMES: dict[str, str] = {ENGLISH: "English", SPANISH: "Spanish"}


# What a nurse filters the catalog by: (name shown, test on a row's cells)
FILTERS: dict[str, str] = {
    "drafts": "Drafts",
    "review": "Needs review",
    "over": "Over budget",
    "due": "Review due",
    "missing": "Missing",
}
REPLIES = "replies"  # the topic filter for menus and the bot's own replies
FILTER_FLAGS = {"drafts": "draft", "review": "review", "over": "over", "due": "stale"}


def flagged(row: dict[str, Any], show: str) -> bool:
    cells = row["cells"].values()
    return any(cell[FILTER_FLAGS.get(show, show)] for cell in cells)


def find(
    entries: list[Entry],
    topic_names: list[tuple[str, str]],
    groups_of_rows: list[dict[str, Any]],
    query: str = "",
    show: str = "",
    topic: str = "",
) -> dict[str, Any]:
    """The catalog page: a search, a filter or a topic chosen, and the topic index."""
    cells = {row["key"]: row for group in groups_of_rows for row in group["rows"]}
    show = show if show in FILTERS else ""
    counts = {name: sum(flagged(row, name) for row in cells.values()) for name in FILTERS}
    found, understood = search(entries, query) if query.strip() else (entries, "")
    chosen = [e for e in found if in_topic(e, topic)]
    if show:
        chosen = [e for e in chosen if flagged(cells[e.key], show)]
    listing = bool(query.strip() or show or topic)
    topics = [
        {"id": topic_id, "name": name, "texts": sum(in_topic(e, topic_id) for e in entries)}
        for topic_id, name in topic_names
    ]
    topics.append(
        {
            "id": REPLIES,
            "name": "Menus and replies",
            "texts": sum(in_topic(e, REPLIES) for e in entries),
        }
    )
    return {
        "query": query,
        "understood": understood if understood != " ".join(query.lower().split()) else "",
        "show": show,
        "topic": topic,
        "counts": counts,
        "topics": topics,
        "results": [{"entry": e, **cells[e.key]} for e in chosen] if listing else [],
        "listing": listing,
    }


def in_topic(entry: Entry, topic: str) -> bool:
    """No topic chosen, or `entry` is shown in it; REPLIES: the texts outside any topic."""
    if topic == REPLIES:
        return not entry.topics
    return not topic or topic in entry.topics


def groups(structure: Structure, keys: list[str]) -> Iterator[tuple[str, str, list[str]]]:
    """(title, topic, snippets) by menu and topic, in menu order; the rest under 'Replies'."""
    seen: set[str] = set()
    for menu in structure.menus.values():
        for topic_id in menu.items:
            topic = structure.topics[topic_id]
            members = [topic.label, *topic.pages]
            seen.update(members)
            yield f"{menu.id} menu > {topic_id}", topic_id, members
    rest = [key for key in keys if key not in seen]
    yield "Menus and replies", "", rest


def snippet_rows(
    console: Console,
    published: CatalogData,
    candidate: CatalogData,
    changes: list[Change],
    history: list[Version],
) -> list[dict[str, Any]]:
    over = over_budget(console, published)
    changed_at = last_changed(history)
    drafted = {(c.language, c.key) for c in changes if c.kind == "text"}
    stale_before = time.time() - console.review_max_age_days * 86400
    result = []
    for title, topic, keys in groups(console.structure, list(published.english)):
        rows = []
        for key in keys:
            cells = {}
            for language in LANGUAGES:
                text = (
                    published.english.get(key, "")
                    if language == ENGLISH
                    else published.translations.get(SPANISH, {}).get(key, Translation("", "")).text
                )
                at = changed_at.get((language, key))
                cells[language] = {
                    "text": text,
                    "missing": not text.strip(),
                    # From the drafts too: an English draft already makes its Spanish stale.
                    "review": language != ENGLISH and candidate.needs_review(language, key),
                    "over": (language, key) in over,
                    "draft": (language, key) in drafted,
                    "reviewed": console.when(at[1]) if at else "in the files",
                    "version": at[0] if at else 0,
                    "stale": bool(at and at[1] < stale_before),
                }
            rows.append({"key": key, "cells": cells})
        result.append({"title": title, "topic": topic, "rows": rows})
    return result


def review_rows(console: Console, found: Candidate) -> list[dict[str, Any]]:
    """Each change with its draft, its name as staff say it and the words it changes."""
    titles = {entry.key: entry.title for entry in console.index(found.data)}
    names = dict(topic_index(console.structure, found.data.english))
    rows = []
    for change in found.changes:
        if change.kind == "keywords":
            field, title = (
                f"k|{change.key}|{change.language}",
                f"Words that open {names.get(change.key, change.key)}",
            )
        else:
            field, title = f"t|{change.language}|{change.key}", titles.get(change.key, change.key)
        draft = json.loads(found.drafts.get(field, "{}"))
        rows.append(
            {
                "change": change,
                "field": field,
                "title": title,
                "language": LANGUAGE_NAMES.get(change.language, change.language),
                "runs": changed_words(change.before, change.after),
                "who": draft.get("who", ""),
                "returned": draft.get("returned"),
            }
        )
    return rows


def over_budget(console: Console, data: CatalogData) -> set[tuple[str, str]]:
    """(language, snippet) pairs that take part in a reply over the SMS budget."""
    content = console.content_for(data)
    over: set[tuple[str, str]] = set()
    shapes = dict(reply_shapes(console.structure))
    for line in measure_replies(content):
        if line.characters > BUDGET.characters or line.segments > BUDGET.segments:
            for key in snippets_in(console.structure, shapes[line.name]):
                over.add((line.language, key))
    return over


def snippets_in(structure: Structure, parts: tuple[str, ...]) -> list[str]:
    keys = []
    for part in parts:
        if part.startswith(MENU_PREFIX):
            menu = structure.menus[part.removeprefix(MENU_PREFIX)]
            keys.append(menu.header)
            keys.extend(structure.topics[item].label for item in menu.items)
        else:
            keys.append(part)
    return keys


def last_changed(history: list[Version]) -> dict[tuple[str, str], tuple[int, float]]:
    """(language, snippet) -> (version, time) of the last publish that changed it."""
    found: dict[tuple[str, str], tuple[int, float]] = {}
    for version in history:  # newest first
        for change in version.changes:
            if change.get("kind") == "text":
                found.setdefault((change["language"], change["key"]), (version.number, version.at))
    return found


def preview_of(
    console: Console, candidate: CatalogData, key: str, language: str, text: str
) -> dict[str, Any]:
    """Every SMS this snippet takes part in, as the patient will get it, measured."""
    english = dict(candidate.english)
    translations = {lang: dict(entries) for lang, entries in candidate.translations.items()}
    if language == ENGLISH:
        english[key] = text
    else:
        translations.setdefault(language, {})[key] = Translation(text, english[key])
    try:
        content = console.content_for(CatalogData(english, translations, candidate.keywords))
    except (CatalogError, ValueError) as exc:  # an unknown placeholder, a stray brace or spec
        raise PreviewError(str(exc)) from exc
    messages: list[dict[str, Any]] = []
    by_text: dict[str, dict[str, Any]] = {}
    for label, parts in labelled_shapes(console.structure, english):
        if key not in snippets_in(console.structure, parts):
            continue
        sms = content.render(language, parts)  # type: ignore[arg-type]
        if sms in by_text:  # the same SMS in two topics: one bubble naming both (B9)
            by_text[sms]["name"] += f" · {label}"
            continue
        cost = measure(sms)
        by_text[sms] = {
            "name": label,
            "text": sms,
            "characters": cost.characters,
            "encoding": cost.encoding,
            "segments": cost.segments,
            "over": BUDGET.over(cost),
            "runs": runs(sms),
        }
        messages.append(by_text[sms])
    score = readability.score(content.text(language, key), language)  # type: ignore[arg-type]
    return {
        "messages": messages,
        "ucs2": list(non_gsm_characters(text)),
        "reading": str(score),
        "reading_ok": score.meets_target,
    }


def runs(text: str) -> list[list[Any]]:
    """The text in pieces, each marked when its characters force UCS-2 (for highlighting).
    Linear: each piece's characters are collected, then joined once."""
    offenders = set(non_gsm_characters(text))
    pieces: list[list[Any]] = []
    current: list[str] = []
    flagged = False
    for char in text:
        if current and (char in offenders) != flagged:
            pieces.append(["".join(current), flagged])
            current = []
        flagged = char in offenders
        current.append(char)
    if current:
        pieces.append(["".join(current), flagged])
    return pieces


def too_long(console: Console, data: CatalogData, key: str) -> list[str]:
    """In words, every SMS with this text that the catalog check would refuse to publish."""
    found: list[str] = []
    for language in LANGUAGES:
        try:
            result = preview_of(console, data, key, language, cell(data, language, key))
        except PreviewError:
            continue  # the preview says what is wrong
        for message in result.get("messages", []):
            name = f"{LANGUAGE_NAMES[language]}, {message['name']}"
            sentence = budget_warning(message["text"], name) if message["over"] else None
            if sentence and sentence not in found:
                found.append(sentence)
    return found
