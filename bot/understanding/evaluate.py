"""Measure understanding on labelled messages (tests/data/understanding/*.yaml).

Each message is routed by the real router, as the first message of a sender whose language is
not known yet (or, for a menu answer or a text without letters, a sender who reads the item's
language and just saw the menu), and the reply is compared with the label.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from bot.models import DRUG_INTENT, TOPIC_INTENT, Inbound, Language, Reply, Session
from bot.router import CHOICES_PREFIX, Router

SAFETY = ("emergency", "urgent")


@dataclass(frozen=True, slots=True)
class Miss:
    """A labelled message the reply got wrong, for `smsbot understand eval --misses`."""

    measure: str  # e.g. urgent_recall, top1.es
    text: str
    expected: str
    got: str


@dataclass
class Tally:
    counts: Counter[str] = field(default_factory=Counter)
    misses: list[Miss] = field(default_factory=list)

    def add(self, name: str, hit: bool) -> None:
        self.counts[f"{name}.n"] += 1
        self.counts[f"{name}.hit"] += int(hit)

    def rate(self, name: str) -> float | None:
        total = self.counts[f"{name}.n"]
        return self.counts[f"{name}.hit"] / total if total else None

    def n(self, name: str) -> int:
        return self.counts[f"{name}.n"]


def load_items(path: Path) -> list[dict[str, Any]]:
    return load_set(path)[0]


def load_set(path: Path) -> tuple[list[dict[str, Any]], bool]:
    """The labelled messages, and whether the set is held to the recall floors only: one that
    says `floors: recall` was written to find where the safety check is too cautious (figures of
    speech, symptoms that are over or someone else's), and its false alarms are reported, not a
    floor."""
    data = YAML(typ="safe").load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        return [], False
    return list(data.get("items") or []), data.get("floors") == "recall"


def evaluate(router: Router, items: Iterable[Mapping[str, Any]]) -> Tally:
    tally = Tally()
    for item in items:
        before = _before(item)
        reply, session = router.route(_inbound(item), before, now=1_800_000_000)
        topics = _answered_topics(reply, session) or _understood_topics(router, item, before)
        _score(tally, item, reply, topics)
    return tally


def _inbound(item: Mapping[str, Any]) -> Inbound:
    return Inbound("eval-sender", "SMeval", str(item["text"]), from_country="US")


def _before(item: Mapping[str, Any]) -> Session:
    text = str(item["text"])
    if item.get("expect") == "menu_item" or not any(c.isalpha() for c in text):
        language: Language = "es" if item.get("lang") == "es" else "en"
        return Session(language=language, menu=str(item.get("context") or "main"))
    return Session()  # known to the store, language still to be found


def _answered_topics(reply: Reply, session: Session) -> tuple[str, ...]:
    """The topic answered (one), or the did-you-mean choices (several)."""
    if reply.intent == "choose" and session.menu and session.menu.startswith(CHOICES_PREFIX):
        return tuple(session.menu[1:].split(","))
    if reply.intent == "nurse":
        return ("nurse",)
    for prefix in (TOPIC_INTENT, DRUG_INTENT):
        if reply.intent.startswith(prefix):
            return (reply.intent.removeprefix(prefix),)
    return ()


def _understood_topics(router: Router, item: Mapping[str, Any], before: Session) -> tuple[str, ...]:
    """A topic understood that has no page in the menus yet (written on another branch, or
    planned) still counts as understood: the eval measures reading, not the catalog."""
    reading = router.read(str(item["text"]), before)
    if reading is None or reading.alarm or reading.decision == "none":
        return ()
    return reading.topics


def _score(tally: Tally, item: Mapping[str, Any], reply: Reply, topics: tuple[str, ...]) -> None:
    expect = str(item.get("expect"))
    lang = str(item.get("lang") or "en")
    level = reply.intent if reply.intent in SAFETY else ""
    wanted = _wanted(item)

    def count(measure: str, hit: bool, wrong: bool) -> None:
        tally.add(measure, hit)
        if wrong:
            got = reply.intent + (f" {'/'.join(topics)}" if topics else "")
            expected = f"{expect} {'/'.join(sorted(wanted))}".strip()
            tally.misses.append(Miss(measure, str(item["text"]), expected, got))

    if expect == "emergency":
        count("emergency_recall", level == "emergency", level != "emergency")
    elif expect == "urgent":
        count("urgent_recall", bool(level), not level)
    else:
        # `alarm_ok`: a question about when to call for an emergency sign ("when should i call
        # about chest pain?") is rightly answered by the 911 reply, so it is no false alarm.
        alarm = bool(level) and not item.get("alarm_ok")
        count("false_alarm", alarm, alarm)
    count(f"language.{lang}", reply.language == lang, reply.language != lang)
    if expect in SAFETY:
        return
    if expect in ("topic", "menu_item"):
        single = reply.intent != "choose" and bool(topics) and topics[0] in wanted
        count(f"top1.{lang}", single, not single)
        tally.add(f"top3.{lang}", single or bool(set(topics[:3]) & wanted))
    elif expect in ("courtesy", "none"):
        allowed = (
            ("courtesy",) if expect == "courtesy" else ("not_understood", "choose", "courtesy")
        )
        count(f"top1.{lang}", reply.intent in allowed, reply.intent not in allowed)
        tally.add(f"top3.{lang}", reply.intent in allowed)


def _wanted(item: Mapping[str, Any]) -> set[str]:
    wanted = {str(t) for t in [item.get("topic"), *(item.get("accept") or [])] if t}
    if item.get("label"):
        wanted.add(str(item["label"]))
    return wanted


def resolve_menu_items(router: Router, items: Sequence[dict[str, Any]]) -> None:
    """A menu answer by position names the topic at that position of its menu."""
    for item in items:
        if item.get("expect") == "menu_item" and item.get("item") and not item.get("topic"):
            menu = router.structure.menus.get(str(item.get("context") or "main"))
            position = int(item["item"])
            if menu and 1 <= position <= len(menu.items):
                item["topic"] = menu.items[position - 1]


def summary(name: str, tally: Tally) -> list[str]:
    def pct(key: str) -> str:
        rate = tally.rate(key)
        return "   -  " if rate is None else f"{rate * 100:5.1f}%"

    lines = [f"{name}:"]
    for lang in ("en", "es"):
        lines.append(
            f"  {lang}: top-1 {pct(f'top1.{lang}')}  top-3 {pct(f'top3.{lang}')}  "
            f"(n={tally.n(f'top1.{lang}')})  reply language right {pct(f'language.{lang}')}"
        )
    lines.append(
        f"  emergency recall {pct('emergency_recall')} (n={tally.n('emergency_recall')})  "
        f"urgent recall {pct('urgent_recall')} (n={tally.n('urgent_recall')})  "
        f"false alarms {pct('false_alarm')} (n={tally.n('false_alarm')})"
    )
    return lines


FLOORS = {"emergency_recall": 1.0, "urgent_recall": 1.0, "top1": 0.90}
MAX_FALSE_ALARMS = 0.02


def below_floors(tally: Tally, recall_only: bool = False) -> list[str]:
    problems = []
    for key in ("emergency_recall", "urgent_recall"):
        rate = tally.rate(key)
        if rate is not None and rate < FLOORS[key]:
            problems.append(f"{key} {rate:.1%} < {FLOORS[key]:.0%}")
    hits = sum(tally.counts[f"top1.{lang}.hit"] for lang in ("en", "es"))
    total = sum(tally.counts[f"top1.{lang}.n"] for lang in ("en", "es"))
    if total and hits / total < FLOORS["top1"]:
        problems.append(f"top-1 {hits / total:.1%} < {FLOORS['top1']:.0%}")
    alarms = tally.rate("false_alarm")
    if alarms is not None and alarms >= MAX_FALSE_ALARMS and not recall_only:
        problems.append(f"false alarms {alarms:.1%} >= {MAX_FALSE_ALARMS:.0%}")
    return problems
