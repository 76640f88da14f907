"""The catalog at a glance, editing a snippet or a topic's keywords, and the live preview."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from bot.console import limits
from bot.console.accounts import Account
from bot.console.deps import ConsoleDep, checked, signed_in
from bot.console.index import topic_index
from bot.console.routes import page
from bot.console.text_input import normalize_text, normalize_words, same_text
from bot.console.trial import try_a_message
from bot.console.views import (
    FILTERS,
    LANGUAGE_NAMES,
    find,
    preview_of,
    snippet_rows,
    too_long,
)
from bot.errors import PreviewError

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
async def overview(
    console: ConsoleDep, request: Request, account: Account = Depends(signed_in)
) -> HTMLResponse:
    review = await console.versions.for_review()
    number, published, candidate, changes = (
        review.number,
        review.published,
        review.data,
        review.changes,
    )
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
async def edit(
    console: ConsoleDep, request: Request, key: str, account: Account = Depends(signed_in)
) -> Response:
    found = await console.versions.for_review()
    published, candidate = found.published, found.data
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
    console: ConsoleDep,
    request: Request,
    key: str,
    account: Account = Depends(checked),
) -> Response:
    form = await request.form()
    candidate = (await console.versions.for_review()).data
    if key not in candidate.english:
        raise HTTPException(404, "no such snippet")
    # As stored: a textarea's CRLF, spaces at line ends or a decomposed accent are not an
    # edit, so a text the editor did not touch is never drafted (B5).
    english = normalize_text(str(form.get("en", "")))
    spanish = normalize_text(str(form.get("es", "")))
    problem = limits.text_problem(english) or limits.text_problem(spanish)
    if problem:
        raise HTTPException(400, problem)
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
    console: ConsoleDep, request: Request, topic: str, account: Account = Depends(signed_in)
) -> Response:
    candidate = (await console.versions.for_review()).data
    words = candidate.keywords.get("topics", {}).get(topic)
    if words is None:
        raise HTTPException(404, "no such topic")
    examples = candidate.examples.get("topics", {}).get(topic) or {}
    return page(
        request, "staff/keywords.html", account, topic=topic, words=words, examples=examples
    )


@router.post("/keywords/{topic}")
async def keywords_save(
    console: ConsoleDep, request: Request, topic: str, account: Account = Depends(checked)
) -> Response:
    if topic not in console.structure.topics:
        raise HTTPException(422, f"there is no topic '{topic}' in the menus")
    form = await request.form()
    _, _, candidate, _ = await console.versions.candidate()
    current = candidate.keywords.get("topics", {}).get(topic) or {}
    drafted = candidate.examples.get("topics", {}).get(topic) or {}
    lists = {language: normalize_words(str(form.get(language, ""))) for language in ("en", "es")}
    for words in lists.values():
        problem = limits.keywords_problem(words)
        if problem:
            raise HTTPException(400, problem)
    for language in ("en", "es"):
        words = lists[language]
        if words != list(current.get(language) or []):  # an untouched list is no draft
            await console.versions.save_keywords(topic, language, words, account.name)
        questions = normalize_words(str(form.get(f"examples_{language}", "")))
        if f"examples_{language}" in form and questions != list(drafted.get(language) or []):
            await console.versions.save_examples(topic, language, questions, account.name)
    return RedirectResponse(f"/staff/keywords/{topic}?saved=1", status_code=303)


@router.get("/try", response_class=HTMLResponse)
async def try_form(
    console: ConsoleDep, request: Request, account: Account = Depends(signed_in)
) -> Response:
    return page(request, "staff/try.html", account, result=None, message="")


@router.post("/try", response_class=HTMLResponse)
async def try_message(
    console: ConsoleDep, request: Request, account: Account = Depends(checked)
) -> Response:
    """What the bot would answer a new sender, and why. Nothing is stored or logged."""
    form = await request.form()
    message = str(form.get("message", ""))[:1600]
    country = str(form.get("country", "US"))[:2]
    result = try_a_message(console.bot, message, country)
    return page(request, "staff/try.html", account, result=result, message=message)


@router.post("/api/preview")
async def preview(
    console: ConsoleDep, request: Request, account: Account = Depends(checked)
) -> JSONResponse:
    try:
        body = await request.json()
    except ValueError as exc:
        raise HTTPException(400, "send a JSON object with key, language and text") from exc
    fields = ("key", "language", "text")
    missing = [name for name in fields if not isinstance(body, dict) or name not in body]
    if missing:
        raise HTTPException(422, f"missing in the request: {', '.join(missing)}")
    key, language, text = str(body["key"]), str(body["language"]), str(body["text"])
    problem = limits.text_problem(text)
    if problem:
        return JSONResponse({"error": problem})  # shown while typing, like a stray brace
    candidate = (await console.versions.for_review()).data
    if key not in candidate.english or language not in LANGUAGE_NAMES:
        raise HTTPException(404, "no such snippet")
    try:
        # Off the event loop, which keeps answering texts meanwhile.
        found = await asyncio.to_thread(preview_of, console, candidate, key, language, text)
        return JSONResponse(found)
    except PreviewError as exc:  # while typing: shown beside the text, not an error page
        return JSONResponse({"error": str(exc)})
