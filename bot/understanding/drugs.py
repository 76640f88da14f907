"""Immunotherapy drug names (messages/drugs.yaml): brand or generic, misspelled or not."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.errors import CatalogError
from bot.keywords import allowed_typos, normalize
from bot.understanding.language import Frequencies, frequencies

MIN_NAME = 5  # a shorter name must be exact and is only found as a whole word


@dataclass(frozen=True, slots=True)
class Drug:
    generic: str
    brand: str  # the name the message used, or the first brand for a generic
    drug_class: str
    topic: str

    @property
    def display(self) -> str:
        """ "Keytruda (pembrolizumab)", or the generic alone when that is what was written."""
        if self.brand and normalize(self.brand) != normalize(self.generic):
            return f"{self.brand} ({self.generic})"
        return self.generic


class Drugs:
    def __init__(self, drugs: Sequence[Mapping[str, Any]], table: Frequencies | None = None):
        self._table = table or frequencies()
        self._names: dict[tuple[str, ...], Drug] = {}
        for entry in drugs:
            self._add(entry)
        self._single = sorted(name[0] for name in self._names if len(name) == 1)
        self._longest = max((len(name) for name in self._names), default=1)

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Drugs:
        entries = data.get("drugs") or []
        classes = set(data.get("classes") or [])
        for entry in entries:
            if entry.get("class") not in classes:
                raise CatalogError(f"drugs.yaml: {entry.get('generic')}: unknown class")
        return cls(entries)

    def _add(self, entry: Mapping[str, Any]) -> None:
        generic = str(entry["generic"])
        brands = [str(b) for b in entry.get("brands") or []]
        first = brands[0] if brands else generic
        heard = [str(w) for w in entry.get("written_as") or []]
        for name in [generic, *brands, *heard]:
            key = tuple(normalize(name).split())
            shown = name if name in brands else first
            self._names.setdefault(
                key, Drug(generic, shown, str(entry["class"]), str(entry["topic"]))
            )

    def find(self, tokens: Sequence[str]) -> Drug | None:
        """The first drug named in the message, longest name first."""
        for start in range(len(tokens)):
            for length in range(min(self._longest, len(tokens) - start), 0, -1):
                drug = self._names.get(tuple(tokens[start : start + length]))
                if drug is not None:
                    return drug
            drug = self._misspelled(tokens[start])
            if drug is not None:
                return drug
        return None

    def _misspelled(self, token: str) -> Drug | None:
        if len(token) < MIN_NAME or self._table.is_word(token):
            return None
        limit = allowed_typos(len(token))
        hit = process.extractOne(token, self._single, scorer=OSA.distance, score_cutoff=limit)
        return self._names[(str(hit[0]),)] if hit else None
