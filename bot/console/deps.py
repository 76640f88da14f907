"""What every console page depends on: the Console, and who is signed in with which rights."""

from __future__ import annotations

import asyncio
import hmac
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, HTTPException, Request

from bot.app import Bot
from bot.catalog.check import Report, check_data
from bot.catalog.model import CatalogData, Structure
from bot.catalog.provenance import Provenance
from bot.clinic import ClinicDetails
from bot.console.accounts import Account, Accounts
from bot.console.four_eyes import RestoreRequests
from bot.console.index import Entry, build_index
from bot.console.sign_offs import SignOffs
from bot.console.versions import CatalogVersions
from bot.content import Content
from bot.errors import SignInRequired
from bot.models import Language
from bot.store.keys import StaffKeys

UTC = ZoneInfo("UTC")


@dataclass
class Console:
    """What the pages need: the running bot, the catalog versions, the accounts, settings."""

    bot: Bot
    versions: CatalogVersions
    accounts: Accounts
    details: ClinicDetails
    locales: dict[Language, str]
    review_max_age_days: int
    timezone: ZoneInfo = UTC
    prefix: str = "smsbot"  # REDIS_KEY_PREFIX, for the insights and the sign-offs
    segment_price: float = 0.0
    four_eyes: bool = True
    restores: RestoreRequests | None = None

    @property
    def structure(self) -> Structure:
        return self.bot.content.structure

    @property
    def sign_offs(self) -> SignOffs:
        return SignOffs(self.versions.client, StaffKeys(self.prefix))

    async def provenance(self) -> Provenance:
        """Each page's sources and review: messages/sources.yaml with the sign-offs made here."""
        return await self.sign_offs.effective(self.bot.settings.messages_dir)

    def today(self) -> date:
        """The date in the clinic, which a sign-off carries."""
        return datetime.now(self.timezone).date()

    def when(self, timestamp: float) -> str:
        """A time as the clinic reads it: its own time zone, named (EST, CDT...)."""
        return datetime.fromtimestamp(timestamp, self.timezone).strftime("%Y-%m-%d %H:%M %Z")

    def index(self, data: CatalogData) -> list[Entry]:
        return build_index(self.structure, data)

    def entry(self, data: CatalogData, key: str) -> Entry:
        return next(entry for entry in self.index(data) if entry.key == key)

    def content_for(self, data: CatalogData) -> Content:
        return self.bot.content_for(data)

    async def check(self, data: CatalogData) -> Report:
        """The whole catalog check (most of a second) off the event loop, which keeps
        answering texts meanwhile."""
        return await asyncio.to_thread(check_data, data, self.structure, self.details, self.locales)


def get_console(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


ConsoleDep = Annotated[Console, Depends(get_console)]


async def anyone(request: Request, console: ConsoleDep) -> Account:
    """The account of a live session (kept in Redis: see bot/console/sessions.py), any role."""
    session = await console.accounts.sessions.find(str(request.session.get("sid", "")))
    account = await console.accounts.get(session.user) if session else None
    if session is None or account is None:
        raise SignInRequired
    request.state.staff_csrf = session.csrf
    return account


async def signed_in(account: Account = Depends(anyone)) -> Account:
    """Signed in to work on the catalog: a nurse is sent to the callback queue instead."""
    if not account.can_edit:
        raise HTTPException(303, headers={"Location": "/staff/callbacks"})
    return account


async def caller(account: Account = Depends(anyone)) -> Account:
    """Signed in to work the callback queue: a nurse or a reviewer."""
    if not account.can_call_back:
        raise HTTPException(403, "only a nurse or a reviewer works callbacks")
    return account


async def checked(request: Request, account: Account = Depends(signed_in)) -> Account:
    """Signed in, and the form or header carries this session's CSRF token."""
    await form_csrf(request)
    return account


async def caller_checked(request: Request, account: Account = Depends(caller)) -> Account:
    await form_csrf(request)
    return account


async def form_csrf(request: Request) -> None:
    """The CSRF token from the header, or else from the form (read, within the body limit)."""
    token = request.headers.get("x-csrf-token")
    if token is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        sent = (await request.form()).get("csrf")
        token = sent if isinstance(sent, str) else None
    require_csrf(request, token)


def require_csrf(request: Request, token: object) -> None:
    """The signed-in session's CSRF token, or 403."""
    expected = str(getattr(request.state, "staff_csrf", ""))
    if not token or not expected or not hmac.compare_digest(str(token), expected):
        raise HTTPException(403, "missing or wrong CSRF token: reload the page")


def page_csrf(request: Request) -> str:
    """The signed-in session's token; before signing in, the sign-in page's own."""
    return str(getattr(request.state, "staff_csrf", "") or request.session.get("csrf", ""))


async def reviewer(account: Account = Depends(checked)) -> Account:
    if not account.can_publish:
        raise HTTPException(403, "only a reviewer can do this")
    return account
