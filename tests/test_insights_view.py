"""The insights page's period and figures, from counters only."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from bot.console.insights_page import MAX_DAYS, choose_period, daily_csv, page_context
from bot.insights import AskedWord, DayFigures, Period

TODAY = dt.date(2026, 12, 1)


@pytest.mark.parametrize(
    ("args", "first", "last", "note"),
    [
        pytest.param({}, TODAY - dt.timedelta(29), TODAY, "", id="default-30-days"),
        pytest.param({"preset": "7"}, TODAY - dt.timedelta(6), TODAY, "", id="a-week"),
        pytest.param({"preset": "x"}, TODAY - dt.timedelta(29), TODAY, "", id="unknown-preset"),
        pytest.param(
            {"start": "2026-11-01", "end": "2026-11-30"},
            dt.date(2026, 11, 1),
            dt.date(2026, 11, 30),
            "",
            id="dates",
        ),
        pytest.param(
            {"start": "2026-11-30", "end": "2026-11-01"},
            dt.date(2026, 11, 1),
            dt.date(2026, 11, 30),
            "wrong way round",
            id="swapped",
        ),
        pytest.param(
            {"start": "2020-01-01"},
            TODAY - dt.timedelta(MAX_DAYS - 1),
            TODAY,
            "13 months",
            id="longer-than-kept",
        ),
        pytest.param(
            {"start": "2026-11-01", "end": "2027-01-01"},
            dt.date(2026, 11, 1),
            TODAY,
            "ends today",
            id="the-future",
        ),
        pytest.param(
            {"start": "yesterday"},
            TODAY - dt.timedelta(29),
            TODAY,
            "could not be read",
            id="unreadable",
        ),
    ],
)
def test_choose_period(args: dict[str, str], first: dt.date, last: dt.date, note: str) -> None:
    chosen = choose_period(TODAY, **args)
    assert (chosen.first, chosen.last) == (first, last)
    assert note in chosen.note


def test_page_figures() -> None:
    day = DayFigures(
        TODAY,
        Counter({("en", "topic:cost"): 6, ("es", "not_understood"): 2, ("es", "emergency"): 2}),
        Counter({"en": 6, "es": 4}),
        Counter({("en", "GSM-7"): 6, ("es", "UCS-2"): 12}),
    )
    words = [AskedWord("es", "seguro", 7, 5)]
    page = page_context(Period([day], 0.01), words, {"cost": "Cost and insurance"}, ["en", "es"])
    assert page["total"] == 10
    assert [lang["share"] for lang in page["languages"]] == ["60%", "40%"]
    assert page["not_understood_share"] == "20%"
    assert page["safety"][0] == {"name": "Emergency answers (911 first)", "count": 2}
    assert page["topics"] == [{"name": "Cost and insurance", "count": 6, "share": "60%"}]
    assert page["cost"] == "$0.18" and page["segments"] == 18
    assert page["words"] == words
    assert all(str(svg).startswith("<svg") for svg in page["charts"].values())


def test_an_empty_period_has_no_division_by_zero() -> None:
    page = page_context(Period([DayFigures(TODAY)], 0.01), [], {}, ["en", "es"])
    assert page["not_understood_share"] == "-" and page["cost"] == "$0.00"


def test_daily_csv_has_a_header_and_a_row_a_day() -> None:
    text = daily_csv(Period([DayFigures(TODAY - dt.timedelta(1)), DayFigures(TODAY)], 0.01))
    lines = text.strip().splitlines()
    assert lines[0].startswith("date,messages,messages_english,messages_spanish")
    assert [line.split(",")[0] for line in lines[1:]] == ["2026-11-30", "2026-12-01"]
