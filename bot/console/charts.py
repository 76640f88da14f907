"""Insights charts, drawn on the server as SVG with pygal: no script, no CDN, nothing to load.

Each chart is a picture for reading at a glance; the page puts the same figures in a table
beside it, for a screen reader and for copying. Colours: blue and orange, told apart with
any common colour-vision deficiency, and the console's own blue.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any

import pygal
from markupsafe import Markup
from pygal.style import Style

from bot.insights import UNANSWERED, DayFigures, Period
from bot.models import ENGLISH, SPANISH

SVG = "http://www.w3.org/2000/svg"
ET.register_namespace("", SVG)
ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
LANGUAGE_NAMES: dict[str, str] = {ENGLISH: "English", SPANISH: "Spanish"}
STYLE = Style(
    font_family='system-ui, -apple-system, "Segoe UI", sans-serif',
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1d1d1f",
    foreground_strong="#1d1d1f",
    foreground_subtle="#6b7280",
    colors=("#0b5cab", "#e07b00", "#6b7280", "#991b1b"),
    title_font_size=16,
    label_font_size=12,
    major_label_font_size=12,
    legend_font_size=13,
    value_font_size=12,
)


def _config(title: str, height: int = 320) -> pygal.Config:
    config = pygal.Config()
    config.title = title
    config.style = STYLE
    config.js = []  # pygal's tooltips load a script from the web: never
    config.disable_xml_declaration = True
    config.width, config.height = 720, height
    config.legend_at_bottom = True
    config.show_minor_x_labels = False
    config.truncate_label = -1
    config.print_zeroes = False
    return config


def _svg(chart: Any) -> Markup:
    """The chart without the script pygal always embeds (its settings, for tooltips that
    would need a script from the web): a picture and nothing that runs."""
    root = ET.fromstring(chart.render(is_unicode=True))
    for parent in root.iter():
        for script in parent.findall(f"{{{SVG}}}script"):
            parent.remove(script)
    return Markup(ET.tostring(root, encoding="unicode"))  # labels escaped by the serializer


def _day_labels(days: Sequence[DayFigures]) -> tuple[list[str], list[str]]:
    """Every day's label, and the few shown: about eight whatever the period's length."""
    labels = [f"{day.day:%b} {day.day.day}" for day in days]
    step = max(1, len(labels) // 8)
    return labels, labels[::step]


def messages_per_day(period: Period, languages: Sequence[str]) -> Markup:
    chart = pygal.StackedBar(_config("Messages per day"))
    chart.x_labels, chart.x_labels_major = _day_labels(period.days)
    for language in languages:
        counts = [Period([day], 0).total(language=language) for day in period.days]
        chart.add(LANGUAGE_NAMES.get(language, language), counts)
    return _svg(chart)


def not_understood_share(period: Period) -> Markup:
    config = _config("Share of messages not understood (%)")
    config.range = (0, 100)
    config.show_dots = len(period.days) <= 31
    chart = pygal.Line(config)
    chart.x_labels, chart.x_labels_major = _day_labels(period.days)
    shares = [
        round(100 * Period([day], 0).share(*UNANSWERED), 1) if Period([day], 0).total() else None
        for day in period.days
    ]
    chart.add("Not understood", shares)
    return _svg(chart)


def top_topics(period: Period, labels: Mapping[str, str], limit: int = 10) -> Markup:
    topics = period.topics()[:limit]
    config = _config("Top topics", height=80 + 30 * max(1, len(topics)))
    config.show_legend = False
    config.print_values = True
    config.x_labels = [labels.get(topic, topic) for topic, _ in reversed(topics)]
    chart = pygal.HorizontalBar(config)
    chart.add("Messages", [count for _, count in reversed(topics)])
    return _svg(chart)


def segments_per_day(period: Period, languages: Sequence[str], currency: str = "$") -> Markup:
    title = f"SMS segments sent: {period.segments():,} ({currency}{period.cost():,.2f})"
    chart = pygal.StackedBar(_config(title))
    chart.x_labels, chart.x_labels_major = _day_labels(period.days)
    for language in languages:
        chart.add(
            LANGUAGE_NAMES.get(language, language),
            [Period([day], 0).segments(language) for day in period.days],
        )
    return _svg(chart)
