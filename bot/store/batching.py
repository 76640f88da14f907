"""Auto-pipelining of the commit script: the only module that touches redis-py internals.

It uses `connection_pool.get_connection()`, `Connection.send_packed_command(...,
check_health=False)`, `Connection.read_response(timeout=...)`, `Connection.disconnect()` and
`hiredis.pack_command`. Checked against redis-py 5.x to 8.1 (pyproject pins `redis<9`); a new
major version of redis-py must be checked here first.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Sequence
from typing import Any

import hiredis
from redis.exceptions import NoScriptError, ResponseError

Rider = tuple[str | int, ...]  # a command sent along with the commit scripts, reply unread


class ScriptBatcher:
    """Sends the script calls of all messages being handled at the same moment as one pipeline.

    Under load many webhooks are in flight at once; each would pay for its own round trip and
    its own trip through redis-py. Collecting the calls made during one turn of the event loop
    and sending them together costs one round trip for the lot (like ioredis auto-pipelining).
    With one message at a time it is simply one call.
    """

    def __init__(
        self,
        client: Any,
        script: str,
        timeout: float,
        on_round_trip: Callable[[], object],
        riders: Callable[[], list[Rider]] = list,
    ):
        self._client = client
        self._script = client.register_script(script)
        self._timeout = timeout
        self._on_round_trip = on_round_trip
        self._riders = riders
        self._waiting: list[tuple[list[str], list[Any], asyncio.Future[Any]]] = []

    async def call(self, keys: list[str], args: list[Any]) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting.append((keys, args, future))
        if len(self._waiting) == 1:  # the first caller of this turn schedules the send
            asyncio.get_running_loop().call_soon(self._send_waiting)
        return await future

    def _send_waiting(self) -> None:
        batch, self._waiting = self._waiting, []
        task = asyncio.ensure_future(self._send(batch))
        task.add_done_callback(_consume_exception)

    async def _send(self, batch: list[tuple[list[str], list[Any], asyncio.Future[Any]]]) -> None:
        try:
            results = await self._execute(batch)
        except BaseException as exc:
            for _, _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            raise
        for (_, _, future), result in zip(batch, results, strict=True):
            if future.done():  # the caller gave up (timeout)
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)

    async def _execute(self, batch: list[tuple[list[str], list[Any], Any]]) -> list[Any]:
        results = await self._send_calls(batch, self._riders())
        missing = [i for i, result in enumerate(results) if isinstance(result, NoScriptError)]
        if missing:  # after a flush or failover; only those calls, the others have run
            await self._client.script_load(self._script.script)
            retried = await self._send_calls([batch[i] for i in missing])
            for i, result in zip(missing, retried, strict=True):
                results[i] = result
        return results

    async def _send_calls(
        self, batch: list[tuple[list[str], list[Any], Any]], riders: Sequence[Rider] = ()
    ) -> list[Any]:
        """The script calls, and after them any `riders`: commands whose replies nobody waits
        for (the insights counters), carried in the same write at no extra round trip. If the
        round trip fails, the riders' counts are lost with it: figures, not state."""
        packed = b"".join(
            [
                *(
                    hiredis.pack_command(("EVALSHA", self._script.sha, len(keys), *keys, *args))
                    for keys, args, _ in batch
                ),
                *(hiredis.pack_command(rider) for rider in riders),  # type: ignore[arg-type]
            ]
        )
        results = await self._send_packed(packed, len(batch) + len(riders))
        return results[: len(batch)]

    async def _send_packed(self, packed: bytes, replies: int) -> list[Any]:
        """One write and one read on a pooled connection. redis-py keeps connecting, auth, TLS
        and their timeouts; hiredis packs the commands (redis-py's asyncio packer is Python).

        The replies are read under one deadline for the round trip rather than a timer per
        reply. Cancelling a read or a write is safe: redis-py then drops the connection. (A
        handshake is not cancelled: it could leave a half-set-up connection in the pool.)
        """
        self._on_round_trip()
        pool = self._client.connection_pool
        connection = await pool.get_connection()
        try:
            async with asyncio.timeout(self._timeout):
                await connection.send_packed_command(packed, check_health=False)
                results: list[Any] = []
                for _ in range(replies):
                    try:
                        results.append(await connection.read_response(timeout=math.inf))
                    except ResponseError as exc:  # a reply, not a broken connection
                        results.append(exc)
            return results
        except BaseException:
            await connection.disconnect()
            raise
        finally:
            await pool.release(connection)


def _consume_exception(task: asyncio.Task[None]) -> None:
    if not task.cancelled():
        task.exception()  # delivered to the callers already; keep asyncio from warning
