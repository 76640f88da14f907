"""What patients ask, in aggregate: counters per day, language and outcome for the staff.

Nothing here is about one sender. Each day (in the clinic's time zone) has one hash of
counters, and each language one hash of the common words that came in messages the bot did
not understand, with a HyperLogLog per word that estimates how many different senders used
it. The page shows a word only once at least `MIN_SENDERS` senders used it in the period, and
counts a word only if it is a common word of its language (so no names of people, no drug
misspellings unique to one sender, no numbers). A message body is never stored.

    {prefix:insights}:d:YYYYMMDD               hash  i|<lang>|<intent>    messages answered
                                                     r|<lang>             SMS sent
                                                     s|<lang>|<encoding>  SMS segments sent
    {prefix:insights}:w:YYYYMMDD:<lang>        hash  <word> -> not-understood messages with it
    {prefix:insights}:u:YYYYMMDD:<lang>:<word> HyperLogLog of the senders who used the word

Every key expires 13 months (and a little) after the last day it counts. Recording costs no
Redis round trip: `InsightsRecorder` adds counts up in memory and `take()` hands them over as
plain commands, which ride in the pipeline the session store sends anyway. Measured on the
development machine: 1-4 us of CPU to record an answered message and about 8 us for one not
understood (its words folded and looked up), plus about 1 us a message to pack the commands
when many messages share a pipeline (10 us when each message has its own): a few percent of
the 60-400 us a message costs in all.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from redis.exceptions import RedisError

from bot.keywords import normalize
from bot.models import ENGLISH, SPANISH, intent_topic
from bot.redis import stop_if_cancelled
from bot.sms import measure

log = logging.getLogger("smsbot.insights")

RETENTION_SECONDS = 400 * 86_400  # 13 months, and a few days so a whole 13th month stays
MIN_SENDERS = 5  # a word is shown once this many different senders used it in the period
COMMON_WORDS = 30_000  # per language, from wordfreq: everyday words, not rare names
SKIP_MOST_FREQUENT = 150  # "the", "que", "tengo": in every message, saying nothing
FLUSH_SECONDS = 10.0  # the longest a count waits for a message's pipeline to carry it
MAX_WORDS_PER_MESSAGE = 12  # a pasted essay counts no more than a question
UNANSWERED = frozenset({"not_understood"})  # intents whose words are worth learning from
HAS_DIGIT = re.compile(r"\d")
Command = tuple[str | int, ...]


class Vocabulary:
    """The common words of each language, folded as the keyword matcher folds them."""

    def __init__(self, words: dict[str, frozenset[str]]):
        self._words = words

    @classmethod
    def from_wordfreq(cls, languages: Iterable[str], size: int = COMMON_WORDS) -> Vocabulary:
        return _vocabulary(tuple(languages), size)  # once per process: every app shares it

    @classmethod
    def _load(cls, languages: Iterable[str], size: int) -> Vocabulary:
        """wordfreq's lists ship in the package: no download. For English and Spanish about
        0.2 s and 7 MB kept (25 MB at the peak, mostly importing wordfreq); its caches are
        emptied afterwards, as only the sets are needed."""
        import wordfreq

        words = {}
        for language in languages:
            ranked = wordfreq.top_n_list(language, size, wordlist="small")
            folded = (normalize(word) for word in ranked[SKIP_MOST_FREQUENT:])
            words[language] = frozenset(
                word for word in folded if len(word) >= 3 and " " not in word
            )
        wordfreq.top_n_list.cache_clear()
        wordfreq.get_frequency_list.cache_clear()
        wordfreq.get_frequency_dict.cache_clear()
        return cls(words)

    def words_in(self, body: str, language: str) -> list[str]:
        """The common words of a message, once each, at most MAX_WORDS_PER_MESSAGE."""
        common = self._words.get(language, frozenset())
        found: dict[str, None] = {}
        for token in normalize(body).split():
            if token in common and not HAS_DIGIT.search(token):
                found.setdefault(token, None)
                if len(found) == MAX_WORDS_PER_MESSAGE:
                    break
        return list(found)


@lru_cache(maxsize=4)
def _vocabulary(languages: tuple[str, ...], size: int) -> Vocabulary:
    return Vocabulary._load(languages, size)


class InsightsKeys:
    """Key names; one hash tag, so a Redis Cluster keeps them on one node for one pipeline."""

    def __init__(self, prefix: str):
        self._base = f"{prefix}:{{{prefix}:insights}}"

    def day(self, day: str) -> str:
        return f"{self._base}:d:{day}"

    def words(self, day: str, language: str) -> str:
        return f"{self._base}:w:{day}:{language}"

    def senders(self, day: str, language: str, word: str) -> str:
        return f"{self._base}:u:{day}:{language}:{word}"


class ClinicDay:
    """The date in the clinic's time zone as YYYYMMDD, worked out again only at midnight."""

    def __init__(self, timezone: str):
        self._zone = ZoneInfo(timezone)
        self._day = ""
        self._since = self._until = 0.0

    def of(self, now: float) -> str:
        if not self._since <= now < self._until:
            local = dt.datetime.fromtimestamp(now, self._zone).date()
            self._since = dt.datetime.combine(local, dt.time(), self._zone).timestamp()
            following = local + dt.timedelta(days=1)
            self._until = dt.datetime.combine(following, dt.time(), self._zone).timestamp()
            self._day = local.strftime("%Y%m%d")
        return self._day


@lru_cache(maxsize=4096)
def _cost(text: str) -> tuple[str, int]:
    """Encoding and segments of a reply: replies come from a catalog, so mostly cached."""
    sms = measure(text)
    return sms.encoding, sms.segments


class InsightsRecorder:
    """Adds up one process's messages until the next pipeline to Redis takes them."""

    def __init__(self, keys: InsightsKeys, vocabulary: Vocabulary, day: ClinicDay):
        self._keys = keys
        self._vocabulary = vocabulary
        self._day = day
        self._counts: Counter[tuple[str, str]] = Counter()  # (key, field) -> increment
        self._senders: dict[str, set[str]] = {}  # HyperLogLog key -> sender hashes to add
        # Keys given their expiry by this process: each key is one day's, so once is enough
        # (the set starts again each day, and stays a day's keys long).
        self._expiring: set[str] = set()
        self._expiring_day = ""

    def record(
        self,
        now: float,
        language: str,
        intent: str,
        replies: Sequence[str],
        sender: str = "",
        body: str = "",
    ) -> None:
        """One answered message. `sender` (the hashed key) and `body` are used only for a
        message not understood, and only as described in the module's docstring."""
        day = self._day.of(now)
        counts, key = self._counts, self._keys.day(day)
        counts[(key, f"i|{language}|{intent}")] += 1
        for text in replies:
            encoding, segments = _cost(text)
            counts[(key, f"r|{language}")] += 1
            counts[(key, f"s|{language}|{encoding}")] += segments
        if intent in UNANSWERED and body and sender:
            words_key = self._keys.words(day, language)
            for word in self._vocabulary.words_in(body, language):
                counts[(words_key, word)] += 1
                self._senders.setdefault(self._keys.senders(day, language, word), set()).add(sender)

    @property
    def pending(self) -> bool:
        return bool(self._counts)

    def take(self) -> list[Command]:
        """The counts so far as Redis commands, and a fresh start."""
        counts, senders = self._counts, self._senders
        self._counts, self._senders = Counter(), {}
        commands: list[Command] = [
            ("HINCRBY", key, name, amount) for (key, name), amount in counts.items()
        ]
        commands.extend(("PFADD", key, *sorted(members)) for key, members in senders.items())
        today = self._day.of(time.time())
        if today != self._expiring_day:
            self._expiring, self._expiring_day = set(), today
        touched = ({key for key, _ in counts} | set(senders)) - self._expiring
        commands.extend(("EXPIRE", key, RETENTION_SECONDS) for key in sorted(touched))
        self._expiring |= touched
        return commands


async def send(client: Any, commands: Sequence[Command]) -> None:
    """The commands in one pipeline of their own: for a quiet spell, when no message's
    pipeline has carried them for a while, and on shutdown."""
    if not commands:
        return
    async with client.pipeline(transaction=False) as pipe:
        for command in commands:
            pipe.execute_command(*command)
        await pipe.execute(raise_on_error=False)


async def keep_flushing(recorder: InsightsRecorder, client: Any, every: float) -> None:
    """Send the counts no message's pipeline has carried, at most once every `every` seconds:
    in a quiet spell the last messages' counts still arrive. Cancel it to stop; then call
    `flush_now` for what is left."""
    while True:
        await asyncio.sleep(every)
        await flush_now(recorder, client)
        stop_if_cancelled()


async def flush_now(recorder: InsightsRecorder, client: Any) -> None:
    if not recorder.pending:
        return
    try:
        await send(client, recorder.take())
    except (RedisError, OSError, TimeoutError) as exc:
        stop_if_cancelled()
        log.warning("insights counts not saved (%s): figures only, no message lost", exc)


# -- reading, for the staff page ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DayFigures:
    day: dt.date
    messages: Counter[tuple[str, str]] = field(default_factory=Counter)  # (language, intent)
    sms: Counter[str] = field(default_factory=Counter)  # language -> SMS sent
    segments: Counter[tuple[str, str]] = field(default_factory=Counter)  # (language, encoding)


@dataclass(frozen=True, slots=True)
class AskedWord:
    language: str
    word: str
    messages: int
    senders: int  # estimated distinct senders (HyperLogLog, within about 1%)


def days_between(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


class InsightsReader:
    def __init__(self, client: Any, keys: InsightsKeys):
        self._redis = client
        self._keys = keys

    async def daily(self, first: dt.date, last: dt.date) -> list[DayFigures]:
        days = days_between(first, last)
        async with self._redis.pipeline(transaction=False) as pipe:
            for day in days:
                pipe.hgetall(self._keys.day(day.strftime("%Y%m%d")))
            raws = await pipe.execute()
        return [parse_day(day, raw) for day, raw in zip(days, raws, strict=True)]

    async def asked_words(
        self,
        first: dt.date,
        last: dt.date,
        languages: Sequence[str],
        min_senders: int = MIN_SENDERS,
        limit: int = 40,
    ) -> list[AskedWord]:
        """Common words of messages not understood in the period, used by at least
        `min_senders` different senders, most senders first."""
        stamps = [day.strftime("%Y%m%d") for day in days_between(first, last)]
        totals = await self._word_totals(stamps, languages)
        # A word used by N senders is in at least N messages: only those can pass.
        candidates = [(lang, word) for (lang, word), n in totals.items() if n >= min_senders]
        async with self._redis.pipeline(transaction=False) as pipe:
            for language, word in candidates:
                pipe.pfcount(*(self._keys.senders(day, language, word) for day in stamps))
            senders = await pipe.execute() if candidates else []
        found = [
            AskedWord(language, word, totals[(language, word)], int(count))
            for (language, word), count in zip(candidates, senders, strict=True)
            if int(count) >= min_senders
        ]
        found.sort(key=lambda w: (-w.senders, -w.messages, w.language, w.word))
        return found[:limit]

    async def _word_totals(
        self, stamps: Sequence[str], languages: Sequence[str]
    ) -> Counter[tuple[str, str]]:
        pairs = [(stamp, language) for stamp in stamps for language in languages]
        async with self._redis.pipeline(transaction=False) as pipe:
            for stamp, language in pairs:
                pipe.hgetall(self._keys.words(stamp, language))
            raws = await pipe.execute() if pairs else []
        totals: Counter[tuple[str, str]] = Counter()
        for (_, language), raw in zip(pairs, raws, strict=True):
            for word, count in raw.items():
                totals[(_text(language), _text(word))] += int(count)
        return totals


def parse_day(day: dt.date, raw: dict[Any, Any]) -> DayFigures:
    figures = DayFigures(day)
    for name, value in raw.items():
        kind, language, *rest = _text(name).split("|", 2)
        amount = int(value)
        if kind == "i" and rest:
            figures.messages[(language, rest[0])] += amount
        elif kind == "r":
            figures.sms[language] += amount
        elif kind == "s" and rest:
            figures.segments[(language, rest[0])] += amount
    return figures


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


# -- a period at a glance -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Period:
    """The figures of a chosen period, added up from the days."""

    days: list[DayFigures]
    segment_price: float

    def total(self, *intents: str, language: str | None = None) -> int:
        """Messages answered with any of `intents` (all intents when none is named)."""
        return sum(
            count
            for day in self.days
            for (lang, intent), count in day.messages.items()
            if (not intents or intent in intents) and (language is None or lang == language)
        )

    def share(self, *intents: str) -> float:
        everything = self.total()
        return self.total(*intents) / everything if everything else 0.0

    def by_intent(self) -> Counter[str]:
        found: Counter[str] = Counter()
        for day in self.days:
            for (_, intent), count in day.messages.items():
                found[intent] += count
        return found

    def topics(self) -> list[tuple[str, int]]:
        """(topic, messages), most asked first."""
        found = [
            (topic, count)
            for intent, count in self.by_intent().items()
            if (topic := intent_topic(intent)) is not None
        ]
        return sorted(found, key=lambda item: (-item[1], item[0]))

    def segments(self, language: str | None = None) -> int:
        return sum(
            count
            for day in self.days
            for (lang, _), count in day.segments.items()
            if language is None or lang == language
        )

    def sms(self, language: str | None = None) -> int:
        return sum(
            count
            for day in self.days
            for lang, count in day.sms.items()
            if language is None or lang == language
        )

    def cost(self, language: str | None = None) -> float:
        return self.segments(language) * self.segment_price


DAILY_COLUMNS = (
    "date",
    "messages",
    "messages_english",
    "messages_spanish",
    "not_understood",
    "emergency",
    "urgent",
    "sms_sent",
    "sms_segments",
    "segment_cost",
)


def daily_rows(period: Period) -> list[list[str]]:
    """One row per day, for a spreadsheet: the figures a grant report asks for."""
    rows = []
    for day in period.days:
        one = Period([day], period.segment_price)
        rows.append(
            [
                day.day.isoformat(),
                str(one.total()),
                str(one.total(language=ENGLISH)),
                str(one.total(language=SPANISH)),
                str(one.total(*UNANSWERED)),
                str(one.total("emergency")),
                str(one.total("urgent")),
                str(one.sms()),
                str(one.segments()),
                f"{one.cost():.2f}",
            ]
        )
    return rows
