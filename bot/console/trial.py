"""The "try a message" box: what the bot would answer, and why, without storing anything.

The message goes through the same router and content as the webhook, as the first message of
a new sender, against a session that lives only in this call. Nothing is saved, counted or
logged.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.app import Bot
from bot.models import Inbound, Session

TRY_SENDER = "console-try"  # never a real sender's key: the store is not touched at all


@dataclass(frozen=True, slots=True)
class Trial:
    replies: tuple[str, ...]  # the SMS the patient would get
    intent: str  # which rule answered
    language: str
    language_score: float  # > 0 leans Spanish
    alarm: str  # "emergency: chest", or ""
    decision: str  # answer, choose, none or unrelated
    scores: tuple[tuple[str, float], ...]
    drug: str


def try_a_message(bot: Bot, message: str, country: str = "US") -> Trial:
    router = bot.conversation.router
    inbound = Inbound(TRY_SENDER, "SMconsoletry", message, from_country=country)
    reply, _ = router.route(inbound, None, now=0)
    texts = tuple(bot.content.render(reply.language, parts) for parts in reply.messages)
    reading = router.read(message, Session())
    if reading is None:
        return Trial(texts, reply.intent, reply.language, 0.0, "", "", (), "")
    alarm = f"{reading.alarm.level}: {reading.alarm.concept}" if reading.alarm else ""
    return Trial(
        replies=texts,
        intent=reply.intent,
        language=reply.language,
        language_score=reading.language.score,
        alarm=alarm,
        decision=reading.decision,
        scores=reading.scores,
        drug=reading.drug.display if reading.drug else "",
    )
