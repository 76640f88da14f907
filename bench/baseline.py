"""The yardstick: an empty FastAPI POST /sms returning constant TwiML. No parsing, no
signature, no Redis: what any webhook costs before it does anything."""

from fastapi import FastAPI
from fastapi.responses import Response

TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Hello</Message></Response>'

app = FastAPI()


@app.post("/sms")
async def sms() -> Response:
    return Response(TWIML, media_type="application/xml")


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
