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
        # UTF-16 units: a character beyond the BMP (an emoji) is a surrogate pair of two.
        sizes = [2 if ord(char) > 0xFFFF else 1 for char in text]
        segments = _segments(sizes, UCS2_SINGLE, UCS2_PART)
        return SmsCost("UCS-2", sum(sizes), segments, len(text), offenders)
    # Septets: an extension character ([ ] { } € ...) is an escape plus itself, two.
    sizes = [len(char.encode("gsm03.38")) for char in text]
    return SmsCost("GSM-7", sum(sizes), _segments(sizes, GSM_SINGLE, GSM_PART), len(text), ())


def _segments(sizes: list[int], single: int, part: int) -> int:
    """Segments for characters of these sizes. A split never separates the two units of one
    character (an escape pair, a surrogate pair): a segment that cannot take the whole
    character ends one unit early."""
    if sum(sizes) <= single:
        return 1
    segments, used = 1, 0
    for size in sizes:
        if used + size > part:
            segments, used = segments + 1, 0
        used += size
    return segments


@dataclass(frozen=True, slots=True)
class Budget:
    """The most one reply may cost: the catalog check, the console and the PO header use it."""

    characters: int = 320
    segments: int = 3

    def over(self, cost: SmsCost) -> bool:
        return cost.characters > self.characters or cost.segments > self.segments


BUDGET = Budget()


def _is_gsm(char: str) -> bool:
    try:
        char.encode("gsm03.38")
    except UnicodeEncodeError:
        return False
    return True
