"""Where each page's facts come from, and when a clinician last signed it off.

The data is messages/sources.yaml: a list of sources (label, URL, date checked) and, per page
(a snippet ID, shared by every language), the sources it rests on and its clinical review.
A clinic approves a line like this one page at a time; these records are what it approves.
Pure: the caller passes today's date, so checks and tests agree on what is overdue.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from bot.catalog.model import Structure
from bot.errors import CatalogError

FILE_NAME = "sources.yaml"
DEFAULT_INTERVAL_DAYS = 365


@dataclass(frozen=True, slots=True)
class Citation:
    id: str
    label: str
    url: str
    checked: date | None  # when someone last read it against the pages that cite it


@dataclass(frozen=True, slots=True)
class PageRecord:
    key: str  # snippet ID
    sources: tuple[str, ...] = ()
    facts: bool = True  # False: the page only gives directions, so it needs no source
    reviewed_by: str = ""
    reviewed_on: date | None = None
    review_by: date | None = None  # None: reviewed_on + the interval

    def due(self, interval: timedelta) -> date | None:
        """When the page must be read again; None while it has never been signed off."""
        if self.review_by is not None:
            return self.review_by
        return self.reviewed_on + interval if self.reviewed_on else None


@dataclass(frozen=True, slots=True)
class SignOff:
    """A reviewer's sign-off of one page, made in the staff console."""

    key: str  # snippet ID
    name: str  # the account that signed
    role: str
    on: date  # in the clinic's time zone

    @property
    def reviewed_by(self) -> str:
        """As sources.yaml names a reviewer: name, role."""
        return f"{self.name}, {self.role}"


@dataclass
class Findings:
    """What the check finds, as data (for the console) and as sentences (for the CLI)."""

    unsourced: list[str] = field(default_factory=list)  # state facts, name no source
    unknown: list[tuple[str, str]] = field(default_factory=list)  # (page, source not listed)
    overdue: list[tuple[str, date]] = field(default_factory=list)  # (page, its review-by date)
    never: list[str] = field(default_factory=list)  # never signed off
    stale: list[str] = field(default_factory=list)  # listed, but not pages any more

    @property
    def errors(self) -> list[str]:
        unsourced = [
            f"{FILE_NAME}: '{key}' states facts but names no source "
            "(add its sources, or `facts: false` if it only gives directions)"
            for key in self.unsourced
        ]
        return unsourced + [
            f"{FILE_NAME}: '{key}' cites '{source}', which is not under sources"
            for key, source in self.unknown
        ]

    @property
    def warnings(self) -> list[str]:
        found = []
        if self.overdue:
            overdue = ", ".join(f"{key} (review by {due.isoformat()})" for key, due in self.overdue)
            found.append(f"past their review-by date: {overdue}")
        if self.never:
            found.append(
                f"{len(self.never)} page(s) have no clinical sign-off yet: {', '.join(self.never)}"
            )
        if self.stale:
            found.append(f"{FILE_NAME}: not pages any more: {', '.join(self.stale)}")
        return found


@dataclass(frozen=True, slots=True)
class Provenance:
    citations: Mapping[str, Citation]
    pages: Mapping[str, PageRecord]
    interval: timedelta = timedelta(days=DEFAULT_INTERVAL_DAYS)

    @classmethod
    def load(cls, messages_dir: Path) -> Provenance:
        path = messages_dir / FILE_NAME
        if not path.is_file():
            return cls({}, {})
        try:
            data = YAML(typ="safe").load(path.read_text(encoding="utf-8")) or {}
        except (OSError, YAMLError) as exc:
            raise CatalogError(f"{path}: cannot read: {exc}") from exc
        return cls.from_data(data)

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Provenance:
        if not isinstance(data, Mapping):
            raise CatalogError(f"{FILE_NAME}: expected a mapping at the top level")
        citations = {
            str(key): Citation(
                str(key),
                str(spec.get("label") or key),
                str(spec.get("url") or ""),
                _date(spec.get("checked"), f"source '{key}' checked"),
            )
            for key, spec in (data.get("sources") or {}).items()
        }
        pages = {
            str(key): _page(str(key), spec or {}) for key, spec in (data.get("pages") or {}).items()
        }
        days = int(data.get("review_interval_days") or DEFAULT_INTERVAL_DAYS)
        return cls(citations, pages, timedelta(days=days))

    def checked_pages(self, structure: Structure, english: Iterable[str]) -> set[str]:
        """The pages to check: every topic's pages, and the replies listed here (a reply may
        state facts too) that are still texts."""
        pages = {page for topic in structure.topics.values() for page in topic.pages}
        return pages | (set(self.pages) & set(english))

    def findings(self, page_ids: Iterable[str], today: date) -> Findings:
        """Pages with a fact but no source, unknown sources, overdue or missing reviews."""
        wanted = sorted(set(page_ids))
        return Findings(
            unsourced=[
                key
                for key in wanted
                if (record := self.pages.get(key)) is None or (record.facts and not record.sources)
            ],
            unknown=[
                (record.key, source)
                for record in self.pages.values()
                for source in record.sources
                if source not in self.citations
            ],
            overdue=[
                (key, due) for key in wanted if (due := self.due(key)) is not None and due < today
            ],
            never=[key for key in wanted if self.due(key) is None],
            stale=sorted(set(self.pages) - set(wanted)),
        )

    def with_sign_offs(self, sign_offs: Iterable[SignOff]) -> Provenance:
        """The records in the files with the console's sign-offs over them. A review the file
        records on a later date than the console's stays: someone signed again since."""
        pages = dict(self.pages)
        for sign_off in sign_offs:
            record = pages.get(sign_off.key) or PageRecord(sign_off.key)
            if record.reviewed_on is None or record.reviewed_on <= sign_off.on:
                pages[sign_off.key] = _signed(record, sign_off.reviewed_by, sign_off.on)
        return replace(self, pages=pages)

    def due(self, key: str) -> date | None:
        """When the page must be read again; None while it has never been signed off."""
        record = self.pages.get(key)
        return record.due(self.interval) if record else None


def _page(key: str, spec: Mapping[str, Any]) -> PageRecord:
    return PageRecord(
        key,
        tuple(str(s) for s in spec.get("sources") or ()),
        bool(spec.get("facts", True)),
        str(spec.get("reviewed_by") or ""),
        _date(spec.get("reviewed_on"), f"'{key}' reviewed_on"),
        _date(spec.get("review_by"), f"'{key}' review_by"),
    )


def _signed(record: PageRecord, reviewer: str, on: date) -> PageRecord:
    return replace(record, reviewed_by=reviewer, reviewed_on=on, review_by=None)


def _date(value: object, where: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise CatalogError(f"{FILE_NAME}: {where} is not a date like 2026-12-01") from exc
