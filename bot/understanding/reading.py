"""One message read for the router: safety first, then menu picks, drug names and topics.

`Understanding.read` is pure (no I/O, no clock) and shared by the webhook, the terminal chat,
the staff console's "try a message" box and the eval command.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from bot.errors import CatalogError
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

Decision = Literal["answer", "choose", "none"]
# Topics that say what a drug is: a question naming a drug and one of these gets the drug's
# own class instead.
ABOUT_A_DRUG = frozenset(
    "what how types checkpoint cell_therapy antibodies bispecifics vaccines modulators".split()
)
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

    @property
    def topic(self) -> str | None:
        return self.topics[0] if self.decision == "answer" and self.topics else None

    @property
    def drug_topic(self) -> str | None:
        """After the drug line: the topic asked about ("can i drink alcohol on keytruda"), or
        the drug's class when the message only names it ("my mom is on opdivo")."""
        if self.drug is None:
            return None
        if self.asked and self.topic and self.topic not in ABOUT_A_DRUG:
            return self.topic
        return self.drug.topic


@dataclass(frozen=True, slots=True)
class Examples:
    """The example questions per topic and language, as staff edit them."""

    topics: Mapping[str, Mapping[str, Sequence[str]]]

    @classmethod
    def load(cls, path: Path) -> Examples:
        try:
            data = YAML(typ="safe").load(path.read_text(encoding="utf-8")) or {}
        except (OSError, YAMLError) as exc:
            raise CatalogError(f"{path}: cannot read examples: {exc}") from exc
        return cls.from_data(data)

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Examples:
        topics: dict[str, Mapping[str, Sequence[str]]] = {}
        for topic, per_language in (data.get("topics") or {}).items():
            texts: dict[str, Sequence[str]] = {}
            for language in LANGUAGES:
                texts[language] = [str(t) for t in (per_language or {}).get(language) or ()]
            topics[str(topic)] = texts
        return cls(topics)


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
        self._courtesies = {
            normalize(str(w))
            for lang in LANGUAGES
            for w in (words.get("courtesies") or {}).get(lang) or ()
        }
        self.examples = examples
        self._stopwords = words.get("stopwords") or {}
        self._ranker = self._make_ranker(examples, keywords, topics)

    def _make_ranker(
        self, examples: Examples, keywords: Mapping[str, Any], topics: Iterable[str]
    ) -> TopicRanker:
        analyzer = make_analyzer(self._respeller, self._stopwords)
        return TopicRanker(
            documents(examples.topics, keywords.get("topics") or {}, topics), analyzer
        )

    def with_topics(
        self, keywords: Mapping[str, Any], topics: Iterable[str], examples: Examples | None = None
    ) -> Understanding:
        """The same safety concepts, drugs and menu words, ranking another catalog's keywords
        and examples (a version published from the staff console): only the ranker is rebuilt."""
        clone = copy.copy(self)
        clone.examples = examples or self.examples
        clone._ranker = self._make_ranker(clone.examples, keywords, topics)
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
        words = Words.of(text, self._respeller)
        guess = identify(words.tokens)
        alarm = self._safety.check(words)
        if alarm is not None:
            return Reading(guess, alarm=alarm)
        if not rank:
            return Reading(guess)
        tokens = list(words.tokens)
        number = self._menus.number(tokens, len(menu)) if tokens else None
        if number is not None:
            return Reading(guess, number=number)
        if " ".join(tokens) in self._courtesies or (text.strip() and not tokens):
            return Reading(guess, courtesy=True)
        reading = self._rank(tokens, guess, menu, self._drugs.find(tokens))
        return replace(reading, asked="?" in text or (bool(tokens) and tokens[0] in QUESTION_WORDS))

    def _rank(
        self, tokens: Sequence[str], guess: Guess, menu: Sequence[str], drug: Drug | None
    ) -> Reading:
        ranked = self._ranker.rank(tokens, limit=8).scores
        if menu:
            bonus = set(menu)
            ranked = tuple(
                sorted(
                    ((t, s * MENU_BONUS if t in bonus else s) for t, s in ranked),
                    key=lambda pair: -pair[1],
                )
            )
        decision, topics = decide(ranked)
        return Reading(guess, drug=drug, decision=decision, topics=topics, scores=ranked[:5])


def decide(ranked: Sequence[tuple[str, float]]) -> tuple[Decision, tuple[str, ...]]:
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
