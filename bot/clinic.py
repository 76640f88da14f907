"""Clinic details, formatted the way each locale writes them: phone number and opening hours."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import time

import phonenumbers
from babel import Locale
from babel.dates import format_time, get_day_names

from bot.sms import gsm_friendly


@dataclass(frozen=True, slots=True)
class ClinicDetails:
    program_name: str
    clinic_phone: str
    clinic_hours: str
    after_hours_phone: str = ""  # the 24/7 line that reaches the doctor on call
    financial_counselor_phone: str = ""
    program_name_es: str = ""  # the name Spanish readers see; empty: program_name

    def for_locale(self, locale: str) -> dict[str, str]:
        optional = {
            name: format_phone(raw, locale) if raw.strip() else ""
            for name, raw in (
                ("after_hours_phone", self.after_hours_phone),
                ("financial_counselor_phone", self.financial_counselor_phone),
            )
        }
        spanish = Locale.parse(locale).language == "es"
        return {
            "program_name": (self.program_name_es if spanish else "") or self.program_name,
            "clinic_phone": format_phone(self.clinic_phone, locale),
            "clinic_hours": format_hours(self.clinic_hours, locale),
            **optional,
        }

    def flipped(self) -> ClinicDetails:
        """The other case of every optional number: set (to a number as long as the clinic's)
        where it is empty, empty where it is set. The catalog check measures both."""
        return replace(
            self,
            after_hours_phone="" if self.after_hours_phone.strip() else self.clinic_phone,
            financial_counselor_phone=(
                "" if self.financial_counselor_phone.strip() else self.clinic_phone
            ),
        )


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def format_phone(raw: str, locale: str) -> str:
    """National format when the clinic is in the locale's country, international otherwise."""
    region = Locale.parse(locale).territory or "US"
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return raw
    same_country = phonenumbers.region_code_for_number(number) in (region, None)
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if same_country
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)


def format_hours(raw: str, locale: str) -> str:
    """'Mon-Fri 08:00-17:00, Sat 09:00-12:00' in the locale's day names and clock.

    Text that does not follow that pattern is shown as written, so a clinic can always say
    something the pattern cannot express.
    """
    groups = [group.strip() for group in raw.replace(";", ",").split(",") if group.strip()]
    spanish = Locale.parse(locale).language == "es"
    try:
        return (" y " if spanish else ", ").join(
            _format_hours_group(group, locale) for group in groups
        )
    except ValueError:
        return raw


def parse_hours(raw: str) -> list[tuple[tuple[int, int], tuple[time, time]]]:
    """Raise ValueError when CLINIC_HOURS does not follow 'Mon-Fri 08:00-17:00[, ...]'."""
    parsed = []
    for group in raw.replace(";", ",").split(","):
        if not group.strip():
            continue
        days, _, hours = group.strip().partition(" ")
        first, _, last = days.lower().partition("-")
        start, _, end = hours.strip().partition("-")
        parsed.append(
            ((DAYS.index(first[:3]), DAYS.index((last or first)[:3])), (_clock(start), _clock(end)))
        )
    if not parsed:
        raise ValueError("no hours given")
    return parsed


def _format_hours_group(group: str, locale: str) -> str:
    ((first, last), (start, end)) = parse_hours(group)[0]
    names = get_day_names("wide", locale=locale)
    opening = format_time(start, "short", locale=locale)
    closing = format_time(end, "short", locale=locale)
    if Locale.parse(locale).language == "es":  # read aloud, not as a timetable
        days = names[first] if first == last else f"de {names[first]} a {names[last]}"
        return gsm_friendly(f"{days}, de {opening} a {closing}")
    days = names[first] if first == last else f"{names[first]}-{names[last]}"
    return gsm_friendly(f"{days} {opening}-{closing}")


def _clock(text: str) -> time:
    hour, _, minute = text.strip().partition(":")
    return time(int(hour), int(minute or 0))
