"""Find listed words and phrases in a message, forgiving inflections, accents and typos.

A listed word matches a message word when they are the same, share a Snowball stem in English
or Spanish ("breathing" ~ "breathe"), or when the message word is not a real word in either
language and is one or two typos away from the listed one ("diarea", "chesst"). A real word is
never read as a typo of another ("infusion" is not "confusion"). "respir*" is a prefix.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.keywords import allowed_typos, normalize
from bot.understanding.language import Frequencies, frequencies
from bot.understanding.text import stem

MIN_STEM = 4  # shorter words must match exactly: "sed" (thirst) is not "seda"
MIN_FUZZY = 4  # shorter words must be spelled right
MIN_PREFIX_FUZZY = 4

Atom = tuple[str, str]  # (folded word, "word" | "exact" | "prefix")


@dataclass(frozen=True, slots=True)
class Term:
    """A listed word or phrase, as a sequence of atoms."""

    atoms: tuple[int, ...]

    def matches_at(self, tokens: Sequence[frozenset[int]], start: int) -> bool:
        atoms = self.atoms
        if len(atoms) == 1:
            return start < len(tokens) and atoms[0] in tokens[start]
        if start + len(atoms) > len(tokens):
            return False
        return all(atom in tokens[start + i] for i, atom in enumerate(atoms))


class Vocabulary:
    """Interns atoms and tells, per message word, which atoms it may stand for (cached)."""

    def __init__(self, table: Frequencies | None = None):
        self._table = table or frequencies()
        self._ids: dict[Atom, int] = {}
        self._exact: dict[str, set[int]] = {}
        self._stems: dict[tuple[str, str], set[int]] = {}
        self._prefixes: list[tuple[str, int]] = []
        self._by_length: dict[int, list[str]] = {}
        self._fuzzy: set[int] = set()  # atoms a typo may stand for
        self.atoms_of = lru_cache(maxsize=50_000)(self._atoms_of)

    def term(self, text: str, respell: Callable[[str], list[str]] = str.split) -> Term | None:
        """A listed word or phrase: "=took" only as written, "respir*" as a prefix."""
        atoms: list[int] = []
        for part in text.split():
            exact, prefix = part.startswith("="), part.endswith("*")
            words = respell(normalize(part))
            for i, word in enumerate(words):
                last = i == len(words) - 1
                atoms.append(
                    self._intern(
                        word, "prefix" if prefix and last else ("exact" if exact else "word")
                    )
                )
        return Term(tuple(atoms)) if atoms else None

    def read(self, tokens: Iterable[str]) -> list[frozenset[int]]:
        return [self.atoms_of(token) for token in tokens]

    def _intern(self, word: str, mode: str) -> int:
        atom: Atom = (word, mode)
        if atom in self._ids:
            return self._ids[atom]
        self._ids[atom] = ident = len(self._ids)
        if mode == "prefix":
            self._prefixes.append((word, ident))
            return ident
        self._exact.setdefault(word, set()).add(ident)
        if mode == "exact":
            return ident
        if len(word) >= MIN_STEM:
            for language in self._table.plausible_in(word):
                self._stems.setdefault((language, stem(word, language)), set()).add(ident)
        if len(word) >= MIN_FUZZY:
            self._by_length.setdefault(len(word), []).append(word)
            self._fuzzy.add(ident)
        return ident

    def _atoms_of(self, token: str) -> frozenset[int]:
        found = set(self._exact.get(token, ()))
        if len(token) >= MIN_STEM:
            for language in self._table.plausible_in(token):
                found |= self._stems.get((language, stem(token, language)), set())
        found.update(ident for prefix, ident in self._prefixes if token.startswith(prefix))
        if len(token) >= MIN_FUZZY and not found and not self._table.is_word(token):
            found |= self._typo_atoms(token)
        return frozenset(found)

    def _typo_atoms(self, token: str) -> set[int]:
        limit = allowed_typos(len(token))
        nearby = [
            word
            for length in range(len(token) - limit, len(token) + limit + 1)
            for word in self._by_length.get(length, ())
        ]
        close = process.extract(token, nearby, scorer=OSA.distance, score_cutoff=limit, limit=None)
        found = {
            ident for word, _, _ in close for ident in self._exact[word] if ident in self._fuzzy
        }
        for prefix, ident in self._prefixes:
            if len(prefix) >= MIN_PREFIX_FUZZY and OSA.distance(token[: len(prefix)], prefix) <= 1:
                found.add(ident)
        return found
