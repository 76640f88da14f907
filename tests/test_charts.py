"""Insights charts: SVG drawn on the server, with no script and nothing fetched."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable

import pytest
from markupsafe import Markup

from bot.console import charts
from bot.insights import DayFigures, Period, days_between

FIRST = dt.date(2026, 11, 1)
SVG = "{http://www.w3.org/2000/svg}"
Draw = Callable[[Period], Markup]


def period(days: int = 30) -> Period:
    figures = []
    for n, day in enumerate(days_between(FIRST, FIRST + dt.timedelta(days=days - 1))):
        figures.append(
            DayFigures(
                day,
                Counter(
                    {("en", "topic:cost"): n, ("es", "topic:call"): 2, ("es", "not_understood"): 1}
                ),
                Counter({"en": n, "es": 3}),
                Counter({("en", "GSM-7"): 2 * n, ("es", "UCS-2"): 9}),
            )
        )
    return Period(figures, segment_price=0.0079)


ALL = [
    pytest.param(lambda p: charts.messages_per_day(p, ["en", "es"]), id="messages"),
    pytest.param(charts.not_understood_share, id="not-understood"),
    pytest.param(lambda p: charts.top_topics(p, {"cost": "Cost & insurance"}), id="topics"),
    pytest.param(lambda p: charts.segments_per_day(p, ["en", "es"]), id="segments"),
]


@pytest.mark.parametrize("draw", ALL)
def test_a_chart_is_svg_with_no_script_and_no_link(draw: Draw) -> None:
    svg = str(draw(period()))
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert "<script" not in svg
    assert not re.findall(r'(?:href|src)="(?!#)', svg)  # nothing loaded from anywhere


@pytest.mark.parametrize("draw", ALL)
def test_a_quiet_period_still_draws(draw: Draw) -> None:
    quiet = Period([DayFigures(day) for day in days_between(FIRST, FIRST)], 0.0079)
    assert ET.fromstring(str(draw(quiet))).tag == f"{SVG}svg"


def test_topics_have_their_human_names_and_labels_are_escaped() -> None:
    svg = str(charts.top_topics(period(), {"cost": "Cost & <insurance>"}))
    assert "Cost &amp; &lt;insurance&gt;" in svg


def test_the_segments_chart_says_the_cost() -> None:
    p = period(2)
    assert p.segments() == 2 + 18 and f"${p.cost():.2f}" in str(charts.segments_per_day(p, ["en"]))


def test_a_year_shows_a_few_day_labels_only() -> None:
    svg = str(charts.messages_per_day(period(365), ["en", "es"]))
    texts = [text.text or "" for text in ET.fromstring(svg).iter(f"{SVG}text")]
    days = [text for text in texts if re.fullmatch(r"[A-Z][a-z]{2} \d{1,2}", text)]
    assert days[0] == "Nov 1" and 4 <= len(days) <= 10, days  # about eight of 365
