"""How an SMS text will travel: its encoding and how many segments it costs.

A message that fits GSM-7 travels 160 septets in one SMS, or 153 per segment when split
(the rest carries the concatenation header). One character outside GSM-7 (for example
á í ó ú) switches the whole message to UCS-2: 70 UTF-16 units, or 67 per segment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)

Encoding = Literal["GSM-7", "UCS-2"]

GSM_SINGLE, GSM_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67

# Typography that sneaks in from word processors and CLDR data. Each has a GSM-7 twin
# that reads the same, so replacing it keeps a message at a third of the UCS-2 cost.
GSM_FRIENDLY = str.maketrans(
    {
        "\u00a0": " ",  # no-break space
        "\u2009": " ",  # thin space
        "\u202f": " ",  # narrow no-break space (CLDR puts it before AM/PM)
        "\u2013": "-",  # en dash
        "\u2014": "-",  # em dash
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2026": "...",
    }
)


@dataclass(frozen=True, slots=True)
class SmsCost:
    encoding: Encoding
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int
    characters: int
    ucs2_characters: tuple[str, ...]  # the characters that forced UCS-2, in order of appearance


def gsm_friendly(text: str) -> str:
    return text.translate(GSM_FRIENDLY)


def non_gsm_characters(text: str) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for char in text:
        if char not in found and not _is_gsm(char):
            found[char] = None
    return tuple(found)


def measure(text: str) -> SmsCost:
    offenders = non_gsm_characters(text)
    if offenders:
        units = len(text.encode("utf-16-le")) // 2
        segments = _segments(units, UCS2_SINGLE, UCS2_PART)
        return SmsCost("UCS-2", units, segments, len(text), offenders)
    units = len(text.encode("gsm03.38"))  # extension characters ([ ] { } € ...) take two
    return SmsCost("GSM-7", units, _segments(units, GSM_SINGLE, GSM_PART), len(text), ())


def _segments(units: int, single: int, part: int) -> int:
    if units == 0:
        return 1
    if units <= single:
        return 1
    return -(-units // part)


def _is_gsm(char: str) -> bool:
    try:
        char.encode("gsm03.38")
    except UnicodeEncodeError:
        return False
    return True
