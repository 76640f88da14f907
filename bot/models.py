"""Plain data passed between the layers. Imports nothing of ours."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Language = Literal["en", "es"]
ENGLISH: Language = "en"  # the language the snippets are written in; the others translate it
SPANISH: Language = "es"
LANGUAGES: tuple[Language, ...] = (ENGLISH, SPANISH)
TRANSLATED: tuple[Language, ...] = tuple(language for language in LANGUAGES if language != ENGLISH)

# Which rule answered a message, for metrics, logs and the insights counters: a plain name
# ("help", "not_understood") or one of these prefixes with a topic ID. The counters in Redis
# keep these strings, so their spelling must not change.
TOPIC_INTENT = "topic:"  # a topic opened: "topic:side_effects"
DRUG_INTENT = "drug:"  # a drug name read, answered with its class's topic: "drug:checkpoint"
TWILIO_INTENT = "twilio_"  # Twilio Advanced Opt-Out answered itself: "twilio_stop"


def topic_intent(topic: str) -> str:
    return TOPIC_INTENT + topic


def drug_intent(topic: str) -> str:
    return DRUG_INTENT + topic


def twilio_intent(opt_out_type: str) -> str:
    """Twilio's OptOutType ("STOP", "START", "HELP") as the intent that records it."""
    return TWILIO_INTENT + opt_out_type.lower()


def intent_topic(intent: str) -> str | None:
    """The topic a topic intent opened; None for every other intent."""
    return intent.removeprefix(TOPIC_INTENT) if intent.startswith(TOPIC_INTENT) else None


# What a message asks for, as keywords.Match reports it.
MatchKind = Literal["command", "topic", "number", "emergency"]
# How an answer came about: "duplicate" is a Twilio retry, "stateless" an answer given while the
# session store was away, "contended" one given after too many concurrent updates.
AnswerOutcome = Literal["ok", "duplicate", "stateless", "contended"]
# What a catalog change touches: a snippet's text, or a topic's keyword list.
ChangeKind = Literal["text", "keywords", "examples"]
# A staff account's role: an editor drafts, a reviewer also publishes.
Role = Literal["editor", "reviewer", "nurse"]
ROLES: tuple[Role, ...] = ("editor", "reviewer", "nurse")


@dataclass(frozen=True, slots=True)
class Inbound:
    """One message as it arrived, already verified. `sender` is the hashed key, never the number."""

    sender: str
    message_id: str
    body: str
    from_country: str = ""
    opt_out_type: str = ""  # Twilio Advanced Opt-Out: "STOP", "START", "HELP" or ""
    previous_sender: str = ""  # the hash under the previous key, while the key is rotated
    # The number encrypted for the callback queue (CALLBACKS=true only), never the number itself.
    sealed_number: str = field(default="", repr=False)


@dataclass(frozen=True, slots=True)
class Session:
    """What the bot remembers about one sender between messages."""

    language: Language | None = None  # None until first saved
    menu: str | None = None  # the last menu this sender saw
    topic: str | None = None  # topic being read, for MORE
    page: int = 0  # next page of `topic` to send on MORE
    opted_out: bool = False
    explicit: bool = False  # the language was chosen, not guessed (see Router._language)
    alarmed: int = 0  # unix time of the last emergency or urgent-symptom reply
    # The sender may have an open nurse callback request: only then do STOP and FORGET look in
    # the queue, so other messages keep their single round trip. A hint; the queue is the truth.
    callback: bool = False
    read: tuple[str, ...] = ()  # the last topics opened, newest last (topic IDs, for the nurse)


# One outgoing SMS is a list of parts joined by newlines. A part names a snippet ("reply.help")
# or a menu ("menu:main"); rendering turns it into text in the reply language.
Part = str


@dataclass(frozen=True, slots=True)
class Reply:
    """What to answer: zero or more SMS, each made of parts, in one language."""

    language: Language
    messages: tuple[tuple[Part, ...], ...] = field(default_factory=tuple)
    intent: str = "none"  # for metrics and logs: which rule answered
    callback: str = ""  # for the callback queue: "request", "withdraw" or nothing to do
