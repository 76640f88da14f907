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
import weakref
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from bot.config import Settings


class TimedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline for the headers and one for the body.

    The header clock starts when the connection opens or the next request's first byte arrives
    (between requests uvicorn's keep-alive timeout applies); the body clock when the headers are
    complete, and it stops when the last byte of the body is in.

    A deadline is a time kept on the connection, not a timer: one sweep per server and tick
    closes the connections past theirs. A timer armed and cancelled twice per request cost
    about as much as parsing the request.
    """

    header_timeout: float = 10.0
    body_timeout: float = 20.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: float | None = None  # on the loop's clock

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.header_timeout)
        _Sweep.watch(self.server_state, self.connections, self.loop)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._deadline is None:
            self._arm(self.header_timeout)

    def on_headers_complete(self) -> None:
        self._arm(self.body_timeout)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._deadline = None
        super().on_message_complete()

    def close_if_late(self, now: float) -> None:
        if self._deadline is not None and now >= self._deadline:
            self._deadline = None
            if not self.transport.is_closing():
                self.transport.close()

    def _arm(self, seconds: float) -> None:
        self._deadline = self.loop.time() + seconds


class _Sweep:
    """The one timer of a server that closes its connections past their deadline. It runs
    while the server has connections, every quarter of the shorter deadline (at most a
    second), so a deadline is kept to within that."""

    _running: ClassVar[weakref.WeakKeyDictionary[object, _Sweep]] = weakref.WeakKeyDictionary()

    def __init__(self, owner: object, connections: set[Any], loop: asyncio.AbstractEventLoop):
        self._owner = weakref.ref(owner)
        self._connections = connections
        self._loop = loop
        timeouts = (TimedHttpToolsProtocol.header_timeout, TimedHttpToolsProtocol.body_timeout)
        self._tick = min(1.0, max(MIN_TICK, min(timeouts) / 4))
        self._loop.call_later(self._tick, self._sweep)

    @classmethod
    def watch(cls, owner: object, connections: set[Any], loop: asyncio.AbstractEventLoop) -> None:
        """`owner`: the server (its uvicorn ServerState); `connections`: its open ones."""
        if owner not in cls._running:
            cls._running[owner] = cls(owner, connections, loop)

    def _sweep(self) -> None:
        owner = self._owner()
        if owner is None or not self._connections or self._loop.is_closed():
            if owner is not None:
                self._running.pop(owner, None)  # the next connection starts a new sweep
            return
        now = self._loop.time()
        for connection in list(self._connections):
            if isinstance(connection, TimedHttpToolsProtocol):
                connection.close_if_late(now)
        self._loop.call_later(self._tick, self._sweep)


MIN_TICK = 0.05


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
