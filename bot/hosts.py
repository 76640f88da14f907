"""Which `Host` a request may name.

In local mode the simulator signs any form with this run's token, and /sms accepts the result.
A web page the developer visits can point its own host name at 127.0.0.1 (DNS rebinding) and
then talk to both as if it were the same site: the browser sends that page's host name in
`Host`. Only the loopback names are accepted in local mode, which no such page can use.
"""

from __future__ import annotations

from starlette.types import Receive, Scope, Send

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})


def host_name(scope: Scope) -> str:
    """The Host header without its port, lower case; IPv6 literals without brackets."""
    for name, value in scope.get("headers", ()):
        if name == b"host":
            host = str(value.decode("latin-1")).strip().lower()
            if host.startswith("["):
                return host[1 : host.find("]")] if "]" in host else ""
            return host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return ""


def loopback_host(scope: Scope) -> bool:
    return host_name(scope) in LOOPBACK_NAMES


async def refuse_host(scope: Scope, receive: Receive, send: Send) -> None:
    body = b"this server answers only to 127.0.0.1 or localhost\n"
    await send(
        {
            "type": "http.response.start",
            "status": 421,  # Misdirected Request: not a host this server is for
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
