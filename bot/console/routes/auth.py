"""Signing in and out."""

from __future__ import annotations

import hmac
import secrets

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.console.accounts import Account
from bot.console.deps import ConsoleDep, anyone, form_csrf
from bot.console.routes import page
from bot.errors import AccountError

router = APIRouter()


@router.get("/login", response_class=HTMLResponse)
async def login_form(console: ConsoleDep, request: Request) -> HTMLResponse:
    # A token before signing in too: no other site can sign a browser in to its account.
    request.session.setdefault("csrf", secrets.token_urlsafe(24))
    return page(request, "staff/login.html", None, error="")


@router.post("/login", response_class=HTMLResponse)
async def login(
    console: ConsoleDep,
    request: Request,
    name: str = Form(...),
    password: str = Form(...),
    csrf: str = Form(""),
) -> Response:
    expected = request.session.get("csrf", "")
    if not csrf or not expected or not hmac.compare_digest(csrf, expected):
        request.session["csrf"] = expected or secrets.token_urlsafe(24)
        error = "This page had expired. Please sign in again."
        return page(request, "staff/login.html", None, error=error, status=403)
    address = request.client.host if request.client else "unknown"
    try:
        account = await console.accounts.sign_in(name, password, address)
    except AccountError as exc:
        return page(request, "staff/login.html", None, error=str(exc), status=429, typed=name)
    if account is None:
        known = await console.accounts.exists(name)
        await console.versions.audit_failed_sign_in(name.strip().lower()[:64], known)
        error = "Wrong name or password."
        return page(request, "staff/login.html", None, error=error, typed=name)  # B17
    session = await console.accounts.sessions.start(account.name)
    request.session.clear()
    request.session["sid"] = session.id  # the only thing the cookie carries
    await console.versions.audit(account.name, "sign-in", account.role)
    return RedirectResponse("/staff/" if account.can_edit else "/staff/callbacks", 303)


@router.post("/logout")
async def logout(
    console: ConsoleDep, request: Request, account: Account = Depends(anyone)
) -> Response:
    await form_csrf(request)  # any role signs out
    await console.accounts.sessions.end(str(request.session.get("sid", "")))
    request.session.clear()
    return RedirectResponse("/staff/login", status_code=303)
