"""/staff/callbacks: the queue a nurse works from, on a phone or a desk.

The list never shows a number. Claiming a request (atomic: one nurse at a time) shows its
number with a tel: link, and each time it is shown the audit trail says who saw which request
(never the number). Closing it deletes the number at once.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import phonenumbers
from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.callbacks.desk import CallbackDesk
from bot.callbacks.queue import NURSE_OUTCOMES, Closed, HeldBy, Listing, Outcome, Retry, Waiting
from bot.callbacks.sealed import SealError
from bot.console.accounts import Account
from bot.console.deps import Console, ConsoleDep, caller, caller_checked
from bot.console.routes import page
from bot.console.views import LANGUAGE_NAMES
from bot.errors import StoreUnavailable
from bot.store.keys import Keys

OUTCOME_LABELS = {
    "reached": "Reached",
    "no_answer": "No answer",
    "wrong_number": "Wrong number",
    "cancelled": "Cancel request",
}


@dataclass(frozen=True, slots=True)
class Row:
    """One request as listed: how long it has waited against the target, what was read."""

    id: str
    language: str
    waited_minutes: int
    over_target: bool
    read: list[str]
    attempts: int
    held_by: str
    retry_in_minutes: int


REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{16}")  # secrets.token_urlsafe(12), as the queue makes


def known_id(request_id: str) -> str:
    """Only an ID the queue could have made reaches a script (it names a key there)."""
    if not REQUEST_ID.fullmatch(request_id):
        raise HTTPException(404, "no such callback request")
    return request_id


router = APIRouter()


def _desk(console: Console) -> CallbackDesk:
    desk = console.bot.callbacks
    assert desk is not None, "mounted only with CALLBACKS on"
    return desk


@router.get("", response_class=HTMLResponse)
async def queue(
    console: ConsoleDep,
    request: Request,
    note: str = "",
    account: Account = Depends(caller),
) -> HTMLResponse:
    now = int(time.time())
    target = console.bot.settings.callback_target_minutes
    listing = await _listing(_desk(console), now)
    rows = [_row(console, waiting, now, target) for waiting in listing.waiting]
    return page(
        request,
        "staff/callbacks.html",
        account,
        rows=rows,
        total=listing.open,
        note=note,
        target=target,
    )


@router.post("/{request_id}/claim", response_class=HTMLResponse)
async def claim(
    console: ConsoleDep,
    request: Request,
    request_id: str,
    account: Account = Depends(caller_checked),
) -> Response:
    known_id(request_id)
    desk, now = _desk(console), int(time.time())
    target = console.bot.settings.callback_target_minutes
    claimed = await desk.queue.claim(request_id, account.name, now)
    if claimed is None:
        return _back("That request is closed already.")
    if isinstance(claimed, HeldBy):
        return _back(f"{claimed.nurse} is calling this patient.")
    opt_out = Keys(console.bot.settings.redis_key_prefix).opt_out(claimed.sender)
    if await desk.queue.client.exists(opt_out):
        # Opted out since asking (the STOP may have reached us while Redis was away).
        await _close(console, desk, request_id, account, "withdrawn", now)
        return _back("The patient has opted out since asking: request closed, do not call.")
    try:
        number = desk.box.open(claimed.sealed, claimed.sender)
    except SealError:
        return _back("This number cannot be read with the current CALLBACK_KEY.")
    await console.versions.audit(account.name, "callback number shown", f"request {request_id}")
    row = await desk.queue.get(request_id)
    return page(
        request,
        "staff/callback.html",
        account,
        request_id=request_id,
        row=_row(console, row, now, target) if row else None,
        tel=number,
        shown=_readable(number),
        outcomes=OUTCOME_LABELS,
    )


@router.post("/{request_id}/close")
async def close(
    console: ConsoleDep,
    request: Request,
    request_id: str,
    outcome: str = Form(...),
    account: Account = Depends(caller_checked),
) -> Response:
    known_id(request_id)
    if outcome not in NURSE_OUTCOMES:
        raise HTTPException(422, f"outcome must be one of {', '.join(NURSE_OUTCOMES)}")
    desk = _desk(console)
    result = await _close(console, desk, request_id, account, outcome, int(time.time()))
    if isinstance(result, HeldBy):
        return _back(f"{result.nurse or 'Nobody'} holds this request now: claim it first.")
    if isinstance(result, Retry):
        return _back(f"No answer, try {result.attempts}: back in the queue for later.")
    return _back("Request closed: the number is deleted." if result else "Closed already.")


async def _close(
    console: Console,
    desk: CallbackDesk,
    request_id: str,
    account: Account,
    outcome: Outcome,
    now: int,
) -> Closed | Retry | HeldBy | None:
    result = await desk.queue.close(request_id, account.name, outcome, now)
    if isinstance(result, Closed | Retry):
        await console.versions.audit(
            account.name, "callback outcome", f"request {request_id}: {outcome}"
        )
    if isinstance(result, Closed):
        desk.observe_closed(outcome, result)
    return result


async def _listing(desk: CallbackDesk, now: int) -> Listing:
    try:
        listing = await desk.queue.listing(now)
    except StoreUnavailable as exc:
        raise HTTPException(503, "the callback queue is unavailable: try again shortly") from exc
    desk.observe_expired(listing)
    return listing


def _row(console: Console, waiting: Waiting, now: int, target: int) -> Row:
    waited = max(0, now - waiting.created) // 60
    topics = console.structure.topics
    read = [
        console.bot.content.text("en", topics[topic].label)
        for topic in waiting.topics
        if topic in topics
    ]
    held = waiting.claimed_by if waiting.claimed_until > now else ""
    return Row(
        id=waiting.id,
        language=LANGUAGE_NAMES.get(waiting.language, waiting.language),
        waited_minutes=waited,
        over_target=waited >= target,
        read=read,
        attempts=waiting.attempts,
        held_by=held,
        retry_in_minutes=max(0, waiting.retry_at - now) // 60,
    )


def _readable(number: str) -> str:
    try:
        parsed = phonenumbers.parse(number)
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _back(note: str) -> RedirectResponse:
    from urllib.parse import urlencode

    return RedirectResponse(f"/staff/callbacks?{urlencode({'note': note})}", status_code=303)
