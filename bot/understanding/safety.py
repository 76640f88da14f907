"""Emergency and urgent-symptom concepts, read from messages/safety.yaml.

A concept is found when a word of each of its groups appears in the message, in any order and
with words in between, unless a negation stands just before it ("no fever"). An urgent concept
in a general question or a "what if" is not a report ("can it cause diarrhea?"); an emergency
concept always counts. Checked before anything else, on every message.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
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
class Scan:
    """What the safety check found: the alarm to raise, or the warning sign only asked about
    ("can it cause diarrhea?"), which makes the message a question about side effects."""

    alarm: Alarm | None = None
    asked_about: str | None = None


@dataclass(frozen=True, slots=True)
class _Pattern:
    level: Level
    concept: str
    groups: tuple[tuple[Term, ...], ...]
    window: int | None = None  # this concept's own reach, when its words spread further


@dataclass(frozen=True, slots=True)
class Words:
    """A message's words with the sentence each belongs to."""

    tokens: tuple[str, ...]
    sentence_of: tuple[int, ...]
    asked: frozenset[int] = frozenset()  # sentences that ended with a question mark
    readings: tuple[int, ...] = ()  # sentences with a fever temperature in them

    @classmethod
    def of(cls, text: str, respeller: Respeller) -> Words:
        tokens: list[str] = []
        sentence_of: list[int] = []
        asked = set()
        readings = []
        for number, (sentence, question) in enumerate(sentences(without_temperatures(text))):
            if TEMPERATURE_MARK in sentence:
                readings.append(number)
                sentence = sentence.replace(TEMPERATURE_MARK, " ")
            words = respeller.tokens(sentence)
            tokens += words
            sentence_of += [number] * len(words)
            if question:
                asked.add(number)
        return cls(tuple(tokens), tuple(sentence_of), frozenset(asked), tuple(readings))


# A temperature written as a number. Fahrenheit from 100.4 (the usual "call us" line) with a
# decimal or a degree mark; Celsius from 38.0 only with a decimal or a mark, so that "38
# years old" or "101 pills" is not a fever.
TEMPERATURE = re.compile(
    r"(?<![\d.,$])(?:"
    r"(?P<f>10[0-7](?:[.,]\d)?)\s*(?:°|º|degrees?|grados?|f\b)"
    r"|(?P<f_decimal>10[0-7][.,]\d)"
    r"|(?P<c>3[89]|4[0-2])(?:[.,]\d)?\s*(?:°|º|degrees?|grados?|c\b)"
    r"|(?P<c_decimal>3[89][.,]\d|4[0-2][.,]\d)"
    r"|(?P<c_and_more>3[89]|4[0-2])\s+y\s+(?:pico|algo|medio|tantos)"
    r")(?![\d.,]*\d)(?!\s*(?:mg|mcg|ml|kg|lbs?|pounds|libras|kilos|%))",
    re.IGNORECASE,
)
TEMPERATURE_MARK = "feverreading"  # stands in for the number until the sentences are cut
FAHRENHEIT_FEVER = 100.4
CELSIUS_FEVER = 38.0


def without_temperatures(text: str) -> str:
    return TEMPERATURE.sub(_mark_fever, text)


def _mark_fever(found: re.Match[str]) -> str:
    fahrenheit = found.group("f") or found.group("f_decimal")
    celsius = found.group("c") or found.group("c_decimal") or found.group("c_and_more")
    if fahrenheit and float(fahrenheit.replace(",", ".")) >= FAHRENHEIT_FEVER:
        return f" {TEMPERATURE_MARK} "
    if celsius and float(celsius.replace(",", ".")) >= CELSIUS_FEVER:
        return f" {TEMPERATURE_MARK} "
    return found.group(0)


class CueList:
    """Listed words and phrases of one kind, found in a message in one pass."""

    def __init__(self, terms: Iterable[Term]):
        self._by_first: dict[int, list[Term]] = {}
        for term in terms:
            self._by_first.setdefault(term.atoms[0], []).append(term)

    def spans(self, atoms: list[frozenset[int]]) -> tuple[range, ...]:
        found = []
        for start, here in enumerate(atoms):
            for atom in here:
                for term in self._by_first.get(atom, ()):
                    if term.matches_at(atoms, start):
                        found.append(range(start, start + len(term.atoms)))
        return tuple(found)


class Cues:
    """Words that cancel a concept (negations) or make it a question rather than a report."""

    def __init__(self, data: Mapping[str, Any], vocabulary: Vocabulary):
        self.reach = int(data.get("negation_reach", 3))
        self.over_reach = int(data.get("over_reach", 3))
        self.lists = {
            kind: CueList(_terms(data.get(kind), vocabulary))
            for kind in (
                "negations",
                "over",
                "returns",
                "past",
                "question_starts",
                "hypothetical",
                "confirms",
                "idioms",
                "pets",
                "whether",
            )
        }
        self.reports = {normalize(str(w)) for w in data.get("reports") or ()}


class _Found:
    """Where each kind of cue is in one message, looked up only when a concept needs it."""

    def __init__(self, cues: Cues, atoms: list[frozenset[int]]):
        self._cues = cues
        self._atoms = atoms
        self._spans: dict[str, tuple[range, ...]] = {}

    def __getitem__(self, kind: str) -> tuple[range, ...]:
        if kind not in self._spans:
            self._spans[kind] = self._cues.lists[kind].spans(self._atoms)
        return self._spans[kind]


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
            _Pattern(
                level,
                str(name),
                _groups(name, pattern, vocabulary, respeller),
                int(spec["window"]) if (spec or {}).get("window") else None,
            )
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
        return self.scan(words).alarm

    def scan(self, words: Words) -> Scan:
        atoms = self._vocabulary.read(words.tokens)
        found = self._occurrences(atoms)
        asked_about = None
        cues: _Found | None = None
        for p in sorted({p for p, _ in found}):  # emergencies are listed first
            pattern = self._patterns[p]
            per_group = [found.get((p, g), []) for g in range(len(pattern.groups))]
            window = pattern.window or self._window
            places = self._place(per_group, window) if all(per_group) else None
            if places is None:
                continue
            cues = cues or _Found(self._cues, atoms)
            # where the concept's own words stand, a negation among them included
            own = {span.start for g in range(len(pattern.groups)) for span in found.get((p, g), ())}
            if self._cancelled(own, places, words, cues):
                continue
            if pattern.level == "urgent" and self._about_a_pet(min(places), words, cues):
                continue
            if (
                pattern.level == "emergency"
                or not self._not_a_report(min(places), words, cues)
                or self._confirmed(max(places), cues)
            ):
                return Scan(Alarm(pattern.level, pattern.concept))
            asked_about = asked_about or pattern.concept
        fever = self._fever_reading(words)
        if fever is not None:
            return Scan(fever)
        return Scan(asked_about=asked_about)

    def _fever_reading(self, words: Words) -> Alarm | None:
        """A temperature reported as a number: "i have 100.9 now", "tiene 38.5"."""
        for sentence in words.readings:
            if sentence in words.asked and not any(t in self._cues.reports for t in words.tokens):
                continue
            return Alarm("urgent", "fever")
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

    def _place(self, per_group: list[list[range]], window: int) -> set[int] | None:
        """Token positions of the closest non-overlapping match of every group, or None."""
        best: set[int] | None = None
        for choice in itertools.product(*per_group):
            used = [i for span in choice for i in span]
            if len(used) != len(set(used)) or max(used) - min(used) > window:
                continue
            if best is None or max(used) - min(used) < max(best) - min(best):
                best = set(used)
        return best

    def _cancelled(
        self,
        own: set[int],
        places: set[int],
        words: Words,
        cues: _Found,
    ) -> bool:
        """Negated just before ("no fever"), said to be over just after, or part of a figure
        of speech ("i'm dying to know", "this bill is killing me")."""
        return (
            self._negated(min(places), places, words, own, cues)
            or self._over(places, words, cues)
            or any(places.intersection(span) for span in cues["idioms"])
        )

    def _about_a_pet(self, first: int, words: Words, cues: _Found) -> bool:
        """A warning sign of an animal just named ("my dog has diarrhea"): not the patient's."""
        return any(True for _ in self._just_before(first, words, cues["pets"]))

    def _just_before(self, first: int, words: Words, spans: Iterable[range]) -> Iterator[range]:
        """The cues at most `negation_reach` words before position `first`, in its sentence."""
        sentence = words.sentence_of[first]
        for span in spans:
            if first - self._cues.reach <= span.start < first and (
                words.sentence_of[span.start] == sentence
            ):
                yield span

    def _negated(
        self,
        first: int,
        places: set[int],
        words: Words,
        own: set[int],
        cues: _Found,
    ) -> bool:
        """`own`: where the concept's words are found; a negation found as one of them is part
        of its meaning ("no me contesta nada": "nada" sits closer, but "no" is the concept's).
        One that only looks like them is not ("not" of "not able" in "not having any trouble
        breathing")."""
        return any(
            not places.intersection(span) and span.start not in own
            for span in self._just_before(first, words, cues["negations"])
        )

    def _over(self, places: set[int], words: Words, cues: _Found) -> bool:
        """Said to be over just after it ("my chest pain went away"), or put long in the past
        anywhere in its sentence ("el año pasado tuve fiebre"), unless the message says it is
        back ("it went away but now it came back")."""
        if cues["returns"]:
            return False
        last = max(places)
        sentence = words.sentence_of[last]
        if any(
            last < span.start <= last + self._cues.over_reach
            and words.sentence_of[span.start] == sentence
            for span in cues["over"]
        ):
            return True
        return any(words.sentence_of[span.start] == sentence for span in cues["past"])

    def _confirmed(self, last: int, cues: _Found) -> bool:
        """Asked about as a "what if", then said to have happened: "they said to text if i get
        a rash, well i got one"."""
        return any(span.start > last for span in cues["confirms"])

    def _not_a_report(self, first: int, words: Words, cues: _Found) -> bool:
        """A general question ("can it cause a rash?") or a "what if" before the concept; an
        "if" that means whether ("tell me if it's bad that my stomach hurts") is not one."""
        sentence = words.sentence_of[first]
        begin = words.sentence_of.index(sentence)
        if any(begin <= span.start < first for span in cues["hypothetical"]) and not any(
            begin <= span.start < first for span in cues["whether"]
        ):
            return True
        asks = sentence in words.asked or any(
            span.start == begin for span in cues["question_starts"]
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
