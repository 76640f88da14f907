"""One message in, one answer out: load the session, route, save, render.

The webhook, the terminal chat and the browser simulator all call `Conversation.handle`, so
what a nurse tries locally is exactly what a patient gets.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from bot.content import Content
from bot.errors import StoreUnavailable
from bot.insights import InsightsRecorder
from bot.metrics import Metrics
from bot.models import AnswerOutcome, Inbound, Language, Part, Reply, Session
from bot.router import Router
from bot.store import Committed, Duplicate, SessionStore, State
from bot.store.codec import decode_reply, encode_reply

if TYPE_CHECKING:
    from bot.callbacks.desk import CallbackDesk

log = logging.getLogger("smsbot.conversation")

COMMIT_ATTEMPTS = 5  # re-route when another message from the same sender committed first


@dataclass(frozen=True, slots=True)
class ServingCatalog:
    """What a publish replaces, as one value: the texts and the router over the catalog's words.

    A publish swaps it in one assignment, and a message reads it once, so no message is routed
    with one catalog and rendered with another.
    """

    content: Content
    router: Router
    version: int = 0  # 0: the files; N: version N published from the staff console


@dataclass(frozen=True, slots=True)
class Answer:
    reply: Reply
    texts: tuple[str, ...]
    outcome: AnswerOutcome


class Conversation:
    def __init__(
        self,
        catalog: ServingCatalog,
        store: SessionStore,
        metrics: Metrics | None = None,
        clock: Callable[[], float] = time.time,
        callbacks: CallbackDesk | None = None,
        insights: InsightsRecorder | None = None,
    ):
        self.catalog = catalog
        self.store = store
        self.metrics = metrics or Metrics()
        self.clock = clock
        self.callbacks = callbacks  # the nurse callback queue, when CALLBACKS is on
        self.insights = insights

    @property
    def router(self) -> Router:
        return self.catalog.router

    async def handle(self, inbound: Inbound) -> Answer:
        started = time.perf_counter()
        answer = await self._handle(inbound, self.catalog)
        elapsed = time.perf_counter() - started
        self._observe(answer, elapsed)
        if self.insights is not None and answer.outcome != "duplicate":  # a retry is no news
            reply = answer.reply
            self.insights.record(
                self.clock(),
                reply.language,
                reply.intent,
                answer.texts,
                inbound.sender,
                inbound.body,
            )
        log.debug(  # /metrics has the counts; this line is for tracing one conversation
            "message sender=%s intent=%s lang=%s outcome=%s sms=%d ms=%.1f",
            inbound.sender[:8],
            answer.reply.intent,
            answer.reply.language,
            answer.outcome,
            len(answer.texts),
            elapsed * 1000,
        )
        return answer

    async def _handle(self, inbound: Inbound, catalog: ServingCatalog) -> Answer:
        try:
            expected = await self._starting_state(inbound)
            saved = self._with_deferred(
                inbound, expected.session or await self._carried_over(inbound)
            )
        except StoreUnavailable as exc:
            return self._stateless(inbound, catalog, exc)
        now = int(self.clock())
        for _ in range(COMMIT_ATTEMPTS):
            reply, session = catalog.router.route(
                inbound, saved, recent=expected.recent + 1, now=now
            )
            try:
                result = await self.store.commit(
                    inbound.sender, inbound.message_id, expected, session, encode_reply(reply)
                )
            except StoreUnavailable as exc:
                self.metrics.store_errors.labels("commit").inc()
                log.warning("session store unavailable (%s); answer not saved", exc)
                self._keep_opt_change(inbound, saved, session)
                return self._render(catalog, _without_queue(reply), "stateless")
            if isinstance(result, Duplicate):
                return await self._repeat(inbound, catalog, result.answer, now)
            if isinstance(result, Committed):
                self._count_opt_change(expected, session)
                if reply.intent == "forget":
                    await self._forget(inbound.sender)
                reply = await self._callback(inbound, reply, session, now)
                return self._render(catalog, reply, "ok")
            expected = result.state  # someone else wrote first: route again from the truth
            saved = self._with_deferred(inbound, expected.session)
        log.warning("gave up saving after %d concurrent updates", COMMIT_ATTEMPTS)
        return self._render(catalog, reply, "contended")

    async def _starting_state(self, inbound: Inbound) -> State:
        """The guess to route from: free when this process knows the sender."""
        known = self.store.guess(inbound.sender)
        if known is not None:
            return known
        if inbound.previous_sender:  # rotating keys: know for sure whether the sender is new
            return await self.store.read(inbound.sender)
        return State()  # most likely new; if not, commit says so and we route again

    async def _carried_over(self, inbound: Inbound) -> Session | None:
        """New under this hash key: an opt-out recorded under the previous key still holds."""
        if not inbound.previous_sender:
            return None
        old = await self.store.read(inbound.previous_sender)
        return Session(opted_out=True) if old.opted_out else None

    async def _forget(self, sender: str) -> None:
        try:
            await self.store.forget(sender)
        except StoreUnavailable as exc:
            self.metrics.store_errors.labels("forget").inc()
            log.warning("could not forget a sender (%s)", exc)

    def _stateless(self, inbound: Inbound, catalog: ServingCatalog, exc: Exception) -> Answer:
        """The store is away: answer from what this process last saw of the sender (an opt-out
        included), else from this message alone, as to a known sender."""
        self.metrics.store_errors.labels("read").inc()
        log.warning("session store unavailable (%s); answering without a session", exc)
        known = self.store.guess(inbound.sender)
        before = self._with_deferred(inbound, known.session if known else None) or Session()
        reply, session = catalog.router.route(inbound, before, now=int(self.clock()))
        self._keep_opt_change(inbound, before, session)
        # No callback request either: the queue shares that Redis.
        return self._render(catalog, _without_queue(reply), "stateless")

    def _keep_opt_change(self, inbound: Inbound, before: Session | None, after: Session) -> None:
        """The store is away: an opt-out (or opt-in) this message made must not be lost."""
        if after.opted_out != (before.opted_out if before else False):
            self.store.defer_opt_change(inbound.sender, after.opted_out)

    def _with_deferred(self, inbound: Inbound, saved: Session | None) -> Session | None:
        """An opt-out (or opt-in) made while the store was away holds until it is saved."""
        pending = self.store.deferred_opt_change(inbound.sender)
        if pending is None:
            return saved
        return replace(saved or Session(), opted_out=pending)

    async def _callback(self, inbound: Inbound, reply: Reply, session: Session, now: int) -> Reply:
        """Saved: now make (or take back) the callback request the message asked for."""
        if not reply.callback and not _asks_queue(reply):
            return reply
        if self.callbacks is None:  # a reply recorded while CALLBACKS was on
            return _without_queue(reply)
        return await self.callbacks.act(inbound, reply, session, now)

    async def _repeat(
        self, inbound: Inbound, catalog: ServingCatalog, recorded: str, now: int
    ) -> Answer:
        """A MessageSid answered before: the same answer, never a second state change."""
        try:
            reply = decode_reply(recorded)
            if _asks_queue(reply) and self.callbacks is not None:
                reply = await self.callbacks.replay(inbound, reply, now)
            return self._render(catalog, reply, "duplicate")
        except (KeyError, ValueError):  # recorded before a content change
            reply = Reply(catalog.router.default_language, (("menu:main",),), "menu")
            return self._render(catalog, reply, "duplicate")

    def _render(self, catalog: ServingCatalog, reply: Reply, outcome: AnswerOutcome) -> Answer:
        content = catalog.content
        texts = tuple(self._text(content, reply.language, parts) for parts in reply.messages)
        return Answer(reply, texts, outcome)

    def _text(self, content: Content, language: Language, parts: tuple[Part, ...]) -> str:
        if not any("@" in part for part in parts):
            return content.render(language, parts)
        return "\n".join(self._part(content, language, part) for part in parts)

    def _part(self, content: Content, language: Language, part: Part) -> str:
        """A snippet that tells a time: 'reply.callback.new@1790000000'."""
        key, _, _ = part.partition("@")
        text = content.text(language, key)
        if self.callbacks is None:
            return text
        from bot.callbacks.desk import fill_when

        return fill_when(text, part, language, self.callbacks.describe)

    def _observe(self, answer: Answer, seconds: float) -> None:
        self.metrics.observe(
            answer.reply.intent, answer.reply.language, answer.outcome, len(answer.texts), seconds
        )

    def _count_opt_change(self, before: State, after: Session) -> None:
        was = before.opted_out
        if after.opted_out and not was:
            self.metrics.opt_outs.inc()
        elif was and not after.opted_out:
            self.metrics.opt_ins.inc()


def _asks_queue(reply: Reply) -> bool:
    """Still holds a placeholder the callback queue fills in (see bot/callbacks/desk.py)."""
    return any(part.startswith("callback:") for message in reply.messages for part in message)


def _without_queue(reply: Reply) -> Reply:
    """Redis is away (or CALLBACKS was turned off): no request made or taken back; the patient
    is told to call instead."""
    messages = tuple(
        tuple("reply.callback.failed" if part.startswith("callback:") else part for part in m)
        for m in reply.messages
    )
    return replace(reply, messages=messages, callback="")
