"""What staff read when they save and review: a reply over budget said in words, and the
words a draft changed.

Both come from the same measures the catalog check uses (`bot.sms`, the limits in
`bot.catalog`), so what the editor is told at save time is what the reviewer meets.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Literal

from bot.catalog.check import MAX_CHARACTERS, MAX_SEGMENTS
from bot.sms import GSM_PART, GSM_SINGLE, UCS2_PART, UCS2_SINGLE, measure

Kind = Literal["same", "added", "removed"]
TOKENS = re.compile(r"\s+|[\w°]+|[^\w\s]", re.UNICODE)


def units_allowed(encoding: str) -> int:
    """The most units a reply may take within MAX_SEGMENTS in this encoding."""
    single, part = (GSM_SINGLE, GSM_PART) if encoding == "GSM-7" else (UCS2_SINGLE, UCS2_PART)
    return single if MAX_SEGMENTS == 1 else part * MAX_SEGMENTS


def budget_warning(text: str, name: str = "This reply") -> str | None:
    """None when `text` can be published; else a sentence saying by how much it is too long
    and what would bring it within the limit."""
    cost = measure(text)
    if cost.characters <= MAX_CHARACTERS and cost.segments <= MAX_SEGMENTS:
        return None
    excess_units = cost.units - units_allowed(cost.encoding)
    excess_characters = cost.characters - MAX_CHARACTERS
    remove = max(excess_units, excess_characters)
    parts = [
        f"{name} is too long to publish: {cost.characters} characters, "
        f"{cost.segments} SMS (the limit is {MAX_CHARACTERS} characters and {MAX_SEGMENTS} SMS)."
        f" Remove about {remove} character{'s' if remove != 1 else ''}"
    ]
    if cost.ucs2_characters:
        without = "".join(char for char in text if char not in cost.ucs2_characters)
        plain = measure(without)
        fits = plain.segments <= MAX_SEGMENTS and plain.characters <= MAX_CHARACTERS
        shown = " ".join(cost.ucs2_characters)
        parts.append(
            f", or avoid {shown}: each makes the whole SMS cost more"
            + (" and without them it would fit" if fits else "")
        )
    return "".join(parts) + "."


@dataclass(frozen=True, slots=True)
class Run:
    text: str
    kind: Kind


def changed_words(before: str, after: str) -> list[Run]:
    """`after` against `before` word by word: unchanged runs, removed and added words.

    Spaces and line breaks are tokens of their own, so a changed line break shows, and
    punctuation is apart from its word, so "fiebre" -> "fiebre," marks only the comma.
    """
    old, new = TOKENS.findall(before), TOKENS.findall(after)
    runs: list[Run] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for operation, a1, a2, b1, b2 in matcher.get_opcodes():
        if operation == "equal":
            _append(runs, "".join(old[a1:a2]), "same")
            continue
        if a2 > a1:
            _append(runs, "".join(old[a1:a2]), "removed")
        if b2 > b1:
            _append(runs, "".join(new[b1:b2]), "added")
    return runs


def _append(runs: list[Run], text: str, kind: Kind) -> None:
    if runs and runs[-1].kind == kind:
        runs[-1] = Run(runs[-1].text + text, kind)
    else:
        runs.append(Run(text, kind))
