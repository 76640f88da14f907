"""Sources and clinical review of every page: what is past its review-by date, never signed
off or without a source, the sources themselves, and a reviewer's sign-off."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.catalog.provenance import Citation, PageRecord, Provenance, SignOff
from bot.console.accounts import Account
from bot.console.deps import Console, ConsoleDep, anyone, reviewer
from bot.console.routes import page
from bot.errors import CatalogError

router = APIRouter()


@dataclass(frozen=True, slots=True)
class PageRow:
    key: str
    title: str
    has_text: bool  # the console can open it (/staff/snippet/KEY)
    record: PageRecord
    sources: list[Citation]
    due: date | None


@dataclass(frozen=True, slots=True)
class Section:
    id: str
    title: str
    empty: str  # said when no page is in it
    rows: list[PageRow]


@router.get("/sources", response_class=HTMLResponse)
async def sources(
    console: ConsoleDep, request: Request, account: Account = Depends(anyone)
) -> HTMLResponse:
    """For everyone signed in, nurses too: only a reviewer gets the sign-off buttons."""
    provenance, pages, titles = await _pages(console)
    today = console.today()
    found = provenance.findings(pages, today)
    late = {key for key, _ in found.overdue}
    current = [key for key in pages if key not in late and key not in found.never]

    def rows(keys: list[str]) -> list[PageRow]:
        """In the order of the menus, as the catalog lists them (titles is in that order)."""
        rank = {key: n for n, key in enumerate(titles)}
        ordered = sorted(keys, key=lambda key: (rank.get(key, len(rank)), key))
        return [_row(provenance, key, titles) for key in ordered]

    sections = [
        Section("overdue", "Past their review-by date", "No page is overdue.", rows(list(late))),
        Section("never", "Never signed off", "Every page has been signed off.", rows(found.never)),
        Section(
            "unsourced",
            "A fact but no source",
            "Every page that states a fact names its source.",
            rows(found.unsourced),
        ),
        Section("current", "Signed off, not due yet", "None yet.", rows(current)),
    ]
    records = provenance.pages.values()
    cited = {c: sum(c in r.sources for r in records) for c in provenance.citations}
    return page(
        request,
        "staff/sources.html",
        account,
        sections=sections,
        citations=sorted(provenance.citations.values(), key=lambda c: c.label.lower()),
        cited=cited,
        unknown=found.unknown,
        today=today,
        interval_days=provenance.interval.days,
        signed=_count(request.query_params.get("signed", "")),
    )


@router.post("/sources/sign-off")
async def sign_off(
    console: ConsoleDep, request: Request, account: Account = Depends(reviewer)
) -> Response:
    """One page (its own button) or the pages ticked, signed off today, in the clinic's zone."""
    form = await request.form()
    one = form.get("only")
    chosen = [str(one)] if one else [str(key) for key in form.getlist("page")]
    keys = list(dict.fromkeys(chosen))
    if not keys:
        raise HTTPException(400, "tick at least one page to sign off")
    _, pages, _ = await _pages(console)
    unknown = [key for key in keys if key not in pages]
    if unknown:
        raise HTTPException(422, f"not a page: {', '.join(unknown[:5])}")
    today = console.today()
    await console.sign_offs.record(SignOff(key, account.name, account.role, today) for key in keys)
    await console.versions.audit(account.name, "signed off", ", ".join(keys))
    return RedirectResponse(f"/staff/sources?signed={len(keys)}", status_code=303)


async def _pages(console: Console) -> tuple[Provenance, set[str], dict[str, str]]:
    """The records, the pages they must cover, and each text's title as the console names it."""
    try:
        provenance = await console.provenance()
    except CatalogError as exc:  # the deployment's file: not something staff can fix here
        raise HTTPException(500, f"{exc}; ask whoever deploys the line to fix the file") from exc
    _, published = await console.versions.current()
    pages = provenance.checked_pages(console.structure, published.english)
    titles = {entry.key: entry.title for entry in console.index(published)}
    return provenance, pages, titles


def _count(asked: str) -> int:
    """How many pages the sign-off just made signed off, for the note at the top."""
    return int(asked) if asked.isdigit() and len(asked) < 4 else 0


def _row(provenance: Provenance, key: str, titles: dict[str, str]) -> PageRow:
    record = provenance.pages.get(key) or PageRecord(key)
    cited = [
        provenance.citations.get(source) or Citation(source, f"{source} (not listed)", "", None)
        for source in record.sources
    ]
    return PageRow(key, titles.get(key, key), key in titles, record, cited, provenance.due(key))
