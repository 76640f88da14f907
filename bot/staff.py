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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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
from bot.catalog import CatalogData, Report, Translation, check_data, measure_replies
from bot.config import Settings
from bot.content import MENU_PREFIX, ClinicDetails, Content, Structure, po_bytes
from bot.published import Candidate, CatalogVersions, Change, VersionConflict
from bot.router import reply_shapes
from bot.sms import measure, non_gsm_characters

log = logging.getLogger("smsbot.staff")
LANGUAGE_NAMES = {"en": "English", "es": "Spanish"}
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

    @property
    def structure(self) -> Structure:
        return self.bot.content.structure

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
        if not account.can_edit:  # a nurse: the callback queue is her page
            raise HTTPException(303, headers={"Location": "/staff/callbacks"})
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
            {
                "account": account,
                "csrf": request.session.get("csrf", ""),
                "callbacks_on": console.bot.callbacks is not None,
                **context,
            },
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
            return page(request, "staff/login.html", None, error=str(exc), status=429)
        if account is None:
            await console.versions.audit_failed_sign_in(name.strip()[:64])
            return page(request, "staff/login.html", None, error="Wrong name or password.")
        request.session.clear()
        request.session.update({"user": account.name, "csrf": secrets.token_urlsafe(24)})
        await console.versions.audit(account.name, "sign-in", account.role)
        return RedirectResponse("/staff/" if account.can_edit else "/staff/callbacks", 303)

    @router.post("/logout")
    async def logout(request: Request) -> Response:  # any role; the token still must match
        expected = request.session.get("csrf", "")
        token = str((await request.form()).get("csrf", ""))
        if not token or not expected or not hmac.compare_digest(token, expected):
            raise HTTPException(403, "missing or wrong CSRF token: reload the page")
        request.session.clear()
        return RedirectResponse("/staff/login", status_code=303)

    # -- the catalog at a glance --------------------------------------------------------------

    @router.get("/", response_class=HTMLResponse)
    async def overview(request: Request, account: Account = Depends(signed_in)) -> HTMLResponse:
        number, published, candidate, changes = await console.versions.candidate()
        history = await console.versions.history()
        rows = snippet_rows(console, published, candidate, changes, history)
        return page(
            request,
            "staff/index.html",
            account,
            version=number,
            groups=rows,
            drafts=len(changes),
        )

    @router.get("/snippet/{key}", response_class=HTMLResponse)
    async def edit(request: Request, key: str, account: Account = Depends(signed_in)) -> Response:
        _, published, candidate, _ = await console.versions.candidate()
        if key not in candidate.english:
            raise HTTPException(404, "no such snippet")
        es = candidate.translations.get("es", {}).get(key)
        return page(
            request,
            "staff/edit.html",
            account,
            key=key,
            where=describe(console.structure, key),
            english=candidate.english[key],
            spanish=es.text if es else "",
            needs_review=candidate.needs_review("es", key),
            published_english=published.english.get(key, ""),
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
        english, spanish = str(form.get("en", "")).strip(), str(form.get("es", "")).strip()
        if english != candidate.english[key]:
            await console.versions.save_text("en", key, english, account.name)
        current_es = candidate.translations.get("es", {}).get(key)
        confirmed = form.get("es_reviewed") == "yes"  # "the Spanish still says the same"
        if current_es is None or spanish != current_es.text or confirmed:
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
        for language in ("en", "es"):
            lines = str(form.get(language, "")).splitlines()
            words = [line.strip() for line in lines if line.strip()]
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
            changes=found.changes,
            errors=errors,
            authors=sorted({json.loads(raw)["who"] for raw in found.drafts.values()}),
            refused=refused,
            changed=changed,
        )

    @router.post("/publish")
    async def publish(request: Request, account: Account = Depends(reviewer)) -> Response:
        form = await request.form()
        found = await console.versions.for_review()
        report = await console.check(found.data)
        if str(form.get("version")) != str(found.number) or form.get("drafts") != found.digest:
            # Publish only what the reviewer saw: show what is there now instead.
            return review_page(request, account, found, report.errors, changed=True)
        if not found.changes:
            raise HTTPException(400, "nothing to publish")
        if not report.ok:
            return review_page(request, account, found, report.errors, refused=True)
        note = str(form.get("note", "")).strip()
        try:
            await console.versions.publish(
                found.data, found.number, account.name, note, found.changes, found.drafts
            )
        except VersionConflict:
            found = await console.versions.for_review()
            report = await console.check(found.data)
            return review_page(request, account, found, report.errors, changed=True)
        return RedirectResponse("/staff/history", status_code=303)

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
            when=when,
            error=error,
        )

    @router.post("/restore/{number}")
    async def restore(
        request: Request, number: int, account: Account = Depends(reviewer)
    ) -> Response:
        form = await request.form()
        current, published = await console.versions.current()
        try:
            old = await console.versions.load(number)
        except LookupError as exc:
            raise HTTPException(404, str(exc)) from exc
        report = await console.check(old)
        if not report.ok:
            raise HTTPException(422, "that version no longer passes the catalog check")
        changes = diff(published, old)
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
        if name == "es.po":
            return Response(
                to_po(candidate, "es"),
                media_type="text/x-gettext-translation; charset=utf-8",
                headers={"Content-Disposition": 'attachment; filename="es.po"'},
            )
        raise HTTPException(404, "export es.po or catalog.csv")

    @router.post("/import", response_class=HTMLResponse)
    async def import_file(
        request: Request,
        upload: UploadFile = File(...),
        account: Account = Depends(checked),
    ) -> HTMLResponse:
        _, published, candidate, _ = await console.versions.candidate()
        raw = await upload.read()
        try:
            if (upload.filename or "").endswith(".csv"):
                imported, kept = from_csv(candidate, published, raw)
            else:
                imported, kept = from_po(candidate, published, raw, "es")
        except ValueError as exc:
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


def describe(structure: Structure, key: str) -> str:
    for menu in structure.menus.values():
        if menu.header == key:
            return f"Header of the {menu.id} menu"
    for topic in structure.topics.values():
        if topic.label == key:
            return f"Menu label of {topic.id}"
        if key in topic.pages:
            number = topic.pages.index(key) + 1
            return f"{topic.id}, page {number} of {len(topic.pages)}"
    return "A reply the bot sends on its own (help, stop, emergency...)"


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
                    "reviewed": when(at[1]) if at else "in the files",
                    "version": at[0] if at else 0,
                    "stale": bool(at and at[1] < stale_before),
                }
            rows.append({"key": key, "cells": cells})
        result.append({"title": title, "topic": topic, "rows": rows})
    return result


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
    messages = []
    for name, parts in reply_shapes(console.structure):
        if key in snippets_in(console.structure, parts):
            sms = content.render(language, parts)  # type: ignore[arg-type]
            cost = measure(sms)
            messages.append(
                {
                    "name": name,
                    "text": sms,
                    "characters": cost.characters,
                    "encoding": cost.encoding,
                    "segments": cost.segments,
                    "over": cost.characters > 320 or cost.segments > 3,
                    "runs": runs(sms),
                }
            )
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


def to_csv(structure: Structure, data: CatalogData) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "where", "english", "spanish", "spanish_needs_review"])
    for key, text in data.english.items():
        es = data.translations.get("es", {}).get(key, Translation("", ""))
        review = "yes" if data.needs_review("es", key) else ""
        writer.writerow([key, describe(structure, key), text, es.text, review])
    return out.getvalue()


def from_csv(
    base: CatalogData, published: CatalogData, raw: bytes
) -> tuple[CatalogData, list[Change]]:
    """`base` with the texts of the file, and the drafts kept where the file is older."""
    try:
        rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ValueError(f"not a readable CSV file: {exc}") from exc
    if not rows or not {"id", "english", "spanish"} <= set(rows[0]):
        raise ValueError("the CSV needs the columns id, english and spanish")
    english = dict(base.english)
    spanish = dict(base.translations.get("es", {}))
    kept: list[Change] = []
    for row in rows:
        key = row["id"].strip()
        if key not in english:
            raise ValueError(f"unknown snippet id '{key}'")
        text = row["english"]
        if text == base.english[key]:
            continue
        if older(published, base, "en", key, text):
            kept.append(Change("text", "en", key, base.english[key], text))
        else:
            english[key] = text
    for row in rows:
        key, text = row["id"].strip(), row["spanish"]
        if text == cell(base, "es", key):
            if (
                reviewed(row)
                and base.needs_review("es", key)
                and row["english"] == base.english[key]
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
        text = str(message.string or "")
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


def when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


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
    )
    api.include_router(console_router(console))
    if bot.callbacks is not None:
        from bot.callbacks.console import callbacks_router

        api.include_router(callbacks_router(console, bot.callbacks))
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
