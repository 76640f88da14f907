"""What the session store holds for a phone number, asked through the store's own key builder
and codec: tests check behaviour, not how keys are spelled."""

from __future__ import annotations

from typing import Any, Literal

from bot.models import Session
from bot.privacy import sender_key
from bot.store import State
from bot.store.codec import decode_session
from bot.store.keys import Keys
from tests.helpers.settings import HASH_KEY


def key_of(prefix: str, number: str, what: Literal["session", "opt_out", "flood"]) -> str:
    """The key the store keeps this part of `number`'s state under (for TTL checks)."""
    keys = Keys(prefix)
    sender = sender_key(number, HASH_KEY.encode())
    return {"session": keys.session, "opt_out": keys.opt_out, "flood": keys.flood}[what](sender)


def stored(rdb: Any, prefix: str, number: str, hash_key: str = HASH_KEY) -> State:
    """The stored state of `number`: its session line, opt-out and flood count."""
    keys = Keys(prefix)
    sender = sender_key(number, hash_key.encode())
    return State(
        rdb.get(keys.session(sender)) or "",
        bool(rdb.exists(keys.opt_out(sender))),
        int(rdb.get(keys.flood(sender)) or 0),
    )


def session_of(rdb: Any, prefix: str, number: str, hash_key: str = HASH_KEY) -> Session | None:
    state = stored(rdb, prefix, number, hash_key)
    return decode_session(state.raw, state.opted_out)


def stored_count(rdb: Any, prefix: str, what: Literal["session", "opt_out"]) -> int:
    """How many senders have a session (or an opt-out) stored, found by the store's key builder."""
    keys = Keys(prefix)
    pattern = keys.session("*") if what == "session" else keys.opt_out("*")
    return sum(1 for _ in rdb.scan_iter(match=pattern))


def dump_redis(rdb: Any, prefix: str) -> str:
    """Every key and value under the prefix, whatever its type, as text."""
    found = []
    for key in rdb.scan_iter(match=f"{prefix}:*"):
        found.append(key)
        kind = rdb.type(key)
        if kind == "string":
            found.append(rdb.get(key))
        elif kind == "hash":
            found.extend(f"{k}={v}" for k, v in rdb.hgetall(key).items())
        elif kind == "list":
            found.extend(rdb.lrange(key, 0, -1))
        elif kind == "set":
            found.extend(rdb.smembers(key))
        elif kind == "zset":
            found.extend(rdb.zrange(key, 0, -1))
        elif kind == "stream":
            found.extend(str(entry) for entry in rdb.xrange(key))
    return "\n".join(found)
