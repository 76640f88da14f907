"""When a patient can expect the nurse's call: CALLBACK_WINDOW_HOURS of clinic hours.

A request made while the clinic is open is due that many open hours later; one made while it
is closed starts counting at the next opening. Hours are CLINIC_HOURS ('Mon-Fri 08:00-17:00,
Sat 09:00-12:00') in CLINIC_TIMEZONE. The time is told in the patient's language, by Babel.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time

from bot.clinic import parse_hours
from bot.models import Language
from bot.sms import gsm_friendly

__all__ = ["CallbackWindow", "parse_hours"]

LOOK_AHEAD_DAYS = 14  # a week of hours always has an opening; two cover any window


@dataclass(frozen=True)
class CallbackWindow:
    hours: str  # CLINIC_HOURS
    zone: ZoneInfo
    window: timedelta
    locales: Mapping[Language, str]

    def due(self, asked: float) -> int:
        """Unix time by which the call is promised, for a request made at `asked`."""
        start = datetime.fromtimestamp(asked, self.zone)
        left = self.window
        for opens, closes in self._openings(start):
            begin = max(opens, start)
            if closes <= begin:
                continue
            if closes - begin >= left:
                return int((begin + left).timestamp())
            left -= closes - begin
        return int((start + self.window).timestamp())  # no hours at all: plain hours then

    def describe(self, due: int, language: Language) -> str:
        """'Tuesday 11:00 AM' / 'martes 11:00 a. m.', in the clinic's time, SMS-friendly."""
        moment = datetime.fromtimestamp(due, UTC).astimezone(self.zone)
        locale = self.locales[language]
        day = format_date(moment, "EEEE", locale=locale)
        clock = format_time(moment, "short", locale=locale)
        return gsm_friendly(f"{day} {clock}")

    def _openings(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Opening and closing times from the day of `start` on, in order."""
        groups = parse_hours(self.hours)
        for offset in range(LOOK_AHEAD_DAYS):
            day = (start + timedelta(days=offset)).date()
            spans = []
            for (first, last), (opens, closes) in groups:
                if _covers(first, last, day.weekday()):
                    spans.append(
                        (
                            datetime.combine(day, opens, self.zone),
                            datetime.combine(day, closes, self.zone),
                        )
                    )
            yield from sorted(spans)


def _covers(first: int, last: int, weekday: int) -> bool:
    """Mon-Fri covers 0..4; Sat-Mon wraps around the week."""
    if first <= last:
        return first <= weekday <= last
    return weekday >= first or weekday <= last
