"""The insights page's figures for a chosen period: what a manager reads at a glance.

Pure: it takes the days read from Redis and returns what the template shows, so the page,
the CSV export and the tests all see the same numbers.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.console import charts
from bot.insights import DAILY_COLUMNS, UNANSWERED, AskedWord, Period, daily_rows

MAX_DAYS = 400  # what is kept: 13 months
PRESETS = {"7": "Last 7 days", "30": "Last 30 days", "90": "Last 3 months", "365": "Last 12 months"}
DEFAULT_PRESET = "30"
# Outcomes the understanding may give, in the order a manager reads them. Any other intent
# (a topic, the menu, STOP...) is counted under its own name.
SAFETY = {"emergency": "Emergency answers (911 first)", "urgent": "Urgent-symptom answers"}
CHOICES = ("did_you_mean", "did_you_mean_chosen")


@dataclass(frozen=True, slots=True)
class Chosen:
    first: dt.date
    last: dt.date
    preset: str  # "" for dates typed in
    note: str = ""  # what was changed in the request, said in words

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def choose_period(today: dt.date, preset: str = "", start: str = "", end: str = "") -> Chosen:
    """The period asked for: a preset, or two dates; never longer than what is kept."""
    if start or end:
        try:
            first = dt.date.fromisoformat(start) if start else today - dt.timedelta(29)
            last = dt.date.fromisoformat(end) if end else today
        except ValueError:
            return _preset(today, DEFAULT_PRESET, "Those dates could not be read: last 30 days.")
        note = ""
        if last > today:
            last, note = today, "The period ends today."
        if first > last:
            first, last, note = last, first, "The dates were the wrong way round."
        if (last - first).days >= MAX_DAYS:
            first = last - dt.timedelta(MAX_DAYS - 1)
            note = "Figures are kept 13 months: the period starts later."
        return Chosen(first, last, "", note)
    return _preset(today, preset if preset in PRESETS else DEFAULT_PRESET)


def _preset(today: dt.date, preset: str, note: str = "") -> Chosen:
    return Chosen(today - dt.timedelta(int(preset) - 1), today, preset, note)


def page_context(
    period: Period,
    words: Sequence[AskedWord],
    topic_names: Mapping[str, str],
    languages: Sequence[str],
    currency: str = "$",
) -> dict[str, Any]:
    """Everything the insights template shows."""
    total = period.total()
    by_intent = period.by_intent()
    return {
        "total": total,
        "languages": [
            {
                "name": charts.LANGUAGE_NAMES.get(language, language),
                "messages": period.total(language=language),
                "share": _share(period.total(language=language), total),
            }
            for language in languages
        ],
        "not_understood": period.total(*UNANSWERED),
        "not_understood_share": _share(period.total(*UNANSWERED), total),
        "safety": [
            {"name": name, "count": by_intent.get(intent, 0)} for intent, name in SAFETY.items()
        ],
        "choices": [(intent, by_intent[intent]) for intent in CHOICES if by_intent.get(intent)],
        "topics": [
            {"name": topic_names.get(topic, topic), "count": count, "share": _share(count, total)}
            for topic, count in period.topics()[:15]
        ],
        "sms": period.sms(),
        "segments": period.segments(),
        "segments_by_language": [
            {
                "name": charts.LANGUAGE_NAMES.get(language, language),
                "segments": period.segments(language),
                "cost": f"{currency}{period.cost(language):,.2f}",
            }
            for language in languages
        ],
        "cost": f"{currency}{period.cost():,.2f}",
        "price": f"{currency}{period.segment_price:.4f}",
        "words": words,
        "charts": {
            "messages": charts.messages_per_day(period, languages),
            "not_understood": charts.not_understood_share(period),
            "topics": charts.top_topics(period, topic_names),
            "segments": charts.segments_per_day(period, languages, currency),
        },
    }


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


def daily_csv(period: Period) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(DAILY_COLUMNS)
    writer.writerows(daily_rows(period))
    return out.getvalue()
