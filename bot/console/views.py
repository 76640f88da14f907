"""What the pages show: where a snippet appears, the overview's rows, the live preview."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from bot import readability
from bot.catalog.check import measure_replies
from bot.catalog.model import MENU_PREFIX, CatalogData, Structure, Translation
from bot.console.deps import Console
from bot.console.drafts import Change
from bot.errors import CatalogError, PreviewError
from bot.router import reply_shapes
from bot.sms import measure, non_gsm_characters

LANGUAGE_NAMES = {"en": "English", "es": "Spanish"}


def describe(structure: Structure, key: str) -> str:
    for menu in structure.menus.values():
        if menu.header == key:
            return f"Header of the {menu.id} menu"
    for topic in structure.topics.values():
        if topic.label == key:
            return f"Menu label of {topic.id}"
        if key in topic.pages:
            number = topic.pages.index(key) + 1
            return f"{topic.id}, page {number} of {len(topic.pages)}"
    return "A reply the bot sends on its own (help, stop, emergency...)"


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
    history: list[Any],
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
            for language in ("en", "es"):
                text = (
                    published.english.get(key, "")
                    if language == "en"
                    else published.translations.get("es", {}).get(key, Translation("", "")).text
                )
                at = changed_at.get((language, key))
                cells[language] = {
                    "text": text,
                    "missing": not text.strip(),
                    # From the drafts too: an English draft already makes its Spanish stale.
                    "review": language != "en" and candidate.needs_review(language, key),
                    "over": (language, key) in over,
                    "draft": (language, key) in drafted,
                    "reviewed": when(at[1]) if at else "in the files",
                    "version": at[0] if at else 0,
                    "stale": bool(at and at[1] < stale_before),
                }
            rows.append({"key": key, "cells": cells})
        result.append({"title": title, "topic": topic, "rows": rows})
    return result


def over_budget(console: Console, data: CatalogData) -> set[tuple[str, str]]:
    """(language, snippet) pairs that take part in a reply over 320 characters or 3 SMS."""
    content = console.content_for(data)
    over = set()
    shapes = dict(reply_shapes(console.structure))
    for line in measure_replies(content):
        if line.characters > 320 or line.segments > 3:
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


def last_changed(history: list[Any]) -> dict[tuple[str, str], tuple[int, float]]:
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
    if language == "en":
        english[key] = text
    else:
        translations.setdefault(language, {})[key] = Translation(text, english[key])
    try:
        content = console.content_for(CatalogData(english, translations, candidate.keywords))
    except (CatalogError, ValueError) as exc:  # an unknown placeholder, a stray brace or spec
        raise PreviewError(str(exc)) from exc
    messages = []
    for name, parts in reply_shapes(console.structure):
        if key in snippets_in(console.structure, parts):
            sms = content.render(language, parts)  # type: ignore[arg-type]
            cost = measure(sms)
            messages.append(
                {
                    "name": name,
                    "text": sms,
                    "characters": cost.characters,
                    "encoding": cost.encoding,
                    "segments": cost.segments,
                    "over": cost.characters > 320 or cost.segments > 3,
                    "runs": runs(sms),
                }
            )
    score = readability.score(content.text(language, key), language)  # type: ignore[arg-type]
    return {
        "messages": messages,
        "ucs2": list(non_gsm_characters(text)),
        "reading": str(score),
        "reading_ok": score.meets_target,
    }


def runs(text: str) -> list[list[Any]]:
    """The text in pieces, each marked when its characters force UCS-2 (for highlighting)."""
    offenders = set(non_gsm_characters(text))
    pieces: list[list[Any]] = []
    for char in text:
        flagged = char in offenders
        if pieces and pieces[-1][1] == flagged:
            pieces[-1][0] += char
        else:
            pieces.append([char, flagged])
    return pieces


def when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")
