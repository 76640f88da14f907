"""Rank topics for a free-text question with BM25 over the example questions of each topic.

Every example question (messages/examples.yaml) and every topic keyword (keywords.yaml) is a
short document; a message is scored against all of them at once (bm25s, a sparse matrix) and
each topic takes the score of its closest example. Words are folded, respelled, stripped of
filler words, corrected when they are not real words ("segundarios"), split when two words were
run together ("sideeffects") and reduced to Snowball stems, the same way for documents and
messages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import bm25s
import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.keywords import allowed_typos, normalize
from bot.models import LANGUAGES, Language
from bot.understanding.language import Frequencies, frequencies
from bot.understanding.text import Respeller, stem

MIN_SPLIT_PART = 3


@dataclass(frozen=True, slots=True)
class Ranked:
    """Topics by score, best first; only topics that scored above zero."""

    scores: tuple[tuple[str, float], ...]

    @property
    def best(self) -> tuple[str, float] | None:
        return self.scores[0] if self.scores else None


class Analyzer:
    """Turns text into the stems BM25 compares, identically for examples and messages."""

    def __init__(self, respeller: Respeller, stopwords: Iterable[str], table: Frequencies):
        self._respeller = respeller
        self._stopwords = frozenset(normalize(w) for w in stopwords)
        self._table = table
        self._known: frozenset[str] = frozenset()
        self._by_length: dict[int, list[str]] = {}
        self.stems_of = lru_cache(maxsize=50_000)(self._stems_of)

    def learn(self, words: Iterable[str]) -> None:
        """The words of the examples: what a misspelled word may be corrected to."""
        self._known = frozenset(words)
        self._by_length = {}
        for word in sorted(self._known):
            self._by_length.setdefault(len(word), []).append(word)
        self.stems_of.cache_clear()

    def words(self, text: str) -> list[str]:
        return self.content_words(self._respeller.tokens(normalize(text)))

    def content_words(self, tokens: Iterable[str]) -> list[str]:
        return [t for t in tokens if t not in self._stopwords]

    def analyze(self, text: str) -> list[str]:
        return self.stems(self.words(text))

    def stems(self, words: Iterable[str]) -> list[str]:
        return [s for word in words for s in self.stems_of(word)]

    def _stems_of(self, word: str) -> tuple[str, ...]:
        for reading in self._readings(word):
            return tuple({stem(reading, lang) for lang in self._table.plausible_in(reading)})
        return ()

    def _readings(self, word: str) -> list[str]:
        """The word, or what it was meant to be when it is not a word anyone knows."""
        if word in self._known or self._table.is_word(word) or len(word) < 4:
            return [word]
        corrected = self._closest(word)
        if corrected:
            return [corrected]
        split = self._split(word)
        return split or [word]

    def _closest(self, word: str) -> str | None:
        limit = allowed_typos(len(word))
        nearby = [
            known
            for length in range(len(word) - limit, len(word) + limit + 1)
            for known in self._by_length.get(length, ())
        ]
        hit = process.extractOne(word, nearby, scorer=OSA.distance, score_cutoff=limit)
        return str(hit[0]) if hit else None

    def _split(self, word: str) -> list[str]:
        for cut in range(MIN_SPLIT_PART, len(word) - MIN_SPLIT_PART + 1):
            left, right = word[:cut], word[cut:]
            if left in self._known and right in self._known:
                return [left, right]
        return []


class TopicRanker:
    def __init__(self, documents: Sequence[Document], analyzer: Analyzer):
        self._analyzer = analyzer
        analyzer.learn(w for doc in documents for w in analyzer.words(doc.text))
        kept = [(doc, analyzer.analyze(doc.text)) for doc in documents]
        kept = sorted(((d, t) for d, t in kept if t), key=lambda pair: pair[0].topic)
        self._topics = sorted({doc.topic for doc, _ in kept})
        # Documents sorted by topic: each topic's best score is one reduceat over its run.
        topic_of_doc = [doc.topic for doc, _ in kept]
        self._starts = np.array([topic_of_doc.index(t) for t in self._topics], dtype=np.intp)
        self._weights = np.array([doc.weight for doc, _ in kept])
        self._bm25 = bm25s.BM25()
        self._bm25.index([tokens for _, tokens in kept], show_progress=False)
        self._vocabulary = frozenset(t for _, tokens in kept for t in tokens)

    def rank(self, tokens: Sequence[str], limit: int = 5) -> Ranked:
        """`tokens`: the message's respelled words (as the safety check read them)."""
        analyzer = self._analyzer
        stems = analyzer.stems(analyzer.content_words(tokens))
        query = [t for t in stems if t in self._vocabulary]
        if not query:
            return Ranked(())
        scores = self._bm25.get_scores(query) * self._weights
        best = np.maximum.reduceat(scores, self._starts)
        order = np.argsort(-best)[:limit]
        return Ranked(
            tuple((self._topics[i], round(float(best[i]), 3)) for i in order if best[i] > 0)
        )


KEYWORD_WEIGHT = 0.9  # a topic's own keyword, chosen by staff, counts more than an example


@dataclass(frozen=True, slots=True)
class Document:
    topic: str
    text: str
    weight: float = 1.0


def documents(
    examples: Mapping[str, Mapping[str, Sequence[str]]],
    keywords: Mapping[str, Mapping[str, Sequence[object]]],
    topics: Iterable[str],
) -> list[Document]:
    """Example questions and keywords of the topics the menus have."""
    wanted = set(topics)
    found = []
    for source, weight in ((examples, 1.0), (keywords, KEYWORD_WEIGHT)):
        for topic, per_language in source.items():
            if topic not in wanted:
                continue
            for language in LANGUAGES:
                texts = (per_language or {}).get(language) or ()
                found += [Document(topic, str(text), weight) for text in texts]
    return found


def make_analyzer(respeller: Respeller, stopwords: Mapping[Language, Sequence[str]]) -> Analyzer:
    words = [w for language in LANGUAGES for w in stopwords.get(language) or ()]
    return Analyzer(respeller, words, frequencies())
