"""Catalog versions, drafts and the audit trail, kept in Redis for the staff console.

Version 0 is the catalog in the files. Each publish stores a complete snapshot as the next
version, so any version can be restored, and every worker of the app picks up the newest one.
A snapshot is always read applied on the files of the running deployment (`on_files`), and a
worker serves it only once it passes the catalog check there. The keys are in bot/store/keys.py.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import chain
from typing import Any

from bot.catalog.files import Source, load_data
from bot.catalog.model import CatalogData
from bot.config import Settings
from bot.console.drafts import Change, apply_drafts, on_files, parse_drafts
from bot.errors import VersionConflict
from bot.store.keys import StaffKeys

# Publishes a snapshot if the version is still the one it was built on, and takes out of the
# drafts exactly the ones it contains (field and value): a draft saved meanwhile stays a draft.
PUBLISH_SCRIPT = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current ~= tonumber(ARGV[1]) then return -1 end
local next = current + 1
redis.call('SET', KEYS[2] .. next, ARGV[2])
redis.call('SET', KEYS[1], next)
for i = 4, #ARGV, 2 do
  if redis.call('HGET', KEYS[3], ARGV[i]) == ARGV[i + 1] then
    redis.call('HDEL', KEYS[3], ARGV[i])
  end
end
redis.call('RPUSH', KEYS[4], ARGV[3])
return next
"""


# Failed sign-ins are recorded up to a number per window, then once more to say that more
# followed: guessing cannot grow the audit trail without end. Everything else is recorded.
FAILED_SIGN_INS_AUDITED = 20


FAILED_SIGN_IN_WINDOW = 900  # seconds


# Marks a draft as sent back only if it is still the one the reviewer saw.
SEND_BACK_SCRIPT = """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('RPUSH', KEYS[2], ARGV[4])
return 1
"""

AUDIT_FAILED_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local limit = tonumber(ARGV[2])
if count <= limit then redis.call('RPUSH', KEYS[2], ARGV[3])
elseif count == limit + 1 then redis.call('RPUSH', KEYS[2], ARGV[4]) end
return count
"""


@dataclass(frozen=True, slots=True)
class Version:
    number: int
    who: str
    at: float
    note: str
    changes: list[dict[str, str]]


@dataclass(frozen=True, slots=True)
class Candidate:
    """The published version with the drafts applied, and the drafts exactly as stored."""

    number: int
    published: CatalogData
    data: CatalogData
    changes: list[Change]
    drafts: dict[str, str]  # draft field -> stored value

    @property
    def digest(self) -> str:
        """Names these drafts on this version: what a reviewer saw, and may publish."""
        return drafts_digest(self.number, self.drafts)

    def only(self, drafts: Mapping[str, str]) -> Candidate:
        """The published version with only these of the drafts: what approving them publishes."""
        data, changes = apply_drafts(self.published, parse_drafts(drafts))
        return Candidate(self.number, self.published, data, changes, dict(drafts))


def drafts_digest(number: int, drafts: Mapping[str, str]) -> str:
    digest = hashlib.sha256(str(number).encode())
    for field in sorted(drafts):
        digest.update(f"\0{field}\0{drafts[field]}".encode())
    return digest.hexdigest()[:32]


class CatalogVersions:
    """Published versions, drafts, uploads waiting for a yes and the audit trail, in Redis.

    The client is its owner's (the app's lifespan, or a command): this class never closes it.
    """

    def __init__(
        self,
        client: Any,
        keys: StaffKeys,
        files: CatalogData,
        topics: frozenset[str] | None = None,
    ):
        self._redis = client
        self._keys = keys
        self._files = files
        self._topics = frozenset(files.keywords.get("topics") or ()) if topics is None else topics
        self._publish = client.register_script(PUBLISH_SCRIPT)
        self._audit_failed = client.register_script(AUDIT_FAILED_SCRIPT)
        self._send_back = client.register_script(SEND_BACK_SCRIPT)

    @property
    def client(self) -> Any:
        """The console's Redis connection, for the insights page to read the counters."""
        return self._redis

    # -- published versions -------------------------------------------------------------------

    async def current_number(self) -> int:
        return int(await self._redis.get(self._keys.version) or 0)

    async def current(self) -> tuple[int, CatalogData]:
        number = await self.current_number()
        return number, await self.load(number)

    async def load(self, number: int) -> CatalogData:
        """Version `number` as this deployment would serve it: applied on the files."""
        if number == 0:
            return self._files
        raw = await self._redis.get(self._keys.snapshot(number))
        if raw is None:
            raise LookupError(f"no catalog version {number}")
        return on_files(CatalogData.from_json(json.loads(raw)["data"]), self._files, self._topics)

    async def history(self) -> list[Version]:
        number = await self.current_number()
        keys = [self._keys.snapshot(n) for n in range(number, 0, -1)]
        raws = await self._redis.mget(keys) if keys else []
        versions = []
        for n, raw in zip(range(number, 0, -1), raws, strict=True):
            meta = json.loads(raw)["meta"] if raw else {}
            versions.append(
                Version(
                    n,
                    meta.get("who", "?"),
                    meta.get("at", 0),
                    meta.get("note", ""),
                    meta.get("changes", []),
                )
            )
        versions.append(Version(0, "files", 0, "the catalog in messages/ and locales/", []))
        return versions

    async def publish(
        self,
        data: CatalogData,
        based_on: int,
        who: str,
        note: str,
        changes: list[Change],
        drafts: Mapping[str, str] | None = None,
    ) -> int:
        """Store `data` as the next version; `drafts` (field -> stored value), those it contains,
        stop being drafts. Raises VersionConflict when `based_on` is no longer the newest."""
        meta = {
            "who": who,
            "at": time.time(),
            "note": note,
            "changes": [_as_dict(change) for change in changes],
        }
        snapshot = json.dumps({"data": data.to_json(), "meta": meta}, ensure_ascii=False)
        entry = _audit_entry(who, "publish", f"version {based_on + 1}: {note}")
        number = await self._publish(
            keys=[
                self._keys.version,
                self._keys.snapshot_prefix,
                self._keys.drafts,
                self._keys.audit,
            ],
            args=[based_on, snapshot, entry, *chain.from_iterable((drafts or {}).items())],
        )
        if number == -1:
            raise VersionConflict("another version was published meanwhile; review again")
        return int(number)

    # -- drafts -------------------------------------------------------------------------------

    async def save_text(
        self, language: str, key: str, text: str, who: str, source: str | None = None
    ) -> None:
        """A draft text; for a translation, `source` is the English it was written against."""
        field = f"t|{language}|{key}"
        draft = {"value": text, "who": who}
        if source is not None:
            draft["source"] = source
        await self._redis.hset(self._keys.drafts, field, json.dumps(draft))
        await self.audit(who, "draft", f"{language} {key}")

    async def save_keywords(self, topic: str, language: str, words: list[str], who: str) -> None:
        field = f"k|{topic}|{language}"
        draft = json.dumps({"value": words, "who": who})
        await self._redis.hset(self._keys.drafts, field, draft)
        await self.audit(who, "draft", f"keywords {topic} {language}")

    async def save_examples(
        self, topic: str, language: str, questions: list[str], who: str
    ) -> None:
        field = f"x|{topic}|{language}"
        draft = json.dumps({"value": questions, "who": who})
        await self._redis.hset(self._keys.drafts, field, draft)
        await self.audit(who, "draft", f"examples {topic} {language}")

    async def send_back(self, field: str, stored: str, who: str, note: str) -> bool:
        """A reviewer sends a draft back to its editor: it stays a draft, marked with who sent
        it back and why, unless it changed meanwhile (then the new draft wins)."""
        draft = json.loads(stored)
        draft["returned"] = {"who": who, "note": note, "at": time.time()}
        changed = await self._send_back(
            keys=[self._keys.drafts, self._keys.audit],
            args=[field, stored, json.dumps(draft), _audit_entry(who, "sent back", field)],
        )
        return bool(changed)

    async def discard(self, who: str) -> None:
        await self._redis.delete(self._keys.drafts)
        await self.audit(who, "discard drafts", "")

    async def drafts(self) -> dict[tuple[str, str, str], dict[str, Any]]:
        """(kind, language or topic, key or language) -> {"value", "who"}."""
        return parse_drafts(await self._redis.hgetall(self._keys.drafts))

    async def candidate(self) -> tuple[int, CatalogData, CatalogData, list[Change]]:
        """(published number, published, published + drafts, what the drafts change)."""
        found = await self.for_review()
        return found.number, found.published, found.data, found.changes

    async def for_review(self) -> Candidate:
        number, published = await self.current()
        raw = await self._redis.hgetall(self._keys.drafts)
        return Candidate(number, published, *apply_drafts(published, parse_drafts(raw)), raw)

    # -- uploads waiting for a yes ---------------------------------------------------------------

    async def stash(self, data: CatalogData) -> str:
        token = secrets.token_urlsafe(12)
        await self._redis.set(self._keys.stash(token), json.dumps(data.to_json()), ex=3600)
        return token

    async def unstash(self, token: str) -> CatalogData | None:
        raw = await self._redis.getdel(self._keys.stash(token)) if token else None
        return CatalogData.from_json(json.loads(raw)) if raw else None

    # -- audit --------------------------------------------------------------------------------

    async def audit(self, who: str, action: str, detail: str) -> None:
        await self._redis.rpush(self._keys.audit, _audit_entry(who, action, detail))

    async def audit_failed_sign_in(self, name: str, known: bool) -> None:
        """A failed sign-in on a real account is always recorded (the sign-in limits bound
        how many); one on an unknown name counts toward a capped window, its typed name shown
        as typed, without control or direction characters, never as the entry's author."""
        if known:
            await self.audit(name, "failed sign-in", "")
            return
        typed = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf"))[:64]
        more = f"not recording more failed sign-ins for {FAILED_SIGN_IN_WINDOW // 60} minutes"
        await self._audit_failed(
            keys=[self._keys.failed_sign_ins, self._keys.audit],
            args=[
                FAILED_SIGN_IN_WINDOW,
                FAILED_SIGN_INS_AUDITED,
                _audit_entry("", "failed sign-in", f'(typed name: "{typed}")'),
                _audit_entry("", "failed sign-ins", more),
            ],
        )

    async def audit_trail(self, last: int = 200) -> list[dict[str, Any]]:
        return [json.loads(item) for item in await self._redis.lrange(self._keys.audit, -last, -1)]


def _as_dict(change: Change) -> dict[str, str]:
    return {
        "kind": change.kind,
        "language": change.language,
        "key": change.key,
        "before": change.before,
        "after": change.after,
    }


def _audit_entry(who: str, action: str, detail: str) -> str:
    return json.dumps({"at": time.time(), "who": who, "action": action, "detail": detail})


def catalog_versions(settings: Settings, client: Any) -> CatalogVersions:
    """The catalog versions of this deployment, on the files in its messages/ and locales/."""
    files = load_data(settings.messages_dir, settings.locales_dir)
    topics = frozenset(Source.load(settings.messages_dir).structure.topics)
    return CatalogVersions(client, StaffKeys(settings.redis_key_prefix), files, topics)
