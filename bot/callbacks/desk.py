"""What a text does to the callback queue, for the conversation: make or take back a request,
and the words that tell the patient about it.

The router marks a reply with `callback="request"` or `"withdraw"` and, for the patient's
answer, leaves a placeholder part (`callback:request`, `callback:withdraw`). After the
session is saved, the desk acts on the queue and puts the real snippet in its place; a snippet
that tells a time carries it after an '@' (`reply.callback.new@1790000000`), so that a Twilio
retry, answered from the recorded reply, says the same time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from bot.callbacks.queue import CallbackQueue, Closed, Listing, Ticket
from bot.callbacks.sealed import NumberBox
from bot.callbacks.window import CallbackWindow
from bot.errors import StoreUnavailable
from bot.metrics import Metrics
from bot.models import Inbound, Language, Part, Reply, Session
from bot.router import CALLBACK_REQUEST, CALLBACK_WITHDRAW

log = logging.getLogger("smsbot.callbacks")
WHEN = "{callback_when}"


class CallbackDesk:
    def __init__(
        self,
        queue: CallbackQueue,
        window: CallbackWindow,
        box: NumberBox,
        metrics: Metrics,
        target_minutes: int,
    ):
        self.queue = queue
        self.window = window
        self.box = box
        self.metrics = metrics
        metrics.callback_target.set(target_minutes * 60)

    def seal(self, number: str, sender: str) -> str:
        return self.box.seal(number, sender)

    async def act(self, inbound: Inbound, reply: Reply, session: Session, now: int) -> Reply:
        """Carry out what the reply asks of the queue; the patient's answer says how it went."""
        if reply.callback == "request":
            return await self._request(inbound, reply, session, now)
        if reply.callback == "withdraw":
            withdrawn = await self._withdraw(inbound.sender, now)
            return _replace_part(reply, CALLBACK_WITHDRAW, _withdrawn_part(withdrawn))
        return reply

    async def replay(self, inbound: Inbound, reply: Reply, now: int) -> Reply:
        """A Twilio retry whose first answer was recorded before the queue was asked: ask again
        (it is idempotent per sender and message), never twice for the patient."""
        if not any(CALLBACK_REQUEST in message for message in reply.messages):
            return _replace_part(reply, CALLBACK_WITHDRAW, "reply.callback.cancelled")
        return await self._request(inbound, replace(reply, callback="request"), Session(), now)

    def describe(self, due: int, language: Language) -> str:
        return self.window.describe(due, language)

    async def refresh(self, now: int) -> Listing:
        """Open requests and the oldest one's age, into the gauges (done at each scrape)."""
        listing = await self.queue.listing(now, limit=1)
        self.observe_expired(listing)
        self.metrics.callbacks_open.set(listing.open)
        oldest = listing.waiting[0].created if listing.waiting else now
        self.metrics.callback_oldest.set(max(0, now - oldest))
        return listing

    def observe_closed(self, outcome: str, closed: Closed) -> None:
        self.metrics.callback_outcomes.labels(outcome).inc()
        self.metrics.callback_close_seconds.observe(closed.waited)

    def observe_expired(self, listing: Listing) -> None:
        for waited in listing.expired:
            self.observe_closed("expired", Closed(waited, 0))

    async def _request(self, inbound: Inbound, reply: Reply, session: Session, now: int) -> Reply:
        if not inbound.sealed_number:  # a channel address the line cannot call back
            return _replace_part(reply, CALLBACK_REQUEST, "reply.callback.failed")
        try:
            ticket = await self.queue.request(
                inbound.sender,
                inbound.sealed_number,
                reply.language,
                session.read,
                inbound.message_id,
                now,
                self.window.due(now),
            )
        except StoreUnavailable as exc:
            self.metrics.store_errors.labels("callback").inc()
            log.warning("could not queue a callback request (%s)", exc)
            return _replace_part(reply, CALLBACK_REQUEST, "reply.callback.failed")
        if ticket.new:
            self.metrics.callback_requests.inc()
        return _replace_part(reply, CALLBACK_REQUEST, _ticket_part(ticket))

    async def _withdraw(self, sender: str, now: int) -> bool:
        try:
            closed = await self.queue.withdraw(sender, now)
        except StoreUnavailable as exc:
            self.metrics.store_errors.labels("callback").inc()
            log.warning("could not withdraw a callback request (%s)", exc)
            return False
        if closed is not None:
            self.observe_closed("withdrawn", closed)
        return closed is not None


def fill_when(
    text: str, part: Part, language: Language, describe: Callable[[int, Language], str]
) -> str:
    """The snippet's text with the promised time in it ('reply.callback.new@1790000000')."""
    _, _, due = part.partition("@")
    return text.replace(WHEN, describe(int(due), language)) if due.isdigit() else text


def _ticket_part(ticket: Ticket) -> Part:
    return f"reply.callback.{'new' if ticket.new else 'again'}@{ticket.due}"


def _withdrawn_part(withdrawn: bool) -> Part:
    return "reply.callback.cancelled" if withdrawn else "reply.callback.none"


def _replace_part(reply: Reply, placeholder: Part, part: Part) -> Reply:
    messages = tuple(
        tuple(part if p == placeholder else p for p in message) for message in reply.messages
    )
    return replace(reply, messages=messages, callback="")
