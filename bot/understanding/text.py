"""Words as the matchers see them: folded, respelled, split into sentences, stemmed."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import Stemmer
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from bot.errors import CatalogError
from bot.keywords import normalize
from bot.models import Language

SENTENCE_BREAK = re.compile(r"[.!?;,\n]+|\s-\s|\s+but\s+|\s+pero\s+", re.IGNORECASE)
MAX_TOKENS = 60  # a pasted essay is read by its beginning


class Respeller:
    """SMS spelling and common misspellings, replaced before matching ("q es" -> "que es")."""

    def __init__(self, spelling: Mapping[str, str]):
        pairs = {normalize(k): normalize(str(v)) for k, v in spelling.items() if normalize(k)}
        self._words = {k: v.split() for k, v in pairs.items() if " " not in k}
        self._phrases: dict[str, list[tuple[tuple[str, ...], list[str]]]] = {}
        for phrase, replacement in sorted(
            ((tuple(k.split()), v.split()) for k, v in pairs.items() if " " in k),
            key=lambda pair: -len(pair[0]),  # longest first
        ):
            self._phrases.setdefault(phrase[0], []).append((phrase, replacement))

    def tokens(self, normalized: str) -> list[str]:
        words = normalized.split()[:MAX_TOKENS]
        joined = self._join_phrases(words) if self._phrases else words
        out: list[str] = []
        for word in joined:
            out.extend(self._words.get(word, (word,)))
        return out

    def _join_phrases(self, words: list[str]) -> list[str]:
        out: list[str] = []
        index = 0
        while index < len(words):
            for phrase, replacement in self._phrases.get(words[index], ()):
                if tuple(words[index : index + len(phrase)]) == phrase:
                    out.extend(replacement)
                    index += len(phrase)
                    break
            else:
                out.append(words[index])
                index += 1
        return out


def sentences(text: str) -> list[tuple[str, bool]]:
    """The message cut at punctuation and "but" (a negation reaches only its own sentence),
    each with whether it ended with a question mark."""
    found: list[tuple[str, bool]] = []
    position = 0
    for cut in [*SENTENCE_BREAK.finditer(text), None]:
        end = cut.start() if cut else len(text)
        part = normalize(text[position:end])
        if part:
            found.append((part, bool(cut and "?" in cut.group())))
        position = cut.end() if cut else end
    return found


_STEMMERS = {"en": Stemmer.Stemmer("english"), "es": Stemmer.Stemmer("spanish")}


@lru_cache(maxsize=50_000)
def stem(word: str, language: Language) -> str:
    """Snowball stem (PyStemmer, in C) of a folded word; short words stay as they are."""
    if len(word) <= 3 or word.isdigit():
        return word
    return str(_STEMMERS[language].stemWord(word))


def read_word_data(path: Path) -> dict[str, Any]:
    """A word-data file with every value read as text: to YAML, a bare `no` or `yes` is a
    boolean, and a nurse adding "no" to a list must get the word."""
    try:
        data = YAML(typ="base").load(path.read_text(encoding="utf-8"))  # every scalar a string
    except (OSError, YAMLError) as exc:
        raise CatalogError(f"{path}: cannot read: {exc}") from exc
    if not isinstance(data, dict):
        raise CatalogError(f"{path}: expected a mapping at the top level")
    return data
