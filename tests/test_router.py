"""The pure router as a table: (saved session, text, country, messages in the window) ->
(rule that answered, language, first SMS, next session). No HTTP, no Redis, no clock."""

from __future__ import annotations

import pytest

from bot.catalog.files import Source
from bot.config import PROJECT_ROOT
from bot.keywords import Keywords
from bot.models import Inbound, Language, Part, Session
from bot.router import Router

STRUCTURE = Source.load(PROJECT_ROOT / "messages").structure
ROUTER = Router(
    Keywords.load(PROJECT_ROOT / "messages" / "keywords.yaml"), STRUCTURE, "en", flood_limit=30
)
MAIN = ("menu:main",)
EN_MAIN = Session(language="en", menu="main")
FIRST_ITEM = STRUCTURE.menus["main"].items[0]
SIDE_EFFECTS = STRUCTURE.topics["side_effects"].pages


def more(topic: str, page: int) -> tuple[Part, ...]:
    pages = STRUCTURE.topics[topic].pages
    return (pages[page],) if page == len(pages) - 1 else (pages[page], "hint.more")


ROWS = [
    # Safety first: an emergency gets 911 whatever else the session says.
    pytest.param(
        None,
        "chest pain",
        "US",
        1,
        "emergency",
        "en",
        ("reply.emergency",),
        Session(language="en"),
        id="emergency-new",
    ),
    pytest.param(
        EN_MAIN,
        "I can't breathe",
        "US",
        1,
        "emergency",
        "en",
        ("reply.emergency",),
        EN_MAIN,
        id="emergency-sentence",
    ),
    # First contact: a welcome and the menu, in the language the text or the country suggests.
    pytest.param(
        None, "menu", "US", 1, "welcome", "en", ("reply.welcome",), EN_MAIN, id="welcome-en"
    ),
    pytest.param(
        None,
        "hola",
        "US",
        1,
        "welcome",
        "es",
        ("reply.welcome",),
        Session(language="es", menu="main"),
        id="welcome-spanish-word",
    ),
    pytest.param(
        None,
        "menu",
        "MX",
        1,
        "welcome",
        "es",
        ("reply.welcome",),
        Session(language="es", menu="main"),
        id="welcome-spanish-country",
    ),
    # Opt-out and back in.
    pytest.param(
        EN_MAIN,
        "STOP",
        "US",
        1,
        "stop",
        "en",
        ("reply.stop",),
        Session(language="en", opted_out=True),
        id="stop",
    ),
    pytest.param(
        Session(language="en", opted_out=True),
        "TYPES",
        "US",
        1,
        "opted_out",
        "en",
        None,
        Session(language="en", opted_out=True),
        id="opted-out-is-silent",
    ),
    pytest.param(
        Session(language="en", opted_out=True),
        "START",
        "US",
        1,
        "start",
        "en",
        ("reply.start",),
        EN_MAIN,
        id="start",
    ),
    # Commands, numbers, topics, MORE.
    pytest.param(
        EN_MAIN,
        "ESPAÑOL",
        "US",
        1,
        "language",
        "es",
        ("reply.language",),
        Session(language="es", menu="main"),
        id="language",
    ),
    pytest.param(EN_MAIN, "HELP", "US", 1, "help", "en", ("reply.help",), EN_MAIN, id="help"),
    pytest.param(
        EN_MAIN,
        "1",
        "US",
        1,
        f"topic:{FIRST_ITEM}",
        "en",
        more(FIRST_ITEM, 0),
        Session(language="en", menu="main", topic=FIRST_ITEM, page=1),
        id="number",
    ),
    pytest.param(
        EN_MAIN,
        "side effects",
        "US",
        1,
        "topic:side_effects",
        "en",
        more("side_effects", 0),
        Session(language="en", menu="main", topic="side_effects", page=1),
        id="topic",
    ),
    pytest.param(
        Session(language="es", topic="side_effects", page=1),
        "MAS",
        "US",
        1,
        "topic:side_effects",
        "es",
        more("side_effects", 1),
        Session(language="es", topic="side_effects", page=2),
        id="more",
    ),
    pytest.param(
        EN_MAIN, "FORGET", "US", 1, "forget", "en", ("reply.forget",), EN_MAIN, id="forget"
    ),
    # Not understood still gets an answer, its safety SMS first; a flood gets one notice, then
    # silence.
    pytest.param(
        EN_MAIN,
        "asdf",
        "US",
        1,
        "not_understood",
        "en",
        ("reply.safety",),
        EN_MAIN,
        id="not-understood",
    ),
    pytest.param(
        Session(language="en"),
        "TYPES",
        "US",
        31,
        "flood",
        "en",
        ("reply.flood",),
        Session(language="en"),
        id="flood-notice",
    ),
    pytest.param(
        Session(language="en"),
        "TYPES",
        "US",
        32,
        "flood",
        "en",
        None,
        Session(language="en"),
        id="flood-silence",
    ),
]


@pytest.mark.parametrize(
    ("saved", "body", "country", "recent", "intent", "language", "first", "after"), ROWS
)
def test_route(
    saved: Session | None,
    body: str,
    country: str,
    recent: int,
    intent: str,
    language: Language,
    first: tuple[Part, ...] | None,
    after: Session,
) -> None:
    reply, session = ROUTER.route(Inbound("s", "SM1", body, from_country=country), saved, recent)
    assert (reply.intent, reply.language) == (intent, language)
    assert (reply.messages[0] if reply.messages else None) == first
    checked = ("language", "menu", "topic", "page", "opted_out")
    assert {f: getattr(session, f) for f in checked} == {f: getattr(after, f) for f in checked}
