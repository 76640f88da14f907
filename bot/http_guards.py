"""Guards every HTTP response and request body gets, whichever route serves it.

`SecurityHeaders` adds the headers a browser needs to keep the pages safe: no script but the
console's own files (no inline script), no framing by any site (a same-site page could
otherwise frame the signed-in console and have *Approve and publish* clicked), no MIME sniffing,
no referrer, no caching of staff pages, and HSTS once the site is served over HTTPS. A redirect
that the framework built from the request's `Host` header is made relative, so a forged Host
never ends up in a `Location`.

`BodyLimit` refuses a request body over its route's limit with 413: a declared
`Content-Length` before anything is read, a streamed body as soon as it goes past the limit.
Neither a file field nor a form field can then fill the disk or the memory.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.config import Settings

# No inline script anywhere. Inline style is allowed because the insights charts are SVG drawn
# on the server, each carrying its own <style> (a style cannot run code; a script stays blocked).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
ALWAYS = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
)
HSTS = (b"strict-transport-security", b"max-age=31536000")
NO_STORE = (b"cache-control", b"no-store")
STAFF_PREFIXES = ("/staff",)  # pages and files that carry catalog, accounts or the audit trail


class SecurityHeaders:
    def __init__(self, app: ASGIApp, hsts: bool):
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        staff = scope["path"].startswith(STAFF_PREFIXES)
        host = _header(scope, b"host")

        async def guarded(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if not (staff and name.lower() == b"cache-control")
                ]
                headers = [_relative_location(pair, host) for pair in headers]
                headers.extend(ALWAYS)
                if staff:
                    headers.append(NO_STORE)
                if self.hsts:
                    headers.append(HSTS)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, guarded)


def _header(scope: Scope, wanted: bytes) -> str:
    for name, value in scope.get("headers", ()):
        if name == wanted:
            return str(value.decode("latin-1"))
    return ""


def _relative_location(pair: tuple[bytes, bytes], host: str) -> tuple[bytes, bytes]:
    """`Location: http://<the request's Host>/x` -> `Location: /x`; other locations as they are."""
    name, value = pair
    if name.lower() != b"location":
        return pair
    location = urlsplit(value.decode("latin-1"))
    if location.scheme and location.netloc and location.netloc.lower() == host.lower():
        relative = location.path or "/"
        if location.query:
            relative += f"?{location.query}"
        return name, relative.encode("latin-1")
    return pair


class BodyTooLarge(Exception):
    pass


class BodyLimit:
    """413 for a body over `limit_for(path)` bytes (None: the route reads its own body)."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int | None]):
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.limit_for(scope["path"]) if scope["type"] == "http" else None
        if limit is None:
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared.isdigit() and int(declared) > limit:
            await _too_large(send)
            return
        state = {"received": 0, "refused": False, "started": False}

        async def counted() -> Message:
            if state["refused"]:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > limit:
                    state["refused"] = True
                    if not state["started"]:
                        await _too_large(send)
                    return {"type": "http.disconnect"}  # the route stops reading
            return message

        async def tracked(message: Message) -> None:
            if state["refused"] and not state["started"]:
                return  # the 413 is the answer; the route's own is dropped
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except ClientDisconnect:
            if not state["refused"]:
                raise
            # The route stopped reading at the limit, as it should; the 413 is sent.


async def _too_large(send: Send) -> None:
    body = b"request too large\n"
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),  # the rest of the body is never read
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def limits_by_prefix(limits: Mapping[str, int | None], default: int) -> Callable[[str], int | None]:
    """The limit of the longest matching path prefix, else `default`."""
    ordered = sorted(limits.items(), key=lambda item: len(item[0]), reverse=True)

    def limit_for(path: str) -> int | None:
        for prefix, limit in ordered:
            if path == prefix or path.startswith(prefix.rstrip("/") + "/"):
                return limit
        return default

    return limit_for


class Guarded:
    """The FastAPI app behind both guards; `state` is the app's, for whoever reads it."""

    def __init__(self, api: Any, hsts: bool, limit_for: Callable[[str], int | None]):
        self.state = api.state
        self._app = SecurityHeaders(BodyLimit(api, limit_for), hsts=hsts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)


def guarded(api: Any, settings: Settings) -> Guarded:
    """Every route but the webhook (which reads and limits its own body) gets both guards."""
    limits = {"/sms": None, "/staff/import": settings.staff_upload_max_bytes}
    return Guarded(
        api,
        hsts=settings.cookie_secure and not settings.local_mode,
        limit_for=limits_by_prefix(limits, settings.max_request_bytes),
    )
