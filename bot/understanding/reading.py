"""One message read for the router: safety first, then menu picks, drug names and topics.

`Understanding.read` is pure (no I/O, no clock) and shared by the webhook, the terminal chat,
the staff console's "try a message" box and the eval command.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from bot.catalog.files import read_yaml
from bot.keywords import normalize
from bot.models import LANGUAGES
from bot.understanding.drugs import Drug, Drugs
from bot.understanding.language import Guess, identify
from bot.understanding.menus import MenuWords
from bot.understanding.ranking import TopicRanker, documents, make_analyzer
from bot.understanding.safety import Alarm, Safety, Words
from bot.understanding.text import Respeller, read_word_data

# When the best topic clearly wins it is answered; when a few are close the sender chooses.
MIN_ANSWER = 2.5  # BM25 score of the best topic's closest example
MIN_CHOOSE = 1.2
CLEAR_LEAD = 1.1
CLOSE = 0.75  # topics within this share of the best are offered as choices
MAX_CHOICES = 3
MENU_BONUS = 1.2  # entries of the menu the sender is looking at are likelier
SHORT_ANSWER = 2  # words (besides "the ... one") in an answer that names a menu entry

# "unrelated": the message is closest to the examples of things the line does not cover
# (a wrong number, a broken phone, lab results): the safety fallback, and no keyword guess.
Decision = Literal["answer", "choose", "none", "unrelated"]
OFF_TOPIC = "off_topic"  # the examples of such messages, in examples.yaml
OFF_TOPIC_LEAD = 1.25  # how much closer than those a topic must be to be answered
# Topics that say what a drug is: a question naming a drug and one of these gets the drug's
# own class instead.
ABOUT_A_DRUG = frozenset(
    "what how types checkpoint cell_therapy antibodies bispecifics vaccines modulators".split()
)
LONG_MESSAGE = 8  # words
# Messages of one or two words ("menu", "2", "side effects", "gracias") arrive again and again
# and read the same each time: their readings are kept, by text, menu and rank only.
SHORT_MESSAGE_CHARACTERS = 24
SHORT_READINGS_KEPT = 4096
SHORT_COURTESY = 12  # characters: "k", "okis", "ty!!"
QUESTION_WORDS = frozenset(
    "can could should will would is are do does how when what which why puedo puede debo "
    "se cuando como que cual cuanto".split()
)


@dataclass(frozen=True, slots=True)
class Reading:
    """What a message says, and why; the console shows it as it is."""

    language: Guess
    alarm: Alarm | None = None
    number: int | None = None  # a menu entry picked by number, number word or ordinal
    drug: Drug | None = None
    courtesy: bool = False
    decision: Decision = "none"
    topics: tuple[str, ...] = ()  # the answer, or the choices offered
    scores: tuple[tuple[str, float], ...] = field(default_factory=tuple)
    asked: bool = False  # the message is a question
    what_is: bool = False  # ... that asks what something is ("what is imdelltra")

    @property
    def topic(self) -> str | None:
        return self.topics[0] if self.decision == "answer" and self.topics else None

    @property
    def drug_topic(self) -> str | None:
        """After the drug line: the topic asked about ("can i drink alcohol on keytruda"), or
        the drug's class when the message only names it ("my mom is on opdivo")."""
        if self.drug is None:
            return None
        if self.asked and not self.what_is:
            about = max((s for t, s in self.scores if t in ABOUT_A_DRUG), default=0.0)
            asked = [(t, s) for t, s in self.scores if t not in ABOUT_A_DRUG and t != OFF_TOPIC]
            # Unless it is closer than what the drug is ("how does that car t thing work"),
            # which the drug's class answers.
            if asked and asked[0][1] >= MIN_ANSWER and asked[0][1] > about:
                return asked[0][0]  # "is it safe to breastfeed on opdivo" -> pregnancy
        return self.drug.topic


@dataclass(frozen=True, slots=True)
class Examples:
    """The example questions per topic and language, as staff edit them."""

    topics: Mapping[str, Mapping[str, Sequence[str]]]

    @classmethod
    def load(cls, path: Path) -> Examples:
        return cls.from_data(read_yaml(path))

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Examples:
        topics: dict[str, Mapping[str, Sequence[str]]] = {}
        for topic, per_language in (data.get("topics") or {}).items():
            texts: dict[str, Sequence[str]] = {}
            for language in LANGUAGES:
                texts[language] = [str(t) for t in (per_language or {}).get(language) or ()]
            topics[str(topic)] = texts
        return cls(topics)


@dataclass(frozen=True, slots=True)
class Courtesies:
    """Thanks, okays and goodbyes. A message is one when it is made of listed phrases end to
    end ("thank you, that helps a lot"), or only of the words of those phrases with one that is
    a courtesy on its own ("ok perfect ty"), but is not a question ("is it ok?")."""

    phrases: frozenset[str]
    words: frozenset[str]
    alone: frozenset[str]
    longest: int = 1  # words in the longest phrase

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Courtesies:
        listed = data.get("courtesies") or {}
        phrases = frozenset(
            normalize(str(p)) for lang in LANGUAGES for p in listed.get(lang) or ()
        ) - {""}
        words = frozenset(w for phrase in phrases for w in phrase.split())
        alone = frozenset(p for p in phrases if " " not in p)
        longest = max((len(p.split()) for p in phrases), default=1)
        return cls(phrases, words, alone, longest)

    def said_as_typed(self, text: str) -> bool:
        """Before respelling: "k" is a courtesy, though respelled it is "que"."""
        return len(text) <= SHORT_COURTESY and self.said(normalize(text).split())

    def said(self, tokens: Sequence[str]) -> bool:
        if not tokens or tokens[0] in QUESTION_WORDS:
            return False
        if not all(t in self.words for t in tokens):
            return False
        return any(t in self.alone for t in tokens) or self._phrased(tokens)

    def _phrased(self, tokens: Sequence[str]) -> bool:
        """The tokens are listed phrases one after another."""
        ends = {0}  # positions a run of whole phrases can reach
        for end in range(1, len(tokens) + 1):
            starts = range(max(0, end - self.longest), end)
            if any(s in ends and " ".join(tokens[s:end]) in self.phrases for s in starts):
                ends.add(end)
        return len(tokens) in ends


class Understanding:
    def __init__(
        self,
        words: Mapping[str, Any],
        safety: Safety,
        drugs: Drugs,
        examples: Examples,
        keywords: Mapping[str, Any],
        topics: Iterable[str],
    ):
        self._respeller = Respeller(words.get("spelling") or {})
        self._safety = safety
        self._drugs = drugs
        self._menus = MenuWords(words)
        self._courtesies = Courtesies.from_data(words)
        self._what_is = tuple(
            tuple(normalize(str(p)).split())
            for p in words.get("what_is") or ()
            if normalize(str(p))
        )
        self._what_is_anywhere = tuple(
            tuple(normalize(str(p)).split())
            for p in words.get("what_is_anywhere") or ()
            if normalize(str(p))
        )
        self._menu_picks = frozenset(normalize(str(w)) for w in words.get("menu_picks") or ())
        self._symptom_words = tuple(
            normalize(str(w)).split() for w in words.get("symptom_question_words") or ()
        )
        self.examples = examples
        self._stopwords = words.get("stopwords") or {}
        self._ranker = self._make_ranker(examples, keywords, topics)
        self._read_short = self._keep_short_readings()

    def _keep_short_readings(self) -> Callable[[str, tuple[str, ...], bool], Reading]:
        return lru_cache(maxsize=SHORT_READINGS_KEPT)(self._read)

    def _make_ranker(
        self, examples: Examples, keywords: Mapping[str, Any], topics: Iterable[str]
    ) -> TopicRanker:
        analyzer = make_analyzer(self._respeller, self._stopwords)
        wanted = {*topics, OFF_TOPIC}
        return TopicRanker(
            documents(examples.topics, keywords.get("topics") or {}, wanted), analyzer
        )

    def with_topics(
        self, keywords: Mapping[str, Any], topics: Iterable[str], examples: Examples | None = None
    ) -> Understanding:
        """The same safety concepts, drugs and menu words, ranking another catalog's keywords
        and examples (a version published from the staff console): only the ranker is rebuilt."""
        clone = copy.copy(self)
        clone.examples = examples or self.examples
        clone._ranker = self._make_ranker(clone.examples, keywords, topics)
        clone._read_short = clone._keep_short_readings()  # readings of the other catalog
        return clone

    @classmethod
    def load(
        cls,
        messages_dir: Path,
        keywords: Mapping[str, Any],
        topics: Iterable[str],
        examples: Examples | None = None,
        all_examples: bool = False,
    ) -> Understanding:
        """`all_examples`: also rank topics that have examples but no page yet (the router
        answers those with the safety fallback; the eval still sees what was understood)."""
        words = read_word_data(messages_dir / "understanding.yaml")
        respeller = Respeller(words.get("spelling") or {})
        listed = [
            str(phrase)
            for language in LANGUAGES
            for phrase in ((keywords.get("emergency") or {}).get(language) or ())
        ]
        safety = Safety.load(messages_dir / "safety.yaml", respeller, listed)
        drugs = Drugs.from_data(read_word_data(messages_dir / "drugs.yaml"))
        examples = examples or Examples.load(messages_dir / "examples.yaml")
        if all_examples:
            topics = {*topics, *examples.topics}
        return cls(words, safety, drugs, examples, keywords, topics)

    def alarm(self, text: str) -> Alarm | None:
        return self._safety.check(Words.of(text, self._respeller))

    def read(self, text: str, menu: Sequence[str] = (), rank: bool = True) -> Reading:
        """`menu`: the topics of the menu (or choices) the sender is answering, if any.
        `rank=False`: the message is a keyword already; only safety and language are read."""
        if len(text) <= SHORT_MESSAGE_CHARACTERS and len(text.split(maxsplit=2)) <= 2:
            return self._read_short(text, tuple(menu), rank)
        return self._read(text, menu, rank)

    def _read(self, text: str, menu: Sequence[str], rank: bool) -> Reading:
        words = Words.of(text, self._respeller)
        guess = identify(words.tokens)
        scan = self._safety.scan(words)
        if scan.alarm is not None:
            return Reading(guess, alarm=scan.alarm)
        if not rank:
            return Reading(guess)
        tokens = list(words.tokens)
        number = self._menus.number(tokens, len(menu)) if tokens else None
        if number is not None:
            return Reading(guess, number=number)
        only_symbols = bool(text.strip()) and not tokens  # an emoji, "!!"
        if self._courtesies.said(tokens) or self._courtesies.said_as_typed(text) or only_symbols:
            return Reading(guess, courtesy=True)
        if scan.asked_about:
            # "can it cause diarrhea?": a question about a warning sign is a question about
            # side effects, whatever other words it has.
            tokens += [w for words in self._symptom_words for w in words]
        reading = self._rank(tokens, guess, menu, self._drugs.find(tokens))
        asked = "?" in text or _asks(words.tokens)
        what_is = reading.drug is not None and self._asks_what_is(tokens)  # only drugs need it
        return replace(reading, asked=asked, what_is=what_is)

    def _asks_what_is(self, tokens: Sequence[str]) -> bool:
        if any(tuple(tokens[: len(phrase)]) == phrase for phrase in self._what_is):
            return True
        return any(
            tuple(tokens[start : start + len(phrase)]) == phrase
            for phrase in self._what_is_anywhere
            for start in range(len(tokens) - len(phrase) + 1)
        )

    def _rank(
        self, tokens: Sequence[str], guess: Guess, menu: Sequence[str], drug: Drug | None
    ) -> Reading:
        ranked = self._ranker.rank(tokens, limit=8).scores
        if menu:
            ranked = self._toward_menu(tokens, ranked, set(menu))
        decision, topics = decide(ranked)
        return Reading(guess, drug=drug, decision=decision, topics=topics, scores=ranked[:5])

    def _toward_menu(
        self, tokens: Sequence[str], ranked: Sequence[tuple[str, float]], menu: set[str]
    ) -> tuple[tuple[str, float], ...]:
        """Entries of the menu the sender is looking at are likelier; a short answer that
        names one of them ("vaccines", "the car t one", "la de vacunas") picks among them."""
        content = [t for t in tokens if t not in self._menu_picks]
        if len(content) <= SHORT_ANSWER and any(t in menu for t, _ in ranked):
            return tuple((t, s) for t, s in ranked if t in menu)
        boosted = ((t, s * MENU_BONUS if t in menu else s) for t, s in ranked)
        return tuple(sorted(boosted, key=lambda pair: -pair[1]))


def _asks(tokens: Sequence[str]) -> bool:
    """A question without a question mark: it opens with a question word, or, in a longer
    message ("my mom starts keytruda next week, what should we watch for"), has one."""
    if tokens and tokens[0] in QUESTION_WORDS:
        return True
    return len(tokens) >= LONG_MESSAGE and any(t in QUESTION_WORDS for t in tokens)


def decide(ranked: Sequence[tuple[str, float]]) -> tuple[Decision, tuple[str, ...]]:
    unrelated = next((score for topic, score in ranked if topic == OFF_TOPIC), 0.0)
    ranked = [pair for pair in ranked if pair[0] != OFF_TOPIC]
    if unrelated >= MIN_CHOOSE and (not ranked or unrelated * OFF_TOPIC_LEAD >= ranked[0][1]):
        # A topic answers only when it is clearly closer than the things the line does not
        # cover; when it is not, the sender gets the choices, or the safety line and the menu.
        close = tuple(t for t, score in ranked[:MAX_CHOICES] if score >= unrelated)
        return ("choose", close) if len(close) >= 2 else ("unrelated", ())
    if not ranked or ranked[0][1] < MIN_CHOOSE:
        return "none", ()
    best = ranked[0][1]
    if len(ranked) == 1:  # one topic shares words with the message, no other does
        return "answer", (ranked[0][0],)
    second = ranked[1][1]
    if best >= MIN_ANSWER and best >= second * CLEAR_LEAD:
        return "answer", (ranked[0][0],)
    close = tuple(topic for topic, score in ranked[:MAX_CHOICES] if score >= best * CLOSE)
    if len(close) >= 2:
        return "choose", close
    if best >= MIN_ANSWER:
        return "answer", (ranked[0][0],)
    return "none", ()
