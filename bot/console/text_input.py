"""Texts as staff type or upload them, made into the form the catalog stores.

A browser sends a textarea's line breaks as CRLF, Excel keeps CR or CRLF inside a cell, a
word processor leaves spaces at the ends of lines, and macOS may type an accent as a letter
plus a combining mark. None of these is a change a nurse meant to make, but each changes the
stored text: the length and segments the check counts, what the review lists as changed, and
the SMS a patient receives. So every text that comes in through the console is normalized
here first, and compared with the stored text in the same form.
"""

from __future__ import annotations

import re
import unicodedata

# Characters no one can see that would still travel in an SMS. Each one forces UCS-2 (a text
# three times as dear) and makes an untouched text look edited. A zero-width joiner (U+200D)
# stays: it holds emoji sequences together.
INVISIBLE = str.maketrans({"\ufeff": None, "\u200b": None, "\u2060": None})
LINE_BREAKS = re.compile(r"\r\n|\r|\u2028|\u2029|\x85")


def normalize_text(text: str) -> str:
    """One line ending (LF), no spaces at line ends, no blank lines around the text, NFC."""
    unified = LINE_BREAKS.sub("\n", text.translate(INVISIBLE))
    lines = [line.rstrip() for line in unicodedata.normalize("NFC", unified).split("\n")]
    return "\n".join(lines).strip("\n").lstrip()


def same_text(typed: str, stored: str) -> bool:
    """True when `typed` differs from `stored` only in what normalization removes."""
    return normalize_text(typed) == normalize_text(stored)


def normalize_words(lines: str) -> list[str]:
    """A keyword list typed one per line: each normalized, blanks and repeats dropped."""
    words: dict[str, None] = {}
    for line in normalize_text(lines).split("\n"):
        word = " ".join(line.split())
        if word:
            words.setdefault(word, None)
    return list(words)
