"""Turn what a patient typed into an intent, using the word lists in messages/keywords.yaml.

Pure and fast: the lists are compiled once into indexes; matching a message does no I/O and
costs about the same however long the lists grow.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Generic, TypeVar

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.errors import CatalogError
from bot.models import LANGUAGES, Language, MatchKind

EXACT_ONLY = frozenset({"stop", "start", "forget"})  # words that must be spelled right
# Commands also spotted inside a sentence ("can a nurse call me?")
SENTENCE_COMMANDS = ("english", "spanish", "nurse")
MENTIONABLE = ("nurse",)  # commands that still count beside an emergency (see `mentions`)
SENTENCE_FALLBACK = ("help", "more", "menu")  # ...only when no topic is in the sentence
RESERVED = frozenset(
    "stop stopall unsubscribe cancel end quit revoke optout start yes unstop help info "
    "alto parar cancelar baja inicio comenzar ayuda".split()
)
MAX_SENTENCE_TOKENS = 40  # intent spotting looks at a short message, not a pasted essay
MAX_WHOLE_MESSAGE_TOKENS = 5  # a typo'd keyword is a short message
MIN_FUZZY_IN_SENTENCE = 5  # shorter words inside a sentence must be spelled right: care != cure
MIN_FUZZY_ALONE = 4  # a keyword texted alone may have a typo from four letters up: sied, tyeps

NUMBER = re.compile(r"^(?:(?:option|opcion|number|numero|num|no|n)\s*)?(\d{1,3})$")
NOT_WORD = re.compile(r"[\W_]+")
V = TypeVar("V")


def normalize(text: str) -> str:
    """Fold case and accents, drop punctuation: 'TÍPOS!' and ' tipos ' both become 'tipos'."""
    if not text.isascii():  # most texts are: no accent to take apart (a third of the cost)
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in decomposed if not unicodedata.combining(c))
    folded = text.casefold().replace("'", "").replace("\u2019", "")
    return " ".join(NOT_WORD.sub(" ", folded).split())


def allowed_typos(length: int) -> int:
    """Edits forgiven for a word of this length (transpositions count once)."""
    if length <= 3:
        return 0
    if length <= 7:
        return 1
    return 2


@dataclass(frozen=True, slots=True)
class Match:
    """What a message asks for."""

    kind: MatchKind
    name: str = ""
    number: int = 0
    language: Language | None = None  # the language the matched words belong to, if only one


@dataclass(frozen=True, slots=True)
class _Alias:
    kind: MatchKind
    name: str
    language: Language | None


class _Readings(tuple[str, ...]):
    """Words a token may stand for, closest first; `in` is a set lookup."""

    def __new__(cls, words: tuple[str, ...]) -> _Readings:
        readings = super().__new__(cls, words)
        readings._set = frozenset(words)  # type: ignore[attr-defined]
        return readings

    def __contains__(self, word: object) -> bool:
        return word in self._set  # type: ignore[attr-defined]


class PhraseIndex(Generic[V]):
    """Finds listed phrases inside a message, forgiving typos word by word.

    Each word of the message is compared once against the vocabulary of all phrases (one
    rapidfuzz call), then phrases are followed from their first word. The cost depends on the
    message, hardly on how many phrases there are.
    """

    def __init__(self, phrases: Mapping[str, V], min_fuzzy: int):
        self._values = {tuple(phrase.split()): value for phrase, value in phrases.items()}
        self._by_first: dict[str, list[tuple[str, ...]]] = {}
        for words in sorted(self._values, key=len, reverse=True):  # longest phrase first
            self._by_first.setdefault(words[0], []).append(words)
        vocabulary = sorted({word for words in self._values for word in words})
        self._known = frozenset(vocabulary)
        self._by_length: dict[int, list[str]] = {}  # an edit changes a length by at most one
        for word in vocabulary:
            self._by_length.setdefault(len(word), []).append(word)
        self._min_fuzzy = min_fuzzy
        # Per index, so a catalog replaced by a publish takes its cache with it.
        self._readings = lru_cache(maxsize=20_000)(self._closest_words)

    def find(self, tokens: list[str]) -> list[tuple[int, int, V]]:
        """Every (position, length in words, value) found, in message order."""
        readings = [self._readings(token) for token in tokens]
        found = []
        for start, first_words in enumerate(readings):
            for first in first_words:  # the closest reading first: an exact word wins
                for words in self._by_first.get(first, ()):
                    end = start + len(words)
                    if end <= len(tokens) and all(
                        words[offset] in readings[start + offset] for offset in range(1, len(words))
                    ):
                        found.append((start, len(words), self._values[words]))
        return found

    def first(self, tokens: list[str]) -> V | None:
        found = self.find(tokens)
        return found[0][2] if found else None

    def _closest_words(self, token: str) -> _Readings:
        """The vocabulary words this token may stand for, closest first."""
        limit = allowed_typos(len(token))
        if len(token) < self._min_fuzzy or limit == 0:
            return _Readings((token,) if token in self._known else ())
        nearby = [
            word
            for length in range(len(token) - limit, len(token) + limit + 1)
            for word in self._by_length.get(length, ())
        ]
        close = process.extract(token, nearby, scorer=OSA.distance, score_cutoff=limit, limit=None)
        return _Readings(tuple(word for word, _, _ in sorted(close, key=lambda hit: hit[1])))


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
        self._emergency = PhraseIndex(emergency, min_fuzzy=MIN_FUZZY_IN_SENTENCE)
        self._opt_out = PhraseIndex(opt_out, min_fuzzy=MIN_FUZZY_IN_SENTENCE)
        self._hints = {language: frozenset(words) for language, words in hints.items()}
        self._typos = PhraseIndex(  # a keyword texted alone, with a typo in some word
            {alias: info for alias, info in self._aliases.items() if info.name not in EXACT_ONLY},
            min_fuzzy=MIN_FUZZY_ALONE,
        )
        common_words = frozenset(common)
        self._in_sentence = PhraseIndex(
            {
                alias: info
                for alias, info in self._aliases.items()
                if alias not in common_words
                and (info.kind == "topic" or info.name in SENTENCE_COMMANDS + SENTENCE_FALLBACK)
            },
            min_fuzzy=MIN_FUZZY_IN_SENTENCE,
        )
        self._mentions = {
            name: PhraseIndex(
                {alias: True for alias, info in self._aliases.items() if info.name == name},
                min_fuzzy=MIN_FUZZY_IN_SENTENCE,
            )
            for name in MENTIONABLE
        }
        unsafe = [alias for alias in self._aliases if self._emergency.find(alias.split())]
        if unsafe:  # an exact keyword is answered before the emergency scan
            raise CatalogError(f"emergency words may not be keywords: {', '.join(unsafe)}")

    @classmethod
    def load(cls, path: Path) -> Keywords:
        from bot.catalog.files import read_yaml  # only at start-up: keeps Babel out of imports

        return cls.from_data(read_yaml(path), source=str(path))

    @classmethod
    def from_data(cls, data: Mapping[str, Any], source: str = "keywords") -> Keywords:
        by_alias: dict[str, tuple[MatchKind, str, set[str]]] = {}
        sections: tuple[tuple[MatchKind, Any], ...] = (
            ("command", data.get("commands", {})),
            ("topic", data.get("topics", {})),
        )
        for kind, section in sections:
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
            alias: _Alias(kind, name, _only(languages))
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

    def mentions(self, name: str, text: str) -> bool:
        """Whether the text also asks for command `name` (MENTIONABLE), wherever it stands: an
        emergency wins the match, and "chest pain, nurse call me" still asks for the call."""
        index = self._mentions.get(name)
        return bool(index and index.find(normalize(text).split()[:MAX_SENTENCE_TOKENS]))

    def language_hint(self, text: str) -> Language | None:
        """The language whose everyday words the text uses most, if one clearly leads."""
        tokens = normalize(text).split()[:MAX_SENTENCE_TOKENS]
        counts = {lang: sum(t in words for t in tokens) for lang, words in self._hints.items()}
        ranked = sorted(counts.items(), key=lambda item: item[1], reverse=True)
        if ranked and ranked[0][1] > 0 and (len(ranked) == 1 or ranked[0][1] > ranked[1][1]):
            return ranked[0][0]
        return None

    def match(self, text: str, in_sentence: bool = True) -> Match | None:
        """The intent of a message, or None when nothing in it is clear enough to act on.

        `in_sentence=False` leaves topics named inside a longer sentence to a better reader."""
        normalized = normalize(text)
        if not normalized:
            return None
        exact = self._aliases.get(normalized)
        if exact is not None:  # keywords never contain emergency words (checked at load)
            return _as_match(exact)
        tokens = normalized.split()
        emergency = self._emergency.find(tokens)
        if emergency:  # anywhere in the message, however long: safety beats speed
            return Match("emergency", language=emergency[0][2])
        number = NUMBER.match(normalized)
        if number:
            return Match("number", number=int(number.group(1)))
        opt_out = self._opt_out.find(tokens)
        if opt_out:  # "stop texting me" means STOP, wherever it stands
            return Match("command", "stop", language=opt_out[0][2])
        whole = self._fuzzy_whole(tokens)
        if whole is not None or not in_sentence:
            return whole
        return self._in_a_sentence(tokens)

    def in_a_sentence(self, text: str) -> Match | None:
        """A topic or MENU/HELP/MORE word named inside a sentence, as a last resort."""
        return self._in_a_sentence(normalize(text).split())

    def _fuzzy_whole(self, tokens: list[str]) -> Match | None:
        """The whole message is one keyword with small typos ('side efects', 'tyeps')."""
        if len(tokens) > MAX_WHOLE_MESSAGE_TOKENS:
            return None
        whole = [
            alias for start, length, alias in self._typos.find(tokens) if length == len(tokens)
        ]
        intents = {(alias.kind, alias.name) for alias in whole}
        if len(intents) != 1:  # none, or two intents equally close: asking beats guessing
            return None
        return _as_match(whole[0])

    def _in_a_sentence(self, tokens: list[str]) -> Match | None:
        """A topic named inside a sentence: topics before MENU/HELP/MORE, longer phrases first."""
        found = self._in_sentence.find(tokens[:MAX_SENTENCE_TOKENS])
        if not found:
            return None

        def rank(hit: tuple[int, int, _Alias]) -> tuple[int, int, int]:
            start, length, alias = hit
            return (int(alias.name in SENTENCE_FALLBACK), -length, start)

        return _as_match(min(found, key=rank)[2])


def _only(languages: set[str]) -> Language | None:
    if len(languages) == 1:
        (language,) = languages
        return language  # type: ignore[return-value]
    return None


def _as_match(alias: _Alias) -> Match:
    return Match(alias.kind, alias.name, language=alias.language)


def _phrase_languages(section: Mapping[str, Any] | None) -> dict[str, Language | None]:
    languages_of: dict[str, set[str]] = {}
    for language in LANGUAGES:
        for word in (section or {}).get(language, []) or []:
            phrase = normalize(str(word))
            if phrase:
                languages_of.setdefault(phrase, set()).add(language)
    return {phrase: _only(languages) for phrase, languages in languages_of.items()}
