"""Which language a short text is in, English or Spanish, from word frequencies.

The frequencies are wordfreq's "small" lists (about 30,000 words per language, from
subtitles, web text, Wikipedia and more), read straight from the files the package ships so a
worker pays neither wordfreq's tokenizers nor its larger lists. Each word votes by how much
more common it is in one language than in the other, so Spanish function words ("de", "tiene",
"mi") outweigh an English-looking cognate ("cancer", "cáncer"). One clearly Spanish word in an
English sentence leans the message to Spanish: people who mix languages mostly read Spanish.
"""

from __future__ import annotations

import gzip
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import msgpack

from bot.models import Language

ABSENT = 1.0  # the Zipf value of a word not in a list: rarer than anything listed
MAX_VOTE = 3.0  # one word moves the score at most this much
CLEAR = 1.5  # a score this far from zero names a language
SPANISH_MARK = 2.5  # a word this much more Spanish than English, and common in Spanish...
SPANISH_COMMON = 4.5  # ...marks a mixed message as Spanish
LEAN_LIMIT = -6.0  # ...unless the rest is overwhelmingly English
PLAUSIBLE = 2.0  # a word at least this common in a language may be one of its words...
LOAN_GAP = 2.0  # ...unless it is this much more common in the other language
KNOWN = 3.0  # a word at least this common in either language is a real word, not a typo


def fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@dataclass(frozen=True, slots=True)
class Frequencies:
    """Zipf frequency (log10 per billion words) of accent-folded words, per language."""

    by_language: Mapping[Language, Mapping[str, int]]  # tenths of a Zipf unit (small ints)

    def zipf(self, word: str, language: Language) -> float:
        tenths = self.by_language[language].get(word)
        return ABSENT if tenths is None else tenths / 10

    def plausible_in(self, word: str) -> tuple[Language, ...]:
        """The languages a word may belong to (both when neither knows it), so a word is
        stemmed only by its own language's rules: "number" is not the Spanish stem "numb"."""
        counts = {language: table.get(word, 0) for language, table in self.by_language.items()}
        commonest = max(counts.values())
        # A word far more common in the other language is a loan there, not a word of it:
        # "more" is in Spanish web text, but it is not a form of "morir".
        found = tuple(
            language
            for language, tenths in counts.items()
            if tenths >= PLAUSIBLE * 10 and tenths >= commonest - LOAN_GAP * 10
        )
        return found or tuple(self.by_language)

    def is_word(self, word: str) -> bool:
        """A real word in either language (so not a typo to correct)."""
        return any(table.get(word, 0) >= KNOWN * 10 for table in self.by_language.values())


@cache
def frequencies() -> Frequencies:
    """Loaded once per process."""
    return Frequencies({language: _read_list(language) for language in ("en", "es")})


def _read_list(language: str) -> dict[str, int]:
    """wordfreq's cBpack file: a header, then one list of words per centibel of frequency.
    Read bucket by bucket, so the whole list never sits in memory at once."""
    path = files("wordfreq").joinpath("data", f"small_{language}.msgpack.gz")
    table: dict[str, int] = {}
    with path.open("rb") as raw, gzip.open(raw) as unzipped:
        unpacker = msgpack.Unpacker(unzipped, raw=False)
        buckets = unpacker.read_array_header() - 1
        header = unpacker.unpack()
        if header.get("format") != "cB":
            raise RuntimeError(f"unexpected wordfreq data format: {header}")
        for centibels in range(buckets):
            tenths = round(90 - centibels / 10)  # Zipf = 9 - cB / 100; ints this small are shared
            for word in unpacker.unpack():
                table.setdefault(fold(word), tenths)  # most frequent spelling first
    return table


@dataclass(frozen=True, slots=True)
class Guess:
    language: Language | None  # None when the words do not tell
    score: float  # > 0 leans Spanish, < 0 English
    spanish_marks: int  # clearly Spanish words in the message

    @property
    def strong(self) -> bool:
        """Clear enough to change the language a sender already has."""
        if self.language == "es":
            return self.score >= 2 * CLEAR or self.spanish_marks > 0
        return self.language == "en" and self.score <= LEAN_LIMIT


def identify(tokens: Iterable[str], table: Frequencies | None = None) -> Guess:
    table = table or frequencies()
    score = 0.0
    marks = 0
    for token in tokens:
        if token.isdigit():
            continue
        spanish, english = table.zipf(token, "es"), table.zipf(token, "en")
        score += max(-MAX_VOTE, min(MAX_VOTE, spanish - english))
        if spanish >= SPANISH_COMMON and spanish - english >= SPANISH_MARK:
            marks += 1
    return Guess(_decide(score, marks), round(score, 2), marks)


def _decide(score: float, marks: int) -> Language | None:
    if score >= CLEAR or (marks and score > LEAN_LIMIT):
        return "es"
    if score <= -CLEAR:
        return "en"
    return None
