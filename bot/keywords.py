"""Turn what a patient typed into an intent, using the word lists in messages/keywords.yaml.

Pure and fast: the lists are compiled once; matching a message does no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.errors import CatalogError
from bot.models import LANGUAGES, Language

EXACT_ONLY = frozenset({"stop", "start", "forget"})  # words that must be spelled right
SENTENCE_COMMANDS = ("english", "spanish")  # commands also spotted inside a sentence
SENTENCE_FALLBACK = ("help", "more", "menu")  # ...only when no topic is in the sentence
RESERVED = frozenset(
    "stop stopall unsubscribe cancel end quit revoke optout start yes unstop help info "
    "alto parar cancelar baja inicio comenzar ayuda".split()
)
MAX_SENTENCE_TOKENS = 40  # intent spotting looks at a short message, not a pasted essay
MIN_FUZZY_IN_SENTENCE = (
    6  # shorter words inside a sentence must be spelled right ("care" is not "cure")
)

NUMBER = re.compile(r"^(?:(?:option|opcion|number|numero|num|no|n)\s*)?(\d{1,3})$")


def normalize(text: str) -> str:
    """Fold case and accents, drop punctuation: 'TÍPOS!' and ' tipos ' both become 'tipos'."""
    decomposed = unicodedata.normalize("NFKD", text)
    no_marks = "".join(c for c in decomposed if not unicodedata.combining(c))
    folded = no_marks.casefold().replace("'", "").replace("\u2019", "")
    return " ".join(re.sub(r"[\W_]+", " ", folded).split())


def allowed_typos(length: int) -> int:
    """Edits forgiven for a word of this length (transpositions count once)."""
    if length <= 3:
        return 0
    if length <= 7:
        return 1
    return 2


@dataclass(frozen=True, slots=True)
class Match:
    """What a message asks for. `kind` is 'command', 'topic', 'number' or 'emergency'."""

    kind: str
    name: str = ""
    number: int = 0
    language: Language | None = None  # the language the matched words belong to, if only one


@dataclass(frozen=True, slots=True)
class _Alias:
    kind: str
    name: str
    language: Language | None
    tokens: int


class Keywords:
    """Compiled keyword lists. Build with `Keywords.load(path)` or `Keywords.from_data(mapping)`."""

    def __init__(
        self,
        aliases: Mapping[str, _Alias],
        emergency: Mapping[str, Language | None],
        opt_out: Mapping[str, Language | None],
        common: Iterable[str],
        hints: Mapping[Language, Iterable[str]],
    ):
        self._aliases = dict(aliases)
        self._emergency = _Phrases(emergency)
        self._opt_out = _Phrases(opt_out)
        self._hints = {language: frozenset(words) for language, words in hints.items()}
        self._common = frozenset(common)
        self._fuzzy_choices = [
            a for a, info in self._aliases.items() if info.name not in EXACT_ONLY
        ]
        self._sentence_choices: dict[int, list[str]] = {}
        for alias, info in self._aliases.items():
            spotted = info.kind == "topic" or info.name in SENTENCE_COMMANDS + SENTENCE_FALLBACK
            if spotted and alias not in self._common:
                self._sentence_choices.setdefault(info.tokens, []).append(alias)

    @classmethod
    def load(cls, path: Path) -> Keywords:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise CatalogError(f"{path}: cannot read keywords: {exc}") from exc
        return cls.from_data(data, source=str(path))

    @classmethod
    def from_data(cls, data: Mapping[str, Any], source: str = "keywords") -> Keywords:
        by_alias: dict[str, tuple[str, str, set[str]]] = {}
        for kind, section in (
            ("command", data.get("commands", {})),
            ("topic", data.get("topics", {})),
        ):
            for name, per_language in section.items():
                for language in LANGUAGES:
                    for word in per_language.get(language, []) or []:
                        if isinstance(word, bool) or not isinstance(word, str | int):
                            raise CatalogError(
                                f"{source}: {name}/{language}: {word!r} is not a word; "
                                "put it in quotes"
                            )
                        alias = normalize(str(word))
                        if not alias:
                            continue
                        known = by_alias.setdefault(alias, (kind, name, set()))
                        if (known[0], known[1]) != (kind, name):
                            raise CatalogError(
                                f"{source}: '{word}' is listed for both {known[1]} and {name}"
                            )
                        known[2].add(language)
        aliases = {
            alias: _Alias(kind, name, _only(languages), len(alias.split()))
            for alias, (kind, name, languages) in by_alias.items()
        }
        common = {normalize(str(w)) for w in data.get("common_words", []) or []}
        hints = {
            language: {
                normalize(str(w)) for w in (data.get("language_hints", {}).get(language) or [])
            }
            for language in LANGUAGES
        }
        return cls(
            aliases,
            _phrase_languages(data.get("emergency")),
            _phrase_languages(data.get("opt_out_phrases")),
            common,
            hints,
        )

    def topic_names(self) -> set[str]:
        return {a.name for a in self._aliases.values() if a.kind == "topic"}

    def reserved_topic_words(self) -> list[tuple[str, str]]:
        """(topic, word) pairs that use a carrier-reserved word; catalog check refuses them."""
        return sorted(
            (a.name, alias)
            for alias, a in self._aliases.items()
            if a.kind == "topic" and alias in RESERVED
        )

    def language_hint(self, text: str) -> Language | None:
        """The language whose everyday words the text uses most, if one clearly leads."""
        tokens = normalize(text).split()[:MAX_SENTENCE_TOKENS]
        counts = {lang: sum(t in words for t in tokens) for lang, words in self._hints.items()}
        ranked = sorted(counts.items(), key=lambda item: item[1], reverse=True)
        if ranked and ranked[0][1] > 0 and (len(ranked) == 1 or ranked[0][1] > ranked[1][1]):
            return ranked[0][0]
        return None

    def match(self, text: str) -> Match | None:
        """The intent of a message, or None when nothing in it is clear enough to act on."""
        normalized = normalize(text)
        if not normalized:
            return None
        tokens = normalized.split()
        phrase = self._emergency.find(tokens)
        if phrase is not None:
            return Match("emergency", language=self._emergency.language(phrase))
        exact = self._aliases.get(normalized)
        if exact is not None:
            return _as_match(exact)
        number = NUMBER.match(normalized)
        if number:
            return Match("number", number=int(number.group(1)))
        phrase = self._opt_out.find(tokens)
        if phrase is not None:
            return Match("command", "stop", language=self._opt_out.language(phrase))
        return self._fuzzy_whole(normalized) or self._in_sentence(tokens[:MAX_SENTENCE_TOKENS])

    def _fuzzy_whole(self, normalized: str) -> Match | None:
        limit = allowed_typos(len(normalized))
        if limit == 0:
            return None
        found = process.extract(
            normalized, self._fuzzy_choices, scorer=OSA.distance, score_cutoff=limit, limit=None
        )
        if not found:
            return None
        best = min(distance for _, distance, _ in found)
        winners = {self._key(alias) for alias, distance, _ in found if distance == best}
        if len(winners) != 1:  # two intents equally close: asking again beats guessing
            return None
        alias = next(alias for alias, distance, _ in found if distance == best)
        return _as_match(self._aliases[alias])

    def _in_sentence(self, tokens: list[str]) -> Match | None:
        hits: list[tuple[int, int, int, str]] = []  # (-tokens, fallback?, position, alias)
        for size, choices in self._sentence_choices.items():
            for start in range(len(tokens) - size + 1):
                window = " ".join(tokens[start : start + size])
                alias = window if window in self._aliases and window in choices else None
                if alias is None and len(window) >= MIN_FUZZY_IN_SENTENCE:
                    alias = _closest(window, choices)
                if alias is not None:
                    fallback = int(self._aliases[alias].name in SENTENCE_FALLBACK)
                    hits.append((fallback, -size, start, alias))
        if not hits:
            return None
        return _as_match(self._aliases[min(hits)[3]])

    def _key(self, alias: str) -> tuple[str, str]:
        info = self._aliases[alias]
        return info.kind, info.name


def _only(languages: set[str]) -> Language | None:
    if len(languages) == 1:
        (language,) = languages
        return language  # type: ignore[return-value]
    return None


def _as_match(alias: _Alias) -> Match:
    return Match(alias.kind, alias.name, language=alias.language)


def _closest(window: str, choices: list[str]) -> str | None:
    found = process.extractOne(
        window, choices, scorer=OSA.distance, score_cutoff=allowed_typos(len(window))
    )
    return found[0] if found else None


class _Phrases:
    """Phrases searched for anywhere in a message, however long: safety and the law beat speed."""

    def __init__(self, phrases: Mapping[str, Language | None]):
        self._languages = dict(phrases)  # phrase -> its language, if only one
        self._choices = list(self._languages)
        self._sizes = sorted({len(p.split()) for p in self._languages}, reverse=True)

    def language(self, phrase: str) -> Language | None:
        return self._languages[phrase]

    def find(self, tokens: list[str]) -> str | None:
        """The first phrase in the message, longest phrases first, allowing small typos."""
        for size in self._sizes:
            for start in range(len(tokens) - size + 1):
                window = " ".join(tokens[start : start + size])
                phrase = window if window in self._languages else None
                if phrase is None and len(window) >= MIN_FUZZY_IN_SENTENCE:
                    phrase = _closest(window, self._choices)
                if phrase is not None:
                    return phrase
        return None


def _phrase_languages(section: Mapping[str, Any] | None) -> dict[str, Language | None]:
    languages_of: dict[str, set[str]] = {}
    for language in LANGUAGES:
        for word in (section or {}).get(language, []) or []:
            phrase = normalize(str(word))
            if phrase:
                languages_of.setdefault(phrase, set()).add(language)
    return {phrase: _only(languages) for phrase, languages in languages_of.items()}
