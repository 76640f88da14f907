"""Local mode only: a phone-style page that posts signed messages to /sms."""

from __future__ import annotations

import html
import json
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse

from bot.config import Settings
from bot.errors import BodyTooLarge, ClientGone
from bot.sms import measure
from bot.webhook import twilio
from bot.webhook.webhook import read_body


def add_simulator(app: FastAPI, settings: Settings) -> None:
    template = (Path(__file__).parent / "static" / "simulator.html").read_text(encoding="utf-8")
    page = template.replace("{program_name}", html.escape(settings.program_name))

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def simulator() -> HTMLResponse:
        return HTMLResponse(page)

    @app.post("/simulator/measure", include_in_schema=False)
    async def measure_replies(request: Request) -> JSONResponse:
        """Encoding and segments of each reply shown, by the code the catalog check uses."""
        try:
            texts = json.loads(await read_body(request.receive, settings.max_body_bytes))
        except (BodyTooLarge, ClientGone, ValueError):
            texts = None
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            return JSONResponse({"error": "send a JSON list of texts"}, status_code=400)
        return JSONResponse([_cost(text) for text in texts])

    @app.post("/simulator/sign", include_in_schema=False)
    async def sign(request: Request) -> JSONResponse:
        """Sign a form the way Twilio would, with this run's made-up token."""
        try:
            form = twilio.parse_form(await read_body(request.receive, settings.max_body_bytes))
        except (BodyTooLarge, ClientGone, ValueError):
            return JSONResponse({"error": "not a form this simulator sends"}, status_code=400)
        url = twilio.public_url(
            "/sms", "", request.headers, request.url.scheme, settings.public_base_url
        )
        return JSONResponse({"signature": twilio.signature(settings.auth_token, url, form)})


def _cost(text: str) -> dict[str, object]:
    cost = measure(text)
    return {"characters": cost.characters, "encoding": cost.encoding, "segments": cost.segments}
