"""The staff console under /staff: edit, preview, review, publish and restore the catalog.

Server-rendered pages (Jinja2) with a little JavaScript for the live preview. The preview's
figures come from the same Python that `smsbot catalog check` uses (`bot.sms`,
`bot.readability`), asked over /staff/api/preview: there is no second implementation in the
browser. Nothing here is reachable without signing in; every form carries a CSRF token.

    deps        Console, and the signed-in / CSRF-checked / reviewer dependencies
    accounts    staff accounts and sign-in (Argon2)
    versions    catalog versions, drafts, uploads and the audit trail in Redis
    drafts      applying drafts and uploads to catalogs (pure)
    files       CSV and PO import and export (pure)
    views       what the pages show (where a snippet appears, rows, the preview)
    follower    every worker serves the newest published version
    index       human titles for every text, and the search
    wording     over-budget sentences and changed words
    spreadsheets, text_input   files as Excel saves them; typed text as stored
    insights_page, charts      /staff/insights
    sign_offs   clinical sign-offs of pages, over messages/sources.yaml
    routes/     the pages: auth, catalog, review, files, insights, sources (sources and
                review dates), callbacks (the nurse callback queue)
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from bot.app import Bot, clinic_details, locales
from bot.config import Settings
from bot.console.accounts import Accounts
from bot.console.deps import Console
from bot.console.four_eyes import RestoreRequests
from bot.console.routes import auth, callbacks, catalog, files, insights, review, sources
from bot.console.versions import CatalogVersions
from bot.errors import SignInRequired
from bot.store.keys import StaffKeys

log = logging.getLogger("smsbot.staff")


def mount_console(
    api: FastAPI,
    settings: Settings,
    bot: Bot,
    versions: CatalogVersions,
    client: Any,
    hasher: PasswordHasher | None = None,
) -> None:
    """The console's pages under /staff, its accounts on `client` (the caller's to close)."""
    if not settings.staff_console:
        return
    if settings.staff_secret_key is None:
        log.warning("the staff console is off: set STAFF_SECRET_KEY to turn it on")
        return
    api.state.console = Console(
        bot,
        versions,
        Accounts(client, StaffKeys(settings.redis_key_prefix), hasher),
        clinic_details(settings),
        locales(settings),
        settings.staff_review_max_age_days,
        ZoneInfo(settings.clinic_timezone),
        settings.redis_key_prefix,
        settings.sms_segment_price,
        settings.staff_four_eyes,
        RestoreRequests(client, StaffKeys(settings.redis_key_prefix)),
    )
    if not settings.staff_four_eyes:
        log.warning("four-eyes review is off: one reviewer can publish and restore alone")
    for area in (auth, catalog, review, files, insights, sources):
        api.include_router(area.router, prefix="/staff", include_in_schema=False)
    if bot.callbacks is not None:
        api.include_router(callbacks.router, prefix="/staff/callbacks", include_in_schema=False)
    api.mount(
        "/staff-static",
        StaticFiles(directory=str(Path(__file__).parent / "static")),
        name="staff-static",
    )
    api.add_middleware(
        SessionMiddleware,
        secret_key=settings.staff_secret_key.get_secret_value(),
        session_cookie="smsbot_staff",
        max_age=8 * 3600,
        same_site="strict",
        https_only=settings.cookie_secure,
    )
    api.add_exception_handler(SignInRequired, _sign_in_first)


async def _sign_in_first(request: Request, exc: Exception) -> Response:
    if request.url.path.startswith("/staff/api/"):
        return JSONResponse({"error": "sign in first"}, status_code=401)
    return RedirectResponse("/staff/login", status_code=303)
