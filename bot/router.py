"""Decide what to answer. Pure: (message, session) -> (reply, next session). No I/O, no clock.

Every rule a patient can trigger lives here, in the order it is applied, so the whole
conversation design can be read top to bottom and tested with a table.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from bot.catalog.model import MENU_PREFIX, Structure, Topic
from bot.content import CHOICE_PART, DRUG_PART
from bot.keywords import Keywords, Match
from bot.models import (
    ENGLISH,
    SPANISH,
    Inbound,
    Language,
    Part,
    Reply,
    Session,
    drug_intent,
    topic_intent,
    twilio_intent,
)
from bot.understanding.reading import Reading, Understanding

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


ALARM_GAP = 300  # during a flood pause, at most one safety reply per sender in this many seconds
CHOICES_PREFIX = "?"  # a session menu of did-you-mean choices: "?side_effects,managing"
TYPES = "types"  # a drug whose class has no page yet opens the types menu


class Router:
    def __init__(
        self,
        keywords: Keywords,
        structure: Structure,
        default_language: Language,
        flood_limit: int = 30,
        callbacks: bool = False,
        understanding: Understanding | None = None,
    ):
        self.keywords = keywords
        self.structure = structure
        self.default_language = default_language
        self.flood_limit = flood_limit
        self.callbacks = callbacks  # CALLBACKS: a nurse calls back on request
        self.understanding = understanding

    def serving(self, keywords: Keywords, understanding: Understanding | None) -> Router:
        """The same rules over another catalog's words. A router is never changed once built:
        messages still being answered with this one keep it (see ServingCatalog)."""
        return Router(
            keywords,
            self.structure,
            self.default_language,
            self.flood_limit,
            self.callbacks,
            understanding,
        )

    def route(
        self, inbound: Inbound, saved: Session | None, recent: int = 1, now: int = 0
    ) -> tuple[Reply, Session]:
        """`recent`: messages from this sender in the current flood window, this one included;
        `now`: the time (unix seconds), given as data so routing stays pure. It spaces the
        safety replies during a flood pause."""
        session = saved or Session()
        match = self.keywords.match(inbound.body, in_sentence=self.understanding is None)
        exact = match is not None and match.kind in ("command", "number", "topic")
        reading = self.read(inbound.body, session, rank=not exact)
        language = self._language(inbound, match, reading, session)
        session = replace(session, language=language, explicit=_explicit(match, session))
        if inbound.opt_out_type:  # Twilio Advanced Opt-Out has answered already: record only
            return self._twilio_answered(inbound.opt_out_type, session)
        if recent > self.flood_limit:
            return self._flooded(match, reading, session, recent, now)
        return self._answer(inbound, match, reading, session, first_contact=saved is None, now=now)

    def read(self, body: str, session: Session, rank: bool = True) -> Reading | None:
        """What the understanding layer reads in a message; `rank=False` for a message that is
        a keyword, command or number already (safety and language are still read)."""
        if self.understanding is None:
            return None
        return self.understanding.read(body, self._menu_items(session), rank)

    def _menu_items(self, session: Session) -> tuple[str, ...]:
        if session.menu and session.menu.startswith(CHOICES_PREFIX):
            return tuple(session.menu[1:].split(","))
        menu = self.structure.menus.get(session.menu or "")
        return menu.items if menu else ()

    # -- language ----------------------------------------------------------------------------

    def _language(
        self, inbound: Inbound, match: Match | None, reading: Reading | None, session: Session
    ) -> Language:
        if match and match.kind == "command" and match.name in ("english", "spanish"):
            return ENGLISH if match.name == "english" else SPANISH
        guess = reading.language if reading else None
        picks = (match and match.kind == "number") or (reading and reading.number is not None)
        if picks and session.language:
            return session.language  # "opción 2" answers a menu; it does not choose a language
        if session.language:
            switch = guess and guess.strong and guess.language not in (None, session.language)
            if (
                switch
                and guess
                and guess.language
                and not (session.explicit and guess.language == ENGLISH)
            ):
                return guess.language  # clearly written in the other language
            if match and match.language == SPANISH:
                return SPANISH  # a Spanish-only word is a clear choice
            return session.language
        if match and match.language and not (guess and guess.strong):
            return match.language  # a keyword of one language, in a message that says little
        if guess and guess.language:
            return guess.language
        hint = self.keywords.language_hint(inbound.body)
        if hint:
            return hint
        if inbound.from_country.upper() in SPANISH_SPEAKING:
            return SPANISH  # a tie-breaker only: the words come first
        return self.default_language

    # -- the rules, in order -----------------------------------------------------------------

    def _answer(
        self,
        inbound: Inbound,
        match: Match | None,
        reading: Reading | None,
        session: Session,
        first_contact: bool,
        now: int,
    ) -> tuple[Reply, Session]:
        language: Language = session.language or self.default_language
        command = match.name if match and match.kind == "command" else ""

        if session.opted_out:
            return self._opted_out(language, command, session)
        alarm = _alarm(match, reading)
        if alarm:  # "call 911" or "call your care team now" comes before anything else
            safety, session = self._alarm(language, alarm, session, first_contact, now)
            if self.keywords.mentions(NURSE, inbound.body):  # ...and the request still counts
                return self._nurse(language, session, first=safety)
            return safety, session
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
        reading_topic = self.structure.topics.get(session.topic or "")
        if command == "more" and reading_topic and 0 <= session.page < len(reading_topic.pages):
            return self._page(language, session, reading_topic, session.page)
        reply, session = self._understood(language, inbound.body, match, reading, session)
        if reply is None:
            return self._not_understood(language, match, session, first_contact)
        return _welcomed(reply, first_contact), session

    def _understood(
        self,
        language: Language,
        body: str,
        match: Match | None,
        reading: Reading | None,
        session: Session,
    ) -> tuple[Reply | None, Session]:
        """A menu entry, a keyword, a drug name, a topic or a courtesy; None when none fits."""
        if match and match.kind == "number":
            return self._pick(language, session, match.number)
        if reading and reading.number is not None:
            return self._pick(language, session, reading.number)
        if match and match.kind == "topic":
            return self._open(language, session, self.structure.topics[match.name])
        if reading is None:
            return None, session
        if reading.drug:
            return self._drug(language, session, reading)
        if reading.topic:
            return self._topic(language, session, reading.topic)
        if reading.decision == "choose":
            named = self.keywords.in_a_sentence(body)  # a topic's own keyword breaks the tie
            if named and named.kind == "topic" and named.name in reading.topics:
                return self._topic(language, session, named.name)
            return self._choose(language, session, reading.topics)
        if reading.courtesy:
            return _say(language, "courtesy", ("reply.courtesy",)), session
        found = self.keywords.in_a_sentence(body)  # a listed keyword, as a last resort
        if found and found.kind == "topic" and reading.decision == "none":
            return self._open(language, session, self.structure.topics[found.name])
        return None, session

    def _not_understood(
        self, language: Language, match: Match | None, session: Session, first_contact: bool
    ) -> tuple[Reply, Session]:
        command = match.name if match and match.kind == "command" else ""
        session = replace(session, menu=MAIN, topic=None)
        # The safety line travels alone, ahead of the menu, so it fits one SMS in every language;
        # with callbacks on, how to ask for a nurse's call goes with it.
        safety: tuple[Part, ...] = (
            ("reply.safety", NURSE_HINT) if self.callbacks else ("reply.safety",)
        )
        if first_contact and (match is None or command in ("menu", "start")):
            # The full welcome leaves no room for the other language: that goes on its own.
            welcome: tuple[tuple[Part, ...], ...] = (("reply.welcome",), ("offer.language",))
            if match is None:
                return _say(language, "not_understood", safety, *welcome, (MAIN_MENU,)), session
            return _say(language, "welcome", *welcome, (MAIN_MENU,)), session
        if match is not None:  # MENU, START while subscribed, MORE with nothing left
            return _say(language, "menu", (MAIN_MENU,)), session
        return _say(language, "not_understood", safety, (MAIN_MENU,)), session

    # -- a nurse callback --------------------------------------------------------------------

    def _nurse(
        self, language: Language, session: Session, first: Reply | None = None
    ) -> tuple[Reply, Session]:
        """Ask for a nurse to call back. The queue, after the save, confirms when (or that the
        request already stands); an emergency said in the same message is answered first."""
        before = first.messages if first else ()
        intent = first.intent if first else NURSE  # an emergency stays counted as one
        if not self.callbacks:
            return Reply(language, (*before, ("reply.callback.off",)), intent), session
        session = replace(session, callback=True)
        reply = Reply(language, (*before, (CALLBACK_REQUEST,)), intent, callback="request")
        return reply, session

    def _no_call(self, language: Language, session: Session) -> tuple[Reply, Session]:
        """NOCALL: always asks the queue (the flag in the session is only a hint)."""
        if not self.callbacks:
            return _say(language, "nocall", ("reply.callback.off",)), session
        session = replace(session, callback=False)
        return Reply(language, ((CALLBACK_WITHDRAW,),), "nocall", callback="withdraw"), session

    def _opted_out(
        self, language: Language, command: str, session: Session
    ) -> tuple[Reply, Session]:
        if command == "forget":  # honoured, but an opted-out number gets no text
            return _withdrawing(Reply(language, (), "forget"), session)
        if command == "help":
            return _say(language, "help", ("reply.help",)), session
        if command == "start":
            session = replace(session, opted_out=False, menu=MAIN, topic=None)
            return _say(language, "start", ("reply.start",), (MAIN_MENU,)), session
        return Reply(language, (), "opted_out"), session

    def _alarm(
        self, language: Language, level: str, session: Session, first_contact: bool, now: int
    ) -> tuple[Reply, Session]:
        session = replace(session, alarmed=now)
        snippet = "reply.emergency" if level == "emergency" else "reply.urgent"
        messages: list[tuple[Part, ...]] = [(snippet,)]
        if first_contact:
            messages.append(("reply.welcome_short", "offer.language"))
        return Reply(language, tuple(messages), level), session

    def _twilio_answered(self, opt_out_type: str, session: Session) -> tuple[Reply, Session]:
        """Twilio has confirmed an opt-out, opt-in or help word itself: record it, say nothing,
        even over the flood limit (the patient must get exactly one confirmation)."""
        language: Language = session.language or self.default_language
        kind = opt_out_type.upper()
        if kind in ("STOP", "START"):
            session = replace(session, opted_out=kind == "STOP")
        reply = Reply(language, (), twilio_intent(kind))
        return _withdrawing(reply, session) if kind == "STOP" else (reply, session)

    def _flooded(
        self,
        match: Match | None,
        reading: Reading | None,
        session: Session,
        recent: int,
        now: int,
    ) -> tuple[Reply, Session]:
        """Too many messages too fast (often another auto-responder): one notice, then silence.

        Opt-outs and opt-ins still count, silently: they are the sender's right, not content.
        An emergency or urgent symptom is still answered, once per ALARM_GAP, so that two
        auto-responders cannot keep each other going.
        """
        language: Language = session.language or self.default_language
        command = match.name if match and match.kind == "command" else ""
        if command in ("stop", "start"):
            session = replace(session, opted_out=command == "stop")
        alarm = _alarm(match, reading)
        if alarm and not session.opted_out and now - session.alarmed >= ALARM_GAP:
            return self._alarm(language, alarm, session, False, now)
        if recent == self.flood_limit + 1 and not session.opted_out:
            reply = _say(language, "flood", ("reply.flood",))
        else:
            reply = Reply(language, (), "flood")
        return _withdrawing(reply, session) if command == "stop" else (reply, session)

    def _pick(self, language: Language, session: Session, number: int) -> tuple[Reply, Session]:
        items = self._menu_items(session)
        if (
            not items
            or not 1 <= number <= len(items)
            or items[number - 1] not in self.structure.topics
        ):
            session = replace(session, menu=MAIN, topic=None)
            return _say(language, "menu", (MAIN_MENU,)), session
        return self._open(language, session, self.structure.topics[items[number - 1]])

    def _topic(
        self, language: Language, session: Session, topic_id: str
    ) -> tuple[Reply | None, Session]:
        if topic_id == NURSE:  # "can a nurse call me": the callback queue (or how to call)
            return self._nurse(language, session)
        topic = self.structure.topics.get(topic_id)
        if topic is None:
            return None, session
        return self._open(language, session, topic)

    def _drug(
        self, language: Language, session: Session, reading: Reading
    ) -> tuple[Reply, Session]:
        """ "Keytruda (pembrolizumab) is a checkpoint inhibitor." then the class's topic."""
        assert reading.drug is not None
        drug = reading.drug
        wanted = reading.drug_topic or drug.topic
        topics = self.structure.topics
        topic = topics.get(wanted) or topics.get(drug.topic) or topics[TYPES]
        reply, session = self._open(language, session, topic)
        line: tuple[Part, ...] = (f"{DRUG_PART}{drug.drug_class}:{drug.display}",)
        return Reply(reply.language, (line, *reply.messages), drug_intent(wanted)), session

    def _choose(
        self, language: Language, session: Session, topics: tuple[str, ...]
    ) -> tuple[Reply | None, Session]:
        known = tuple(t for t in topics if t in self.structure.topics)
        if len(known) < 2:
            return self._topic(language, session, known[0]) if known else (None, session)
        session = replace(session, menu=CHOICES_PREFIX + ",".join(known), topic=None)
        lines = tuple(
            f"{CHOICE_PART}{n}:{self.structure.topics[t].label}" for n, t in enumerate(known, 1)
        )
        return _say(language, "choose", ("reply.did_you_mean", *lines)), session

    def _open(self, language: Language, session: Session, topic: Topic) -> tuple[Reply, Session]:
        if topic.menu:
            session = replace(session, menu=topic.menu, topic=None, page=0)
            return _say(language, topic_intent(topic.id), (MENU_PREFIX + topic.menu,)), session
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
        return _say(language, topic_intent(topic.id), *messages), session


def _alarm(match: Match | None, reading: Reading | None) -> str:
    """The understanding layer decides (it also reads keywords.yaml's emergency phrases, with
    negation); without it, the listed phrases do."""
    if reading is not None:
        return reading.alarm.level if reading.alarm else ""
    return "emergency" if match and match.kind == "emergency" else ""


def _welcomed(reply: Reply, first_contact: bool) -> Reply:
    """A first message answered with a topic also gets who we are, the costs, HELP and STOP."""
    if not first_contact or not reply.messages:
        return reply
    welcome: tuple[Part, ...] = ("reply.welcome_short", "offer.language")
    return Reply(reply.language, (welcome, *reply.messages), reply.intent)


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
    for key in ("safety", "urgent", "courtesy"):
        yield f"reply.{key}", (f"reply.{key}",)
    yield "reply.safety + nurse", ("reply.safety", NURSE_HINT)
    yield "hint.nurse", (NURSE_HINT,)
    for key in CALLBACK_REPLIES:
        yield f"reply.callback.{key}", (f"reply.callback.{key}",)
    yield "language offer", ("offer.language",)
    yield "short welcome + language offer", ("reply.welcome_short", "offer.language")
    labels = sorted((t.label for t in structure.topics.values()), key=len, reverse=True)
    choices = tuple(f"{CHOICE_PART}{n}:{label}" for n, label in enumerate(labels[:3], 1))
    yield "did you mean", ("reply.did_you_mean", *choices)
    for drug_class in DRUG_CLASSES:
        yield f"drug.class.{drug_class}", (f"{DRUG_PART}{drug_class}:{LONG_DRUG_NAME}",)
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


DRUG_CLASSES = (
    "checkpoint car_t til tcr bispecific vaccine oncolytic_virus bcg cytokine immunomodulator "
    "antibody".split()
)
LONG_DRUG_NAME = "Tecentriq Hybreza (atezolizumab and hyaluronidase)"  # budget for the longest


def _say(language: Language, intent: str, *messages: tuple[Part, ...]) -> Reply:
    return Reply(language, tuple(messages), intent)


def _explicit(match: Match | None, session: Session) -> bool:
    """The sender chose the language (ENGLISH / ESPAÑOL): a guess from a later message's words
    does not switch it back. A Spanish-only word ("hola", "ayuda") picks Spanish too, but is no
    such choice: English speakers say "hola", and their next sentence in English is answered so."""
    if match and match.kind == "command" and match.name in ("english", "spanish"):
        return True
    return session.explicit
