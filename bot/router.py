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
    ):
        self.keywords = keywords
        self.structure = structure
        self.default_language = default_language
        self.flood_limit = flood_limit

    def route(
        self, inbound: Inbound, saved: Session | None, recent: int = 1
    ) -> tuple[Reply, Session]:
        """`recent`: messages from this sender in the current flood window, this one included."""
        match = self.keywords.match(inbound.body)
        session = saved or Session()
        language = self._language(inbound, match, session)
        session = replace(session, language=language)
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
                return Reply(language, (), "forget"), session
            if command == "help":
                return _say(language, "help", ("reply.help",)), session
            if command == "start":
                session = replace(session, opted_out=False, menu=MAIN, topic=None)
                return _say(language, "start", ("reply.start",), (MAIN_MENU,)), session
            return Reply(language, (), "opted_out"), session

        if match and match.kind == "emergency":  # "call 911" comes before anything else
            return _say(language, "emergency", ("reply.emergency",)), session
        if command == "stop":
            session = replace(session, opted_out=True, menu=None, topic=None)
            return _say(language, "stop", ("reply.stop",)), session
        if command == "help":
            return _say(language, "help", ("reply.help",)), session
        if command == "forget":
            return _say(language, "forget", ("reply.forget",)), session
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
        # The safety line travels alone, ahead of the menu, so it fits one SMS in every language.
        return _say(language, "not_understood", ("reply.not_understood",), (MAIN_MENU,)), session

    def _twilio_answered(self, opt_out_type: str, session: Session) -> tuple[Reply, Session]:
        """Twilio has confirmed an opt-out, opt-in or help word itself: record it, say nothing,
        even over the flood limit (the patient must get exactly one confirmation)."""
        language: Language = session.language or self.default_language
        kind = opt_out_type.upper()
        if kind in ("STOP", "START"):
            session = replace(session, opted_out=kind == "STOP")
        return Reply(language, (), f"twilio_{kind.lower()}"), session

    def _flooded(self, match: Match | None, session: Session, recent: int) -> tuple[Reply, Session]:
        """Too many messages too fast (often another auto-responder): one notice, then silence.

        Opt-outs and opt-ins still count, silently: they are the sender's right, not content.
        """
        language: Language = session.language or self.default_language
        command = match.name if match and match.kind == "command" else ""
        if command in ("stop", "start"):
            session = replace(session, opted_out=command == "stop")
        if recent == self.flood_limit + 1 and not session.opted_out:
            return _say(language, "flood", ("reply.flood",)), session
        return Reply(language, (), "flood"), session

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
            session, topic=topic.id if has_more else None, page=page + 1 if has_more else 0
        )
        return _say(language, f"topic:{topic.id}", page_parts(topic, page)), session


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
    for menu in structure.menus.values():
        yield f"menu {menu.id}", (MENU_PREFIX + menu.id,)
    for topic in structure.topics.values():
        for page in range(len(topic.pages)):
            yield topic.pages[page], page_parts(topic, page)


def _say(language: Language, intent: str, *messages: tuple[Part, ...]) -> Reply:
    return Reply(language, tuple(messages), intent)
