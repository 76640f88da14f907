"""/staff/insights: what patients ask, from aggregate counters, for a chosen period."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from bot.console.accounts import Account
from bot.console.deps import Console, ConsoleDep, signed_in
from bot.console.index import topic_index
from bot.console.insights_page import PRESETS, Chosen, choose_period, daily_csv, page_context
from bot.console.routes import page
from bot.console.views import LANGUAGE_NAMES
from bot.insights import MIN_SENDERS, InsightsKeys, InsightsReader, Period, flush_now

router = APIRouter()


async def period_of(console: Console, request: Request) -> tuple[Chosen, Period]:
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
async def insights(
    console: ConsoleDep, request: Request, account: Account = Depends(signed_in)
) -> HTMLResponse:
    chosen, period = await period_of(console, request)
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
async def insights_csv(
    console: ConsoleDep, request: Request, account: Account = Depends(signed_in)
) -> Response:
    chosen, period = await period_of(console, request)
    name = f"smsbot-daily-{chosen.first.isoformat()}-to-{chosen.last.isoformat()}.csv"
    return Response(
        daily_csv(period),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
