"""Bounds on what a staff member can hand the server, so that no staff action slows the
webhook: a reply is at most 320 characters, so a text of a few hundred more is a typo, and a
text of megabytes is an attack on the event loop that also answers patients."""

from __future__ import annotations

from collections.abc import Iterable

MAX_TEXT = 1000  # characters in one snippet, in any language
MAX_KEYWORDS = 60  # per topic and language
MAX_KEYWORD = 60  # characters in one keyword


def text_problem(text: str) -> str | None:
    if len(text) > MAX_TEXT:
        return f"a text may have at most {MAX_TEXT} characters (a reply is at most 320)"
    return None


def keywords_problem(words: list[str]) -> str | None:
    if len(words) > MAX_KEYWORDS:
        return f"at most {MAX_KEYWORDS} keywords per topic and language"
    if any(len(word) > MAX_KEYWORD for word in words):
        return f"a keyword may have at most {MAX_KEYWORD} characters"
    return None


def first_text_problem(texts: Iterable[tuple[str, str]]) -> str | None:
    """The first (snippet, text) over the limit, said so that a translator can find it."""
    for key, text in texts:
        problem = text_problem(text)
        if problem:
            return f"'{key}': {problem}"
    return None
