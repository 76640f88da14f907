"""Review and publish the drafts, the history, and restoring an earlier version."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.console.accounts import Account
from bot.console.deps import Console, ConsoleDep, reviewer, signed_in
from bot.console.drafts import restore_changes
from bot.console.routes import page
from bot.console.versions import Candidate
from bot.console.views import review_rows
from bot.errors import VersionConflict

router = APIRouter()


@router.get("/review", response_class=HTMLResponse)
async def review(
    console: ConsoleDep, request: Request, account: Account = Depends(signed_in)
) -> HTMLResponse:
    found = await console.versions.for_review()
    report = await console.check(found.data)
    return review_page(console, request, account, found, report.errors)


def review_page(
    console: Console,
    request: Request,
    account: Account,
    found: Candidate,
    errors: list[str],
    refused: bool = False,
    changed: bool = False,
) -> HTMLResponse:
    return page(
        request,
        "staff/review.html",
        account,
        status=409 if changed else 422 if refused else 200,
        version=found.number,
        digest=found.digest,
        changes=review_rows(console, found),
        errors=list(dict.fromkeys(errors)),  # a page in two topics fails once, not twice (B6)
        authors=sorted({json.loads(raw)["who"] for raw in found.drafts.values()}),
        refused=refused,
        changed=changed,
    )


@router.post("/publish")
async def publish(
    console: ConsoleDep, request: Request, account: Account = Depends(reviewer)
) -> Response:
    form = await request.form()
    found = await console.versions.for_review()
    if str(form.get("version")) != str(found.number) or form.get("drafts") != found.digest:
        # Publish only what the reviewer saw: show what is there now instead.
        report = await console.check(found.data)
        return review_page(console, request, account, found, report.errors, changed=True)
    # Each draft on its own: publish it (the default), keep it for later, or send it back.
    choice = {field: str(form.get(f"choice:{field}", "publish")) for field in found.drafts}
    approved = found.only({f: raw for f, raw in found.drafts.items() if choice[f] == "publish"})
    back = {f: raw for f, raw in found.drafts.items() if choice[f] == "back"}
    if not approved.changes and not back:
        raise HTTPException(400, "nothing to publish")
    report = await console.check(approved.data)
    if approved.changes and not report.ok:
        return review_page(console, request, account, found, report.errors, refused=True)
    note = str(form.get("note", "")).strip()
    try:
        if approved.changes:
            await console.versions.publish(
                approved.data, found.number, account.name, note, approved.changes, approved.drafts
            )
    except VersionConflict:
        found = await console.versions.for_review()
        report = await console.check(found.data)
        return review_page(console, request, account, found, report.errors, changed=True)
    why = str(form.get("back_note", "")).strip()[:500]
    for field, raw in back.items():
        await console.versions.send_back(field, raw, account.name, why)
    target = "/staff/history" if approved.changes else "/staff/review"
    return RedirectResponse(target, status_code=303)


@router.post("/discard")
async def discard(
    console: ConsoleDep, request: Request, account: Account = Depends(reviewer)
) -> Response:
    await console.versions.discard(account.name)
    return RedirectResponse("/staff/review", status_code=303)


@router.get("/history", response_class=HTMLResponse)
async def history(
    console: ConsoleDep, request: Request, account: Account = Depends(signed_in)
) -> HTMLResponse:
    return await history_page(console, request, account)


async def history_page(
    console: Console, request: Request, account: Account, status: int = 200, error: str = ""
) -> HTMLResponse:
    versions = await console.versions.history()
    trail = list(reversed(await console.versions.audit_trail()))
    return page(
        request,
        "staff/history.html",
        account,
        status=status,
        versions=versions,
        trail=trail,
        when=console.when,
        error=error,
    )


@router.get("/version/{number}", response_class=HTMLResponse)
async def version(
    console: ConsoleDep, request: Request, number: int, account: Account = Depends(signed_in)
) -> HTMLResponse:
    """What a version said where it differs from the published one, and a restore that asks
    first."""
    current, published = await console.versions.current()
    try:
        old = await console.versions.load(number)
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from exc
    meta = next((v for v in await console.versions.history() if v.number == number), None)
    found = Candidate(current, published, old, restore_changes(published, old), {})
    return page(
        request,
        "staff/version.html",
        account,
        number=number,
        current=current,
        meta=meta,
        when=console.when,
        changes=review_rows(console, found),
    )


@router.post("/restore/{number}")
async def restore(
    console: ConsoleDep, request: Request, number: int, account: Account = Depends(reviewer)
) -> Response:
    form = await request.form()
    if form.get("confirmed") != "yes":  # what patients read changes: see it first
        return RedirectResponse(f"/staff/version/{number}", status_code=303)
    current, published = await console.versions.current()
    try:
        old = await console.versions.load(number)
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from exc
    report = await console.check(old)
    if not report.ok:
        raise HTTPException(422, "that version no longer passes the catalog check")
    changes = restore_changes(published, old)  # keywords too (B7)
    note = f"restored version {number}"
    try:
        if str(form.get("version")) != str(current):
            raise VersionConflict
        # Drafts waiting for review stay drafts, now on top of the restored version.
        await console.versions.publish(old, current, account.name, note, changes)
    except VersionConflict:
        return await history_page(
            console,
            request,
            account,
            status=409,
            error=f"Version {number} was not restored: another version was published "
            "since this page was opened. Check the list below and try again.",
        )
    return RedirectResponse("/staff/history", status_code=303)
