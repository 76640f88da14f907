"""One message in, one answer out: load the session, route, save, render.

The webhook, the terminal chat and the browser simulator all call `Conversation.handle`, so
what a nurse tries locally is exactly what a patient gets.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.content import Content
from bot.errors import StoreUnavailable
from bot.metrics import Metrics
from bot.models import LANGUAGES, Inbound, Language, Part, Reply, Session
from bot.router import Router
from bot.store import SessionStore, Snapshot

log = logging.getLogger("smsbot.conversation")

COMMIT_ATTEMPTS = 5  # re-route when another message from the same sender committed first
DUPLICATE_WAIT = (0.05, 0.1, 0.2, 0.4, 0.8)  # a retry arriving while the first is still running


@dataclass(frozen=True, slots=True)
class Answer:
    reply: Reply
    texts: tuple[str, ...]
    outcome: str  # "ok", "duplicate", "stateless" (store down), "in_progress"


class Conversation:
    def __init__(
        self,
        router: Router,
        content: Content,
        store: SessionStore,
        metrics: Metrics | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.router = router
        self.content = content
        self.store = store
        self.metrics = metrics or Metrics()
        self.clock = clock

    async def handle(self, inbound: Inbound) -> Answer:
        started = time.perf_counter()
        answer = await self._handle(inbound)
        elapsed = time.perf_counter() - started
        self._observe(answer, elapsed)
        log.info(
            "message sender=%s intent=%s lang=%s outcome=%s sms=%d ms=%.1f",
            inbound.sender[:8],
            answer.reply.intent,
            answer.reply.language,
            answer.outcome,
            len(answer.texts),
            elapsed * 1000,
        )
        return answer

    async def _handle(self, inbound: Inbound) -> Answer:
        now = int(self.clock())
        try:
            snapshot = await self.store.begin(inbound.sender, inbound.message_id)
        except StoreUnavailable as exc:
            return self._stateless(inbound, now, exc, "begin")
        if not snapshot.claimed:
            return await self._repeat(inbound, snapshot)
        saved = snapshot.session
        if saved is None and inbound.previous_sender:
            saved = await self._carried_over(inbound.previous_sender)
        for _ in range(COMMIT_ATTEMPTS):
            reply, session = self.router.route(inbound, saved, now, snapshot.recent)
            try:
                if await self.store.commit(
                    inbound.sender, inbound.message_id, snapshot, session, encode_reply(reply)
                ):
                    self._count_opt_change(snapshot, session)
                    if reply.intent == "forget":
                        await self.store.forget(inbound.sender)
                    return self._render(reply, "ok")
                snapshot = await self.store.reread(inbound.sender)
                saved = snapshot.session
            except StoreUnavailable as exc:
                self.metrics.store_errors.labels("commit").inc()
                log.warning("session store failed mid-message (%s); answer not saved", exc)
                return self._render(reply, "stateless")
        log.warning("gave up saving after %d concurrent updates", COMMIT_ATTEMPTS)
        return self._render(reply, "stateless")

    async def _carried_over(self, previous_sender: str) -> Session | None:
        """While the hash key is rotated: an opt-out recorded under the old key still holds."""
        try:
            old = await self.store.reread(previous_sender)
        except StoreUnavailable:
            return None
        if old.session is not None and old.session.opted_out:
            return Session(opted_out=True)
        return None

    def _stateless(self, inbound: Inbound, now: int, exc: Exception, operation: str) -> Answer:
        """The store is away: answer from this message alone, as to a known sender."""
        self.metrics.store_errors.labels(operation).inc()
        log.warning("session store unavailable (%s); answering without a session", exc)
        reply, _ = self.router.route(inbound, Session(), now)
        return self._render(reply, "stateless")

    async def _repeat(self, inbound: Inbound, snapshot: Snapshot) -> Answer:
        """A MessageSid seen before: give the same answer, never a second state change."""
        recorded = snapshot.answer
        for pause in DUPLICATE_WAIT:
            if recorded is not None:
                break
            await asyncio.sleep(pause)
            try:
                recorded = await self.store.answer(inbound.sender, inbound.message_id)
            except StoreUnavailable:
                break
        if recorded is None:  # the first delivery is still running and will answer
            return Answer(Reply(self.router.default_language), (), "in_progress")
        try:
            return self._render(decode_reply(recorded), "duplicate")
        except (KeyError, ValueError):  # recorded before a content change
            reply = Reply(self.router.default_language, (("menu:main",),), "menu")
            return self._render(reply, "duplicate")

    def _render(self, reply: Reply, outcome: str) -> Answer:
        texts = tuple(self.content.render(reply.language, parts) for parts in reply.messages)
        return Answer(reply, texts, outcome)

    def _observe(self, answer: Answer, seconds: float) -> None:
        self.metrics.messages.labels(answer.reply.intent, answer.reply.language).inc()
        self.metrics.replies.labels(answer.outcome).inc()
        if answer.texts:
            self.metrics.sms.labels(answer.reply.language).inc(len(answer.texts))
        self.metrics.latency.observe(seconds)

    def _count_opt_change(self, before: Snapshot, after: Session) -> None:
        was = bool(before.session and before.session.opted_out)
        if after.opted_out and not was:
            self.metrics.opt_outs.inc()
        elif was and not after.opted_out:
            self.metrics.opt_ins.inc()


# A recorded answer names snippets, never text:
#   "es|topic:side_effects|topic.side_effects.1,hint.more"
# Replays re-render it, and no reply text sits in Redis.


def encode_reply(reply: Reply) -> str:
    messages = ";".join(",".join(parts) for parts in reply.messages)
    return f"{reply.language}|{reply.intent}|{messages}"


def decode_reply(recorded: str) -> Reply:
    language, intent, messages = recorded.split("|", 2)
    lang: Language = language if language in LANGUAGES else "en"  # type: ignore[assignment]
    parsed: tuple[tuple[Part, ...], ...] = tuple(
        tuple(message.split(",")) for message in messages.split(";") if message
    )
    return Reply(lang, parsed, intent)
