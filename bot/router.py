"""Decide what to answer. Pure: (message, session) -> (reply, next session). No I/O, no clock.

Every rule a patient can trigger lives here, in the order it is applied, so the whole
conversation design can be read top to bottom and tested with a table.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from bot.catalog.model import MENU_PREFIX, Structure, Topic
from bot.keywords import Keywords, Match
from bot.models import Inbound, Language, Part, Reply, Session

MAIN = "main"
MAIN_MENU: Part = MENU_PREFIX + MAIN

# Filled in by the callback queue once the message is saved (see bot/callbacks/desk.py).
CALLBACK_REQUEST: Part = "callback:request"
CALLBACK_WITHDRAW: Part = "callback:withdraw"
NURSE_HINT: Part = "hint.nurse"
NURSE = "nurse"  # the intent, whether a keyword or the understanding found it
CALL_TOPIC = "call"  # "When to call" ends with how to ask for a nurse
READ_KEPT = 3  # topics remembered for the nurse who calls back

# Countries where a first message most likely comes from a Spanish speaker (Twilio's FromCountry).
SPANISH_SPEAKING = frozenset(
    "AR BO CL CO CR CU DO EC ES GQ GT HN MX NI PA PE PR PY SV UY VE".split()
)


class Router:
    def __init__(
        self,
        keywords: Keywords,
        structure: Structure,
        default_language: Language,
        flood_limit: int = 30,
        callbacks: bool = False,
    ):
        self.keywords = keywords
        self.structure = structure
        self.default_language = default_language
        self.flood_limit = flood_limit
        self.callbacks = callbacks  # CALLBACKS: a nurse calls back on request

    def route(
        self, inbound: Inbound, saved: Session | None, now: int, recent: int = 1
    ) -> tuple[Reply, Session]:
        """`recent`: messages from this sender in the current flood window, this one included."""
        match = self.keywords.match(inbound.body)
        session = saved or Session()
        language = self._language(inbound, match, session)
        session = replace(session, language=language, seen=now, explicit=_explicit(match, session))
        if inbound.opt_out_type:  # Twilio Advanced Opt-Out has answered already: record only
            return self._twilio_answered(inbound.opt_out_type, session)
        if recent > self.flood_limit:
            return self._flooded(match, session, recent)
        return self._answer(inbound, match, session, first_contact=saved is None)

    # -- language ----------------------------------------------------------------------------

    def _language(self, inbound: Inbound, match: Match | None, session: Session) -> Language:
        if match and match.kind == "command" and match.name in ("english", "spanish"):
            return "en" if match.name == "english" else "es"
        if match and match.language == "es":
            return "es"  # a Spanish-only word is a clear choice
        if session.language:
            return session.language  # English and shared words keep what the sender has
        if match and match.language == "en":
            return "en"
        hint = self.keywords.language_hint(inbound.body)
        if hint:
            return hint
        if inbound.from_country.upper() in SPANISH_SPEAKING:
            return "es"
        return self.default_language

    # -- the rules, in order -----------------------------------------------------------------

    def _answer(
        self, inbound: Inbound, match: Match | None, session: Session, first_contact: bool
    ) -> tuple[Reply, Session]:
        language: Language = session.language or self.default_language
        command = match.name if match and match.kind == "command" else ""

        if session.opted_out:
            if command == "forget":  # honoured, but an opted-out number gets no text
                return _withdrawing(Reply(language, (), "forget"), session)
            if command == "help":
                return _say(language, "help", ("reply.help",)), session
            if command == "start":
                session = replace(session, opted_out=False, menu=MAIN, topic=None)
                return _say(language, "start", ("reply.start",), (MAIN_MENU,)), session
            return Reply(language, (), "opted_out"), session

        if match and match.kind == "emergency":  # "call 911" comes before anything else
            emergency = _say(language, "emergency", ("reply.emergency",))
            if self.keywords.mentions(NURSE, inbound.body):  # ...and the request still counts
                return self._nurse(language, session, first=emergency)
            return emergency, session
        if command == "stop":
            session = replace(session, opted_out=True, menu=None, topic=None)
            return _withdrawing(_say(language, "stop", ("reply.stop",)), session)
        if command == "help":
            return _say(language, "help", ("reply.help",)), session
        if command == "forget":
            return _withdrawing(_say(language, "forget", ("reply.forget",)), session)
        if match and match.name == NURSE and match.kind in ("command", "topic"):
            return self._nurse(language, session)
        if command == "nocall":
            return self._no_call(language, session)
        if command in ("english", "spanish"):
            session = replace(session, menu=MAIN, topic=None)
            return _say(language, "language", ("reply.language",), (MAIN_MENU,)), session
        reading = self.structure.topics.get(session.topic or "")
        if command == "more" and reading and 0 <= session.page < len(reading.pages):
            return self._page(language, session, reading, session.page)
        if match and match.kind == "number":
            return self._pick(language, session, match.number)
        if match and match.kind == "topic":
            return self._open(language, session, self.structure.topics[match.name])
        if first_contact and (match is None or command in ("menu", "start")):
            session = replace(session, menu=MAIN, topic=None)
            return _say(language, "welcome", ("reply.welcome",), (MAIN_MENU,)), session
        if match is not None:  # MENU, START while subscribed, MORE with nothing left
            session = replace(session, menu=MAIN, topic=None)
            return _say(language, "menu", (MAIN_MENU,)), session
        session = replace(session, menu=MAIN, topic=None)
        # The safety line travels alone, ahead of the menu, so it fits one SMS in every language;
        # with callbacks on, how to ask for a nurse's call goes with it.
        safety = (
            ("reply.not_understood", NURSE_HINT) if self.callbacks else ("reply.not_understood",)
        )
        return _say(language, "not_understood", safety, (MAIN_MENU,)), session

    # -- a nurse callback --------------------------------------------------------------------

    def _nurse(
        self, language: Language, session: Session, first: Reply | None = None
    ) -> tuple[Reply, Session]:
        """Ask for a nurse to call back. The queue, after the save, confirms when (or that the
        request already stands); an emergency said in the same message is answered first."""
        before = first.messages if first else ()
        if not self.callbacks:
            return Reply(language, (*before, ("reply.callback.off",)), NURSE), session
        session = replace(session, callback=True)
        reply = Reply(language, (*before, (CALLBACK_REQUEST,)), NURSE, callback="request")
        return reply, session

    def _no_call(self, language: Language, session: Session) -> tuple[Reply, Session]:
        """NOCALL: always asks the queue (the flag in the session is only a hint)."""
        if not self.callbacks:
            return _say(language, "nocall", ("reply.callback.off",)), session
        session = replace(session, callback=False)
        return Reply(language, ((CALLBACK_WITHDRAW,),), "nocall", callback="withdraw"), session

    def _twilio_answered(self, opt_out_type: str, session: Session) -> tuple[Reply, Session]:
        """Twilio has confirmed an opt-out, opt-in or help word itself: record it, say nothing,
        even over the flood limit (the patient must get exactly one confirmation)."""
        language: Language = session.language or self.default_language
        kind = opt_out_type.upper()
        if kind in ("STOP", "START"):
            session = replace(session, opted_out=kind == "STOP")
        reply = Reply(language, (), f"twilio_{kind.lower()}")
        return _withdrawing(reply, session) if kind == "STOP" else (reply, session)

    def _flooded(self, match: Match | None, session: Session, recent: int) -> tuple[Reply, Session]:
        """Too many messages too fast (often another auto-responder): one notice, then silence.

        Opt-outs and opt-ins still count, silently: they are the sender's right, not content.
        """
        language: Language = session.language or self.default_language
        command = match.name if match and match.kind == "command" else ""
        if command in ("stop", "start"):
            session = replace(session, opted_out=command == "stop")
        if recent == self.flood_limit + 1 and not session.opted_out:
            reply = _say(language, "flood", ("reply.flood",))
        else:
            reply = Reply(language, (), "flood")
        return _withdrawing(reply, session) if command == "stop" else (reply, session)

    def _pick(self, language: Language, session: Session, number: int) -> tuple[Reply, Session]:
        menu = self.structure.menus.get(session.menu or "")
        if menu is None or not 1 <= number <= len(menu.items):
            session = replace(session, menu=MAIN, topic=None)
            return _say(language, "menu", (MAIN_MENU,)), session
        return self._open(language, session, self.structure.topics[menu.items[number - 1]])

    def _open(self, language: Language, session: Session, topic: Topic) -> tuple[Reply, Session]:
        if topic.menu:
            session = replace(session, menu=topic.menu, topic=None, page=0)
            return _say(language, f"topic:{topic.id}", (MENU_PREFIX + topic.menu,)), session
        return self._page(language, session, topic, 0)

    def _page(
        self, language: Language, session: Session, topic: Topic, page: int
    ) -> tuple[Reply, Session]:
        has_more = page + 1 < len(topic.pages)
        session = replace(
            session,
            topic=topic.id if has_more else None,
            page=page + 1 if has_more else 0,
            read=_read(session.read, topic.id) if page == 0 else session.read,
        )
        messages = [page_parts(topic, page)]
        if self.callbacks and topic.id == CALL_TOPIC and not has_more:
            messages.append((NURSE_HINT,))  # its own SMS: the last page leaves no room for it
        return _say(language, f"topic:{topic.id}", *messages), session


def page_parts(topic: Topic, page: int) -> tuple[Part, ...]:
    """One page of a topic; every page but the last tells the reader to text MORE."""
    if page + 1 < len(topic.pages):
        return (topic.pages[page], "hint.more")
    return (topic.pages[page],)


def reply_shapes(structure: Structure) -> Iterator[tuple[str, tuple[Part, ...]]]:
    """Every distinct SMS the router can send, named, for budget checks."""
    # welcome_short: the welcome sent ahead of the answer when a first message is a topic.
    keys = ("welcome", "welcome_short", "help", "stop", "start", "language", "emergency")
    for key in (*keys, "forget", "flood"):
        yield f"reply.{key}", (f"reply.{key}",)
    yield "reply.not_understood", ("reply.not_understood",)
    yield "reply.not_understood + nurse", ("reply.not_understood", NURSE_HINT)
    yield "hint.nurse", (NURSE_HINT,)
    for key in CALLBACK_REPLIES:
        yield f"reply.callback.{key}", (f"reply.callback.{key}",)
    for menu in structure.menus.values():
        yield f"menu {menu.id}", (MENU_PREFIX + menu.id,)
    for topic in structure.topics.values():
        for page in range(len(topic.pages)):
            yield topic.pages[page], page_parts(topic, page)


# Every reply of the callback queue (reply.callback.KEY in messages/en.yaml).
CALLBACK_REPLIES = ("new", "again", "failed", "cancelled", "none", "off")


def _withdrawing(reply: Reply, session: Session) -> tuple[Reply, Session]:
    """STOP or FORGET: a callback request the sender may have is withdrawn with it."""
    if not session.callback:
        return reply, session
    return replace(reply, callback="withdraw"), replace(session, callback=False)


def _read(read: tuple[str, ...], topic: str) -> tuple[str, ...]:
    return (*[t for t in read if t != topic], topic)[-READ_KEPT:]


def _say(language: Language, intent: str, *messages: tuple[Part, ...]) -> Reply:
    return Reply(language, tuple(messages), intent)


def _explicit(match: Match | None, session: Session) -> bool:
    if match and match.kind == "command" and match.name in ("english", "spanish"):
        return True
    return session.explicit or bool(match and match.language == "es")
