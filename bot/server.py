"""How `smsbot serve` runs uvicorn: timeouts and limits that keep slow or idle clients from
holding connections, memory and temporary files.

uvicorn closes an idle keep-alive connection (`timeout_keep_alive`) and refuses work past
`limit_concurrency` with a 503, but it has no deadline for a request's headers or body: a client
that opens a connection and sends nothing, or sends one byte every few seconds, keeps it open
for as long as it likes. `TimedHttpToolsProtocol` adds both deadlines; when one passes, the
connection is closed and the request (if the app has it already) sees the client as gone.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from bot.config import Settings


class TimedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline for the headers and one for the body.

    The header clock starts when the connection opens or the next request's first byte arrives
    (between requests uvicorn's keep-alive timeout applies); the body clock when the headers are
    complete, and it stops when the last byte of the body is in.
    """

    header_timeout: float = 10.0
    body_timeout: float = 20.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.header_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._deadline is None:
            self._arm(self.header_timeout)

    def on_headers_complete(self) -> None:
        self._disarm()
        self._arm(self.body_timeout)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def _arm(self, seconds: float) -> None:
        self._deadline = self.loop.call_later(seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()


def set_deadlines(settings: Settings) -> None:
    """This deployment's deadlines, for every connection from now on. Set on the class because
    uvicorn builds the protocol itself (and, with several workers, in each worker's process,
    whose app factory calls this too)."""
    TimedHttpToolsProtocol.header_timeout = settings.server_header_timeout_seconds
    TimedHttpToolsProtocol.body_timeout = settings.server_body_timeout_seconds


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The limits every `smsbot serve` runs with; see README, 'Timeouts and limits'."""
    set_deadlines(settings)
    return {
        "http": TimedHttpToolsProtocol,
        "timeout_keep_alive": settings.server_keep_alive_seconds,
        "limit_concurrency": settings.server_limit_concurrency,
        # On SIGTERM, requests still running get this long; then the process exits anyway.
        "timeout_graceful_shutdown": settings.server_shutdown_seconds,
    }
