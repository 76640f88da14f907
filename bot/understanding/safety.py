"""Emergency and urgent-symptom concepts, read from messages/safety.yaml.

A concept is found when a word of each of its groups appears in the message, in any order and
with words in between, unless a negation stands just before it ("no fever"). An urgent concept
in a general question or a "what if" is not a report ("can it cause diarrhea?"); an emergency
concept always counts. Checked before anything else, on every message.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from bot.errors import CatalogError
from bot.keywords import normalize
from bot.understanding.text import Respeller, read_word_data, sentences
from bot.understanding.words import Term, Vocabulary

Level = Literal["emergency", "urgent"]
LEVELS: tuple[Level, ...] = ("emergency", "urgent")
MAX_PLACES = 6  # places considered per group: enough for any real message


@dataclass(frozen=True, slots=True)
class Alarm:
    level: Level
    concept: str


@dataclass(frozen=True, slots=True)
class _Pattern:
    level: Level
    concept: str
    groups: tuple[tuple[Term, ...], ...]


@dataclass(frozen=True, slots=True)
class Words:
    """A message's words with the sentence each belongs to."""

    tokens: tuple[str, ...]
    sentence_of: tuple[int, ...]
    asked: frozenset[int] = frozenset()  # sentences that ended with a question mark

    @classmethod
    def of(cls, text: str, respeller: Respeller) -> Words:
        tokens: list[str] = []
        sentence_of: list[int] = []
        asked = set()
        for number, (sentence, question) in enumerate(sentences(text)):
            words = respeller.tokens(sentence)
            tokens += words
            sentence_of += [number] * len(words)
            if question:
                asked.add(number)
        return cls(tuple(tokens), tuple(sentence_of), frozenset(asked))


class Cues:
    """Words that cancel a concept (negations) or make it a question rather than a report."""

    def __init__(self, data: Mapping[str, Any], vocabulary: Vocabulary):
        self.reach = int(data.get("negation_reach", 3))
        self.negations = _terms(data.get("negations"), vocabulary)
        self.over_reach = int(data.get("over_reach", 3))
        self.over = _terms(data.get("over"), vocabulary)
        self.returns = {normalize(str(w)) for w in data.get("returns") or ()}
        self.question_starts = _terms(data.get("question_starts"), vocabulary)
        self.hypothetical = _terms(data.get("hypothetical"), vocabulary)
        self.reports = {normalize(str(w)) for w in data.get("reports") or ()}


class Safety:
    def __init__(
        self, patterns: Sequence[_Pattern], cues: Cues, vocabulary: Vocabulary, window: int
    ):
        self._patterns = patterns
        self._cues = cues
        self._vocabulary = vocabulary
        self._window = window
        # first atom of a term -> (pattern, group, term): a message only visits what it contains
        self._by_first: dict[int, list[tuple[int, int, Term]]] = {}
        for p, pattern in enumerate(patterns):
            for g, group in enumerate(pattern.groups):
                for term in group:
                    self._by_first.setdefault(term.atoms[0], []).append((p, g, term))

    @classmethod
    def load(cls, path: Path, respeller: Respeller, listed: Sequence[str] = ()) -> Safety:
        """`listed`: the emergency phrases of keywords.yaml, kept as one more concept."""
        return cls.from_data(read_word_data(path), respeller, listed)

    @classmethod
    def from_data(
        cls, data: Mapping[str, Any], respeller: Respeller, listed: Sequence[str] = ()
    ) -> Safety:
        vocabulary = Vocabulary()
        patterns = [
            _Pattern(level, str(name), _groups(name, pattern, vocabulary, respeller))
            for level in LEVELS
            for name, spec in (data.get(level) or {}).items()
            for pattern in (spec or {}).get("when") or ()
        ]
        if listed:
            group = [[" ".join(phrase.split()) for phrase in listed]]
            patterns.insert(
                0, _Pattern("emergency", "listed", _groups("listed", group, vocabulary, respeller))
            )
        if not any(p.level == "emergency" for p in patterns):
            raise CatalogError("safety.yaml: there are no emergency concepts")
        return cls(patterns, Cues(data, vocabulary), vocabulary, int(data.get("window", 6)))

    def check(self, words: Words) -> Alarm | None:
        """The most serious concept the message reports, if any."""
        atoms = self._vocabulary.read(words.tokens)
        found = self._occurrences(atoms)
        candidates = sorted({p for p, _ in found})  # emergencies are listed first
        for p in candidates:
            pattern = self._patterns[p]
            per_group = [found.get((p, g), []) for g in range(len(pattern.groups))]
            places = self._place(per_group) if all(per_group) else None
            if places is not None and self._counts(pattern, places, atoms, words):
                return Alarm(pattern.level, pattern.concept)
        return None

    def _occurrences(self, atoms: list[frozenset[int]]) -> dict[tuple[int, int], list[range]]:
        found: dict[tuple[int, int], list[range]] = {}
        for start, here in enumerate(atoms):
            for atom in here:
                for p, g, term in self._by_first.get(atom, ()):
                    if term.matches_at(atoms, start):
                        places = found.setdefault((p, g), [])
                        if len(places) < MAX_PLACES:
                            places.append(range(start, start + len(term.atoms)))
        return found

    def _place(self, per_group: list[list[range]]) -> set[int] | None:
        """Token positions of the closest non-overlapping match of every group, or None."""
        best: set[int] | None = None
        for choice in itertools.product(*per_group):
            used = [i for span in choice for i in span]
            if len(used) != len(set(used)) or max(used) - min(used) > self._window:
                continue
            if best is None or max(used) - min(used) < max(best) - min(best):
                best = set(used)
        return best

    def _counts(
        self, pattern: _Pattern, places: set[int], atoms: list[frozenset[int]], words: Words
    ) -> bool:
        first = min(places)
        if self._negated(first, places, atoms, words) or self._over(places, atoms, words):
            return False
        return pattern.level == "emergency" or not self._not_a_report(first, atoms, words)

    def _negated(
        self, first: int, places: set[int], atoms: list[frozenset[int]], words: Words
    ) -> bool:
        sentence = words.sentence_of[first]
        for start in range(max(0, first - self._cues.reach), first):
            if words.sentence_of[start] != sentence or start in places:
                continue
            for term in self._cues.negations:
                span = range(start, start + len(term.atoms))
                if term.matches_at(atoms, start) and not places.intersection(span):
                    return True
        return False

    def _over(self, places: set[int], atoms: list[frozenset[int]], words: Words) -> bool:
        """Said to be over, just after it: "my chest pain went away last year"."""
        last = max(places)
        sentence = words.sentence_of[last]
        if any(token in self._cues.returns for token in words.tokens):
            return False
        for start in range(last + 1, min(len(atoms), last + 1 + self._cues.over_reach)):
            if words.sentence_of[start] != sentence:
                break
            if any(term.matches_at(atoms, start) for term in self._cues.over):
                return True
        return False

    def _not_a_report(self, first: int, atoms: list[frozenset[int]], words: Words) -> bool:
        """A general question ("can it cause a rash?") or a "what if" before the concept."""
        sentence = words.sentence_of[first]
        begin = words.sentence_of.index(sentence)
        if any(
            term.matches_at(atoms, start)
            for start in range(begin, first)
            for term in self._cues.hypothetical
        ):
            return True
        asks = sentence in words.asked or any(
            term.matches_at(atoms, begin) for term in self._cues.question_starts
        )
        return asks and not any(token in self._cues.reports for token in words.tokens)


def _groups(
    name: object, pattern: Any, vocabulary: Vocabulary, respeller: Respeller
) -> tuple[tuple[Term, ...], ...]:
    if not isinstance(pattern, list) or not all(isinstance(g, list) and g for g in pattern):
        raise CatalogError(f"safety.yaml: {name}: each pattern is a list of word lists")
    groups = []
    for group in pattern:
        terms = (vocabulary.term(str(w), respeller.tokens) for w in group)
        groups.append(tuple(t for t in terms if t is not None))
    return tuple(groups)


def _terms(words: Any, vocabulary: Vocabulary) -> tuple[Term, ...]:
    terms = (vocabulary.term(str(w)) for w in words or ())
    return tuple(t for t in terms if t is not None)
