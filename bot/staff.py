"""The staff console under /staff: edit, preview, review, publish and restore the catalog.

Server-rendered pages (Jinja2) with a little JavaScript for the live preview. The preview's
figures come from the same Python that `smsbot catalog check` uses (`bot.sms`,
`bot.readability`), asked over /staff/api/preview: there is no second implementation in the
browser. Nothing here is reachable without signing in; every form carries a CSRF token.
"""

from __future__ import annotations

import asyncio
import csv
import hmac
import io
import json
import logging
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from fastapi import APIRouter, Depends, FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.middleware.sessions import SessionMiddleware

from bot import readability
from bot.accounts import Account, AccountError, Accounts
from bot.app import Bot, clinic_details, locales
from bot.catalog import (
    MAX_CHARACTERS,
    MAX_SEGMENTS,
    CatalogData,
    Report,
    Translation,
    check_data,
    measure_replies,
)
from bot.catalog_index import Entry, build_index, labelled_shapes, search, topic_index
from bot.config import Settings
from bot.content import MENU_PREFIX, ClinicDetails, Content, Structure, po_bytes
from bot.insights import MIN_SENDERS, InsightsKeys, InsightsReader, Period, flush_now
from bot.insights_view import PRESETS, Chosen, choose_period, daily_csv, page_context
from bot.published import Candidate, CatalogVersions, Change, VersionConflict
from bot.review_words import budget_warning, changed_words
from bot.router import reply_shapes
from bot.sms import measure, non_gsm_characters
from bot.spreadsheets import read_table, xlsx_bytes
from bot.staff_text import normalize_text, normalize_words, same_text

log = logging.getLogger("smsbot.staff")
LANGUAGE_NAMES = {"en": "English", "es": "Spanish"}
UTC = ZoneInfo("UTC")
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


class SignInRequired(Exception):
    pass


@dataclass
class Console:
    """What the pages need: the running bot, the catalog versions, the accounts, settings."""

    bot: Bot
    versions: CatalogVersions
    accounts: Accounts
    details: ClinicDetails
    locales: dict[str, str]
    review_max_age_days: int
    timezone: ZoneInfo = UTC
    prefix: str = "smsbot"  # REDIS_KEY_PREFIX, for the insights' keys
    segment_price: float = 0.0

    @property
    def structure(self) -> Structure:
        return self.bot.content.structure

    def when(self, timestamp: float) -> str:
        return when(timestamp, self.timezone)

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


def console_router(console: Console) -> APIRouter:
    router = APIRouter(prefix="/staff", include_in_schema=False)

    async def signed_in(request: Request) -> Account:
        name = request.session.get("user")
        account = await console.accounts.get(name) if name else None
        if account is None:
            raise SignInRequired
        return account

    async def checked(request: Request, account: Account = Depends(signed_in)) -> Account:
        """Signed in, and the form or header carries this session's CSRF token."""
        token = request.headers.get("x-csrf-token")
        if token is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        ):
            token = (await request.form()).get("csrf")
        expected = request.session.get("csrf", "")
        if not token or not expected or not hmac.compare_digest(str(token), expected):
            raise HTTPException(403, "missing or wrong CSRF token: reload the page")
        return account

    async def reviewer(account: Account = Depends(checked)) -> Account:
        if not account.can_publish:
            raise HTTPException(403, "only a reviewer can do this")
        return account

    def page(
        request: Request, name: str, account: Account | None, status: int = 200, **context: Any
    ) -> HTMLResponse:
        return templates.TemplateResponse(
            request,
            name,
            {"account": account, "csrf": request.session.get("csrf", ""), **context},
            status_code=status,
        )

    # -- signing in ---------------------------------------------------------------------------

    @router.get("/login", response_class=HTMLResponse)
    async def login_form(request: Request) -> HTMLResponse:
        # A token before signing in too: no other site can sign a browser in to its account.
        request.session.setdefault("csrf", secrets.token_urlsafe(24))
        return page(request, "staff/login.html", None, error="")

    @router.post("/login", response_class=HTMLResponse)
    async def login(
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
            await console.versions.audit_failed_sign_in(name.strip()[:64])
            return page(
                request, "staff/login.html", None, error="Wrong name or password.", typed=name
            )
        request.session.clear()
        request.session.update({"user": account.name, "csrf": secrets.token_urlsafe(24)})
        await console.versions.audit(account.name, "sign-in", account.role)
        return RedirectResponse("/staff/", status_code=303)

    @router.post("/logout")
    async def logout(request: Request, account: Account = Depends(checked)) -> Response:
        request.session.clear()
        return RedirectResponse("/staff/login", status_code=303)

    # -- the catalog at a glance --------------------------------------------------------------

    @router.get("/", response_class=HTMLResponse)
    async def overview(request: Request, account: Account = Depends(signed_in)) -> HTMLResponse:
        number, published, candidate, changes = await console.versions.candidate()
        history = await console.versions.history()
        asked = request.query_params
        found = find(
            console.index(candidate),
            topic_index(console.structure, candidate.english),
            snippet_rows(console, published, candidate, changes, history),
            query=asked.get("q", "")[:100],
            show=asked.get("show", ""),
            topic=asked.get("topic", ""),
        )
        return page(
            request,
            "staff/index.html",
            account,
            version=number,
            drafts=len(changes),
            filters=FILTERS,
            **found,
        )

    @router.get("/snippet/{key}", response_class=HTMLResponse)
    async def edit(request: Request, key: str, account: Account = Depends(signed_in)) -> Response:
        _, published, candidate, _ = await console.versions.candidate()
        if key not in candidate.english:
            raise HTTPException(404, "no such snippet")
        es = candidate.translations.get("es", {}).get(key)
        entry = console.entry(candidate, key)
        return page(
            request,
            "staff/edit.html",
            account,
            key=key,
            title=entry.title,
            also=entry.also,
            topic=entry.topic,
            english=candidate.english[key],
            spanish=es.text if es else "",
            needs_review=candidate.needs_review("es", key),
            published_english=published.english.get(key, ""),
            too_long=too_long(console, candidate, key),
        )

    @router.post("/snippet/{key}")
    async def save(
        request: Request,
        key: str,
        account: Account = Depends(checked),
    ) -> Response:
        form = await request.form()
        _, _, candidate, _ = await console.versions.candidate()
        if key not in candidate.english:
            raise HTTPException(404, "no such snippet")
        # As stored: a textarea's CRLF, spaces at line ends or a decomposed accent are not an
        # edit, so a text the editor did not touch is never drafted (B5).
        english = normalize_text(str(form.get("en", "")))
        spanish = normalize_text(str(form.get("es", "")))
        if not same_text(english, candidate.english[key]):
            await console.versions.save_text("en", key, english, account.name)
        current_es = candidate.translations.get("es", {}).get(key)
        confirmed = form.get("es_reviewed") == "yes"  # "the Spanish still says the same"
        if current_es is None or not same_text(spanish, current_es.text) or confirmed:
            # A saved Spanish text is one read against the English it now stands beside. An
            # English change alone leaves the Spanish marked as needing review.
            await console.versions.save_text("es", key, spanish, account.name, english)
        return RedirectResponse(f"/staff/snippet/{key}?saved=1", status_code=303)

    @router.get("/keywords/{topic}", response_class=HTMLResponse)
    async def keywords_form(
        request: Request, topic: str, account: Account = Depends(signed_in)
    ) -> Response:
        _, _, candidate, _ = await console.versions.candidate()
        words = candidate.keywords.get("topics", {}).get(topic)
        if words is None:
            raise HTTPException(404, "no such topic")
        return page(request, "staff/keywords.html", account, topic=topic, words=words)

    @router.post("/keywords/{topic}")
    async def keywords_save(
        request: Request, topic: str, account: Account = Depends(checked)
    ) -> Response:
        if topic not in console.structure.topics:
            raise HTTPException(422, f"there is no topic '{topic}' in the menus")
        form = await request.form()
        _, _, candidate, _ = await console.versions.candidate()
        current = candidate.keywords.get("topics", {}).get(topic) or {}
        for language in ("en", "es"):
            words = normalize_words(str(form.get(language, "")))
            if words != list(current.get(language) or []):  # an untouched list is no draft
                await console.versions.save_keywords(topic, language, words, account.name)
        return RedirectResponse(f"/staff/keywords/{topic}?saved=1", status_code=303)

    # -- live preview -------------------------------------------------------------------------

    @router.post("/api/preview")
    async def preview(request: Request, account: Account = Depends(checked)) -> JSONResponse:
        try:
            body = await request.json()
        except ValueError as exc:
            raise HTTPException(400, "send a JSON object with key, language and text") from exc
        fields = ("key", "language", "text")
        missing = [name for name in fields if not isinstance(body, dict) or name not in body]
        if missing:
            raise HTTPException(422, f"missing in the request: {', '.join(missing)}")
        key, language, text = str(body["key"]), str(body["language"]), str(body["text"])
        _, _, candidate, _ = await console.versions.candidate()
        if key not in candidate.english or language not in LANGUAGE_NAMES:
            raise HTTPException(404, "no such snippet")
        return JSONResponse(preview_of(console, candidate, key, language, text))

    # -- insights -------------------------------------------------------------------------------

    async def period_of(request: Request) -> tuple[Chosen, Period]:
        recorder, store = console.bot.insights, console.bot.store
        if recorder is not None and hasattr(store, "client"):
            await flush_now(recorder, store.client)  # this worker's latest counts, shown too
        asked = request.query_params
        today = datetime.now(console.timezone).date()
        chosen = choose_period(
            today, asked.get("preset", ""), asked.get("from", ""), asked.get("to", "")
        )
        reader = InsightsReader(console.versions.client, InsightsKeys(console.prefix))
        days = await reader.daily(chosen.first, chosen.last)
        return chosen, Period(days, console.segment_price)

    @router.get("/insights", response_class=HTMLResponse)
    async def insights(request: Request, account: Account = Depends(signed_in)) -> HTMLResponse:
        chosen, period = await period_of(request)
        reader = InsightsReader(console.versions.client, InsightsKeys(console.prefix))
        languages = list(console.locales)
        words = await reader.asked_words(chosen.first, chosen.last, languages)
        names = dict(topic_index(console.structure, (await console.versions.current())[1].english))
        return page(
            request,
            "staff/insights.html",
            account,
            chosen=chosen,
            presets=PRESETS,
            timezone=str(console.timezone),
            min_senders=MIN_SENDERS,
            language_names=LANGUAGE_NAMES,
            callbacks=[],
            **page_context(period, words, names, languages),
        )

    @router.get("/insights.csv")
    async def insights_csv(request: Request, account: Account = Depends(signed_in)) -> Response:
        chosen, period = await period_of(request)
        name = f"smsbot-daily-{chosen.first.isoformat()}-to-{chosen.last.isoformat()}.csv"
        return Response(
            daily_csv(period),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    # -- review, publish, history -------------------------------------------------------------

    @router.get("/review", response_class=HTMLResponse)
    async def review(request: Request, account: Account = Depends(signed_in)) -> HTMLResponse:
        found = await console.versions.for_review()
        report = await console.check(found.data)
        return review_page(request, account, found, report.errors)

    def review_page(
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
    async def publish(request: Request, account: Account = Depends(reviewer)) -> Response:
        form = await request.form()
        found = await console.versions.for_review()
        if str(form.get("version")) != str(found.number) or form.get("drafts") != found.digest:
            # Publish only what the reviewer saw: show what is there now instead.
            report = await console.check(found.data)
            return review_page(request, account, found, report.errors, changed=True)
        # Each draft on its own: publish it (the default), keep it for later, or send it back.
        choice = {field: str(form.get(f"choice:{field}", "publish")) for field in found.drafts}
        approved = found.only({f: raw for f, raw in found.drafts.items() if choice[f] == "publish"})
        back = {f: raw for f, raw in found.drafts.items() if choice[f] == "back"}
        why = str(form.get("back_note", "")).strip()[:500]
        if not approved.changes and not back:
            raise HTTPException(400, "nothing to publish")
        report = await console.check(approved.data)
        if approved.changes and not report.ok:
            return review_page(request, account, found, report.errors, refused=True)
        note = str(form.get("note", "")).strip()
        try:
            if approved.changes:
                await console.versions.publish(
                    approved.data,
                    found.number,
                    account.name,
                    note,
                    approved.changes,
                    approved.drafts,
                )
        except VersionConflict:
            found = await console.versions.for_review()
            report = await console.check(found.data)
            return review_page(request, account, found, report.errors, changed=True)
        for field, raw in back.items():
            await console.versions.send_back(field, raw, account.name, why)
        target = "/staff/history" if approved.changes else "/staff/review"
        return RedirectResponse(target, status_code=303)

    @router.post("/discard")
    async def discard(request: Request, account: Account = Depends(reviewer)) -> Response:
        await console.versions.discard(account.name)
        return RedirectResponse("/staff/review", status_code=303)

    @router.get("/history", response_class=HTMLResponse)
    async def history(request: Request, account: Account = Depends(signed_in)) -> HTMLResponse:
        return await history_page(request, account)

    async def history_page(
        request: Request, account: Account, status: int = 200, error: str = ""
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
        request: Request, number: int, account: Account = Depends(signed_in)
    ) -> HTMLResponse:
        """What a version said where it differs from the published one, and a restore that
        asks first."""
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
        request: Request, number: int, account: Account = Depends(reviewer)
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
                request,
                account,
                status=409,
                error=f"Version {number} was not restored: another version was published "
                "since this page was opened. Check the list below and try again.",
            )
        return RedirectResponse("/staff/history", status_code=303)

    # -- round trips with Poedit, Weblate and spreadsheets --------------------------------------

    @router.get("/export/{name}")
    async def export(name: str, account: Account = Depends(signed_in)) -> Response:
        # What would be published with the drafts: the English an upload is checked against,
        # and the Spanish marked for review where that English changed since it was written.
        _, _, candidate, _ = await console.versions.candidate()
        if name == "catalog.csv":
            return Response(
                to_csv(console.structure, candidate),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": 'attachment; filename="catalog.csv"'},
            )
        if name == "catalog.xlsx":
            return Response(
                to_xlsx(console.structure, candidate),
                media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                headers={"Content-Disposition": 'attachment; filename="catalog.xlsx"'},
            )
        if name == "es.po":
            return Response(
                to_po(candidate, "es"),
                media_type="text/x-gettext-translation; charset=utf-8",
                headers={"Content-Disposition": 'attachment; filename="es.po"'},
            )
        raise HTTPException(404, "export es.po, catalog.csv or catalog.xlsx")

    @router.post("/import", response_class=HTMLResponse)
    async def import_file(
        request: Request,
        upload: UploadFile = File(...),
        account: Account = Depends(checked),
    ) -> HTMLResponse:
        _, published, candidate, _ = await console.versions.candidate()
        raw = await upload.read()
        try:
            if (upload.filename or "").lower().endswith((".csv", ".xlsx", ".txt")):
                imported, kept = from_csv(candidate, published, raw)
            else:
                imported, kept = from_po(candidate, published, raw, "es")
        except ValueError as exc:  # UnreadableSpreadsheet says what to do in Excel
            return page(request, "staff/import.html", account, error=str(exc), changes=[], kept=[])
        changes = diff(candidate, imported)
        # Only the texts that differ wait for the yes: a draft saved meanwhile stays.
        token = await console.versions.stash(cells(imported, changes))
        return page(
            request,
            "staff/import.html",
            account,
            error="",
            changes=changes,
            kept=kept,
            token=token,
        )

    @router.post("/import/confirm")
    async def import_confirm(request: Request, account: Account = Depends(checked)) -> Response:
        form = await request.form()
        uploaded = await console.versions.unstash(str(form.get("token", "")))
        if uploaded is None:
            raise HTTPException(400, "nothing to import: upload the file again")
        _, _, candidate, _ = await console.versions.candidate()
        imported = overlay(candidate, uploaded)
        for change in diff(candidate, imported):
            if change.language == "en":
                text, source = imported.english[change.key], None
            else:
                entry = imported.translations[change.language][change.key]
                text, source = entry.text, entry.source
            await console.versions.save_text(
                change.language, change.key, text, account.name, source
            )
        await console.versions.audit(account.name, "import", "")
        return RedirectResponse("/staff/review", status_code=303)

    return router


# -- what the pages show ----------------------------------------------------------------------


# What a nurse filters the catalog by: (name shown, test on a row's cells)
FILTERS: dict[str, str] = {
    "drafts": "Drafts",
    "review": "Needs review",
    "over": "Over budget",
    "due": "Review due",
    "missing": "Missing",
}
REPLIES = "replies"  # the topic filter for menus and the bot's own replies
FILTER_FLAGS = {"drafts": "draft", "review": "review", "over": "over", "due": "stale"}


def flagged(row: dict[str, Any], show: str) -> bool:
    cells = row["cells"].values()
    return any(cell[FILTER_FLAGS.get(show, show)] for cell in cells)


def find(
    entries: list[Entry],
    topic_names: list[tuple[str, str]],
    groups_of_rows: list[dict[str, Any]],
    query: str = "",
    show: str = "",
    topic: str = "",
) -> dict[str, Any]:
    """The catalog page: a search, a filter or a topic chosen, and the topic index."""
    cells = {row["key"]: row for group in groups_of_rows for row in group["rows"]}
    show = show if show in FILTERS else ""
    counts = {name: sum(flagged(row, name) for row in cells.values()) for name in FILTERS}
    found, understood = search(entries, query) if query.strip() else (entries, "")
    chosen = [e for e in found if in_topic(e, topic)]
    if show:
        chosen = [e for e in chosen if flagged(cells[e.key], show)]
    listing = bool(query.strip() or show or topic)
    topics = [
        {"id": topic_id, "name": name, "texts": sum(in_topic(e, topic_id) for e in entries)}
        for topic_id, name in topic_names
    ]
    topics.append(
        {
            "id": REPLIES,
            "name": "Menus and replies",
            "texts": sum(in_topic(e, REPLIES) for e in entries),
        }
    )
    return {
        "query": query,
        "understood": understood if understood != " ".join(query.lower().split()) else "",
        "show": show,
        "topic": topic,
        "counts": counts,
        "topics": topics,
        "results": [{"entry": e, **cells[e.key]} for e in chosen] if listing else [],
        "listing": listing,
    }


def in_topic(entry: Entry, topic: str) -> bool:
    """No topic chosen, or `entry` is shown in it; REPLIES: the texts outside any topic."""
    if topic == REPLIES:
        return not entry.topics
    return not topic or topic in entry.topics


def groups(structure: Structure, keys: list[str]) -> Iterator[tuple[str, str, list[str]]]:
    """(title, topic, snippets) by menu and topic, in menu order; the rest under 'Replies'."""
    seen: set[str] = set()
    for menu in structure.menus.values():
        for topic_id in menu.items:
            topic = structure.topics[topic_id]
            members = [topic.label, *topic.pages]
            seen.update(members)
            yield f"{menu.id} menu > {topic_id}", topic_id, members
    rest = [key for key in keys if key not in seen]
    yield "Menus and replies", "", rest


def snippet_rows(
    console: Console,
    published: CatalogData,
    candidate: CatalogData,
    changes: list[Change],
    history: list[Any],
) -> list[dict[str, Any]]:
    over = over_budget(console, published)
    changed_at = last_changed(history)
    drafted = {(c.language, c.key) for c in changes if c.kind == "text"}
    stale_before = time.time() - console.review_max_age_days * 86400
    result = []
    for title, topic, keys in groups(console.structure, list(published.english)):
        rows = []
        for key in keys:
            cells = {}
            for language in ("en", "es"):
                text = (
                    published.english.get(key, "")
                    if language == "en"
                    else published.translations.get("es", {}).get(key, Translation("", "")).text
                )
                at = changed_at.get((language, key))
                cells[language] = {
                    "text": text,
                    "missing": not text.strip(),
                    # From the drafts too: an English draft already makes its Spanish stale.
                    "review": language != "en" and candidate.needs_review(language, key),
                    "over": (language, key) in over,
                    "draft": (language, key) in drafted,
                    "reviewed": console.when(at[1]) if at else "in the files",
                    "version": at[0] if at else 0,
                    "stale": bool(at and at[1] < stale_before),
                }
            rows.append({"key": key, "cells": cells})
        result.append({"title": title, "topic": topic, "rows": rows})
    return result


def review_rows(console: Console, found: Candidate) -> list[dict[str, Any]]:
    """Each change with its draft, its name as staff say it and the words it changes."""
    titles = {entry.key: entry.title for entry in console.index(found.data)}
    names = dict(topic_index(console.structure, found.data.english))
    rows = []
    for change in found.changes:
        if change.kind == "keywords":
            field, title = (
                f"k|{change.key}|{change.language}",
                f"Words that open {names.get(change.key, change.key)}",
            )
        else:
            field, title = f"t|{change.language}|{change.key}", titles.get(change.key, change.key)
        draft = json.loads(found.drafts.get(field, "{}"))
        rows.append(
            {
                "change": change,
                "field": field,
                "title": title,
                "language": LANGUAGE_NAMES.get(change.language, change.language),
                "runs": changed_words(change.before, change.after),
                "who": draft.get("who", ""),
                "returned": draft.get("returned"),
            }
        )
    return rows


def over_budget(console: Console, data: CatalogData) -> set[tuple[str, str]]:
    """(language, snippet) pairs that take part in a reply over 320 characters or 3 SMS."""
    content = console.content_for(data)
    over = set()
    shapes = dict(reply_shapes(console.structure))
    for line in measure_replies(content):
        if line.characters > 320 or line.segments > 3:
            for key in snippets_in(console.structure, shapes[line.name]):
                over.add((line.language, key))
    return over


def snippets_in(structure: Structure, parts: tuple[str, ...]) -> list[str]:
    keys = []
    for part in parts:
        if part.startswith(MENU_PREFIX):
            menu = structure.menus[part.removeprefix(MENU_PREFIX)]
            keys.append(menu.header)
            keys.extend(structure.topics[item].label for item in menu.items)
        else:
            keys.append(part)
    return keys


def last_changed(history: list[Any]) -> dict[tuple[str, str], tuple[int, float]]:
    """(language, snippet) -> (version, time) of the last publish that changed it."""
    found: dict[tuple[str, str], tuple[int, float]] = {}
    for version in history:  # newest first
        for change in version.changes:
            if change.get("kind") == "text":
                found.setdefault((change["language"], change["key"]), (version.number, version.at))
    return found


def preview_of(
    console: Console, candidate: CatalogData, key: str, language: str, text: str
) -> dict[str, Any]:
    """Every SMS this snippet takes part in, as the patient will get it, measured."""
    english = dict(candidate.english)
    translations = {lang: dict(entries) for lang, entries in candidate.translations.items()}
    if language == "en":
        english[key] = text
    else:
        translations.setdefault(language, {})[key] = Translation(text, english[key])
    try:
        content = console.content_for(CatalogData(english, translations, candidate.keywords))
    except Exception as exc:  # an unknown placeholder or a stray brace, while typing
        return {"error": str(exc)}
    messages: list[dict[str, Any]] = []
    by_text: dict[str, dict[str, Any]] = {}
    for label, parts in labelled_shapes(console.structure, english):
        if key not in snippets_in(console.structure, parts):
            continue
        sms = content.render(language, parts)  # type: ignore[arg-type]
        if sms in by_text:  # the same SMS in two topics: one bubble naming both (B9)
            by_text[sms]["name"] += f" · {label}"
            continue
        cost = measure(sms)
        by_text[sms] = {
            "name": label,
            "text": sms,
            "characters": cost.characters,
            "encoding": cost.encoding,
            "segments": cost.segments,
            "over": cost.characters > MAX_CHARACTERS or cost.segments > MAX_SEGMENTS,
            "runs": runs(sms),
        }
        messages.append(by_text[sms])
    score = readability.score(content.text(language, key), language)  # type: ignore[arg-type]
    return {
        "messages": messages,
        "ucs2": list(non_gsm_characters(text)),
        "reading": str(score),
        "reading_ok": score.meets_target,
    }


def runs(text: str) -> list[list[Any]]:
    """The text in pieces, each marked when its characters force UCS-2 (for highlighting)."""
    offenders = set(non_gsm_characters(text))
    pieces: list[list[Any]] = []
    for char in text:
        flagged = char in offenders
        if pieces and pieces[-1][1] == flagged:
            pieces[-1][0] += char
        else:
            pieces.append([char, flagged])
    return pieces


def diff(before: CatalogData, after: CatalogData) -> list[Change]:
    changes = [
        Change("text", "en", key, before.english.get(key, ""), text)
        for key, text in after.english.items()
        if before.english.get(key) != text
    ]
    for language, entries in after.translations.items():
        for key, entry in entries.items():
            old = before.translations.get(language, {}).get(key)
            if old is None or old.text != entry.text or approved(before, after, language, key):
                changes.append(Change("text", language, key, old.text if old else "", entry.text))
    return changes


def restore_changes(before: CatalogData, after: CatalogData) -> list[Change]:
    """Everything a restore changes: the texts and each topic's keywords."""
    return diff(before, after) + keyword_changes(before, after)


def keyword_changes(before: CatalogData, after: CatalogData) -> list[Change]:
    old, new = before.keywords.get("topics") or {}, after.keywords.get("topics") or {}
    changes = []
    for topic in new:
        for language in sorted(set(new[topic] or {}) | set(old.get(topic) or {})):
            was = list((old.get(topic) or {}).get(language) or [])
            now = list((new[topic] or {}).get(language) or [])
            if was != now:
                changes.append(Change("keywords", language, topic, ", ".join(was), ", ".join(now)))
    return changes


def approved(before: CatalogData, after: CatalogData, language: str, key: str) -> bool:
    """The translation needed review and now stands reviewed: a change even with the same text
    (a fuzzy mark cleared in Poedit, a needs-review cell emptied in a spreadsheet)."""
    entry = after.translations.get(language, {}).get(key)
    unchanged = entry == before.translations.get(language, {}).get(key)
    return (
        not unchanged
        and before.needs_review(language, key)
        and not after.needs_review(language, key)
    )


SPREADSHEET_COLUMNS = ("id", "where", "english", "spanish", "spanish_needs_review")


def spreadsheet_rows(structure: Structure, data: CatalogData) -> list[list[str]]:
    """One row per text, in menu order, named as on the catalog page."""
    rows = []
    for entry in build_index(structure, data):
        es = data.translations.get("es", {}).get(entry.key, Translation("", ""))
        review = "yes" if data.needs_review("es", entry.key) else ""
        rows.append([entry.key, entry.label, data.english[entry.key], es.text, review])
    return rows


def to_csv(structure: Structure, data: CatalogData) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(SPREADSHEET_COLUMNS)
    writer.writerows(spreadsheet_rows(structure, data))
    return out.getvalue()


def to_xlsx(structure: Structure, data: CatalogData) -> bytes:
    return xlsx_bytes("catalog", SPREADSHEET_COLUMNS, spreadsheet_rows(structure, data))


def from_csv(
    base: CatalogData, published: CatalogData, raw: bytes
) -> tuple[CatalogData, list[Change]]:
    """`base` with the texts of the file, and the drafts kept where the file is older."""
    rows = read_table(raw, required=("id", "english", "spanish")).rows  # CSV or .xlsx
    english = dict(base.english)
    spanish = dict(base.translations.get("es", {}))
    kept: list[Change] = []
    for row in rows:
        key = row["id"].strip()
        if key not in english:
            raise ValueError(f"unknown snippet id '{key}'")
        text = row["english"]
        if same_text(text, base.english[key]):
            continue
        if older(published, base, "en", key, text):
            kept.append(Change("text", "en", key, base.english[key], text))
        else:
            english[key] = text
    for row in rows:
        key, text = row["id"].strip(), row["spanish"]
        if same_text(text, cell(base, "es", key)):
            if (
                reviewed(row)
                and base.needs_review("es", key)
                and same_text(row["english"], base.english[key])
            ):
                spanish[key] = Translation(text, row["english"])
            continue
        if older(published, base, "es", key, text):
            kept.append(Change("text", "es", key, cell(base, "es", key), text))
        else:
            # Against the English in the same row: the English the translator read.
            spanish[key] = Translation(text, row["english"])
    return CatalogData(english, {**base.translations, "es": spanish}, base.keywords), kept


def to_po(data: CatalogData, language: str) -> bytes:
    catalog = Catalog(locale=language, domain="messages", project="smsbot", fuzzy=False)
    for key, text in data.english.items():
        entry = data.translations.get(language, {}).get(key)
        fuzzy = data.needs_review(language, key)
        catalog.add(
            text,
            entry.text if entry else "",
            context=key,
            flags=("fuzzy",) if fuzzy else (),
            previous_id=entry.source if entry and fuzzy else (),
        )
    return po_bytes(catalog)


def reviewed(row: dict[str, str]) -> bool:
    """The row's needs-review cell is there and empty (or "no"): the Spanish was read against
    the English beside it. Without the column, nothing is said about review."""
    flag = row.get("spanish_needs_review")
    return flag is not None and flag.strip().lower() in ("", "no")


def from_po(
    base: CatalogData, published: CatalogData, raw: bytes, language: str
) -> tuple[CatalogData, list[Change]]:
    """`base` with the translations of the file, and the drafts kept where the file is older."""
    try:
        catalog = read_po(io.BytesIO(raw), abort_invalid=True)
    except Exception as exc:  # Babel raises several types for malformed files
        raise ValueError(f"not a valid PO file: {exc}") from exc
    entries = dict(base.translations.get(language, {}))
    kept: list[Change] = []
    for message in catalog:
        if not (message.id and message.context):
            continue
        key = message.context
        if key not in base.english:
            raise ValueError(f"unknown snippet id '{key}'")
        if str(message.id) != base.english[key]:
            raise ValueError(
                f"'{key}': the English in the file is not the current English: "
                "download the file again"
            )
        old = entries.get(key)
        text = normalize_text(str(message.string or ""))
        if message.fuzzy:
            continue  # a translator's unfinished work is not imported
        if older(published, base, language, key, text):
            kept.append(Change("text", language, key, cell(base, language, key), text))
        elif old is None or old.text != text or base.needs_review(language, key):
            entries[key] = Translation(text, base.english[key])
    data = CatalogData(base.english, {**base.translations, language: entries}, base.keywords)
    return data, kept


def cell(data: CatalogData, language: str, key: str) -> str:
    if language == "en":
        return data.english.get(key, "")
    entry = data.translations.get(language, {}).get(key)
    return entry.text if entry else ""


def older(
    published: CatalogData, candidate: CatalogData, language: str, key: str, text: str
) -> bool:
    """The file has the published text where a draft has changed it since: a file made before
    that draft. The draft stays; a file never takes a text back without anyone noticing."""
    now = cell(candidate, language, key)
    return text != now and text == cell(published, language, key)


def cells(imported: CatalogData, changes: list[Change]) -> CatalogData:
    """Only the texts an upload changes, to be applied on the catalog as it is when confirmed."""
    english = {c.key: imported.english[c.key] for c in changes if c.language == "en"}
    translations: dict[str, dict[str, Translation]] = {}
    for change in changes:
        if change.language != "en":
            entry = imported.translations[change.language][change.key]
            translations.setdefault(change.language, {})[change.key] = entry
    return CatalogData(english, translations, {})


def overlay(base: CatalogData, texts: CatalogData) -> CatalogData:
    english = {**base.english, **{k: v for k, v in texts.english.items() if k in base.english}}
    translations = {language: dict(entries) for language, entries in base.translations.items()}
    for language, entries in texts.translations.items():
        translations.setdefault(language, {}).update(
            {key: entry for key, entry in entries.items() if key in base.english}
        )
    return CatalogData(english, translations, base.keywords)


def when(timestamp: float, zone: ZoneInfo = UTC) -> str:
    """A time as the clinic reads it: its own time zone, named (EST, CDT...)."""
    return datetime.fromtimestamp(timestamp, zone).strftime("%Y-%m-%d %H:%M %Z")


def too_long(console: Console, data: CatalogData, key: str) -> list[str]:
    """In words, every SMS with this text that the catalog check would refuse to publish."""
    found: list[str] = []
    for language in ("en", "es"):
        result = preview_of(console, data, key, language, cell(data, language, key))
        for message in result.get("messages", []):
            name = f"{LANGUAGE_NAMES[language]}, {message['name']}"
            sentence = budget_warning(message["text"], name) if message["over"] else None
            if sentence and sentence not in found:
                found.append(sentence)
    return found


def mount_console(api: FastAPI, settings: Settings, bot: Bot, versions: CatalogVersions) -> None:
    if not settings.staff_console:
        return
    if settings.staff_secret_key is None:
        log.warning("the staff console is off: set STAFF_SECRET_KEY to turn it on")
        return
    console = Console(
        bot,
        versions,
        Accounts(versions.client, settings.redis_key_prefix),
        clinic_details(settings),
        locales(settings),
        settings.staff_review_max_age_days,
        ZoneInfo(settings.clinic_timezone),
        settings.redis_key_prefix,
        settings.sms_segment_price,
    )
    api.include_router(console_router(console))
    api.mount(
        "/staff-static",
        StaticFiles(directory=str(Path(__file__).parent / "static" / "staff")),
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

    @api.exception_handler(SignInRequired)
    async def sign_in_first(request: Request, exc: SignInRequired) -> Response:
        if request.url.path.startswith("/staff/api/"):
            return JSONResponse({"error": "sign in first"}, status_code=401)
        return RedirectResponse("/staff/login", status_code=303)
