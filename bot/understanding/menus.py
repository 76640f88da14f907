"""Which menu entry a reply picks: "2", "two", "dos", "the second one", "opción cinco", "1O"."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from bot.keywords import normalize
from bot.models import LANGUAGES

LETTER_DIGITS = str.maketrans({"o": "0", "l": "1", "i": "1"})
DIGITS_WITH_LETTERS = re.compile(r"^[0-9][0-9oli]?$|^[oli][0-9]$")
HASH_NUMBER = re.compile(r"^#?(\d{1,3})$")
WEAK_NUMBERS = frozenset({"one", "uno", "una"})  # also "the side effects one": a number only alone


class MenuWords:
    def __init__(self, data: Mapping[str, Any]):
        self._numbers: dict[str, int] = {}
        for section in ("number_words", "ordinals"):
            for language in LANGUAGES:
                for word, value in ((data.get(section) or {}).get(language) or {}).items():
                    self._numbers[normalize(str(word))] = int(value)
        self._fillers = frozenset(normalize(str(w)) for w in data.get("number_fillers") or ())

    def number(self, tokens: Sequence[str], size: int) -> int | None:
        """The entry (1-based) the message picks from a menu of `size`, if it only says that."""
        values: list[tuple[str, int]] = []
        for token in tokens:
            value = self._value(token)
            if value is not None:
                values.append((token, value))
            elif token not in self._fillers:
                return None
        strong = [v for t, v in values if t not in WEAK_NUMBERS] or [v for _, v in values]
        if len(set(strong)) != 1:
            return None
        value = strong[0]
        return size if value == -1 else value

    def _value(self, token: str) -> int | None:
        if token in self._numbers:
            return self._numbers[token]
        hashed = HASH_NUMBER.match(token)
        if hashed:
            return int(hashed.group(1))
        if DIGITS_WITH_LETTERS.match(token):
            return int(token.translate(LETTER_DIGITS))
        return None
