"""What a patient sees: signed webhooks in, TwiML out, state in Redis."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
import redis

from bot.app import build_bot
from bot.catalog.files import Source, load_data
from bot.config import PROJECT_ROOT
from bot.models import Inbound, Language, Session
from bot.store import CommitResult, Limits, State
from bot.store.keys import Keys
from bot.store.memory import MemoryStore
from tests.helpers.phone import MAIN, Phone, expect
from tests.helpers.settings import make_settings
from tests.helpers.store import key_of, session_of, stored_count

TYPES = ("menu:types",)
SAFETY = ("reply.safety",)  # "not understood" starts with its own SMS: 911, then the care team
NOT_UNDERSTOOD = [SAFETY, MAIN]
WELCOME = ("reply.welcome",)  # then the other language on its own
SHORT_WELCOME = ("reply.welcome_short", "offer.language")  # a first message answered with a topic
# Menu numbers and page order come from the menu tree, so moving a topic does not break a test.
STRUCTURE = Source.load(PROJECT_ROOT / "messages").structure


def number(topic: str, menu: str = "main") -> str:
    """What a patient texts to open `topic` from `menu`."""
    return str(STRUCTURE.menus[menu].items.index(topic) + 1)


def page(topic: str, position: int) -> tuple[str, ...]:
    """Page `position` (from 1) of a topic as sent: every page but the last says MORE."""
    pages = STRUCTURE.topics[topic].pages
    snippet = pages[position - 1]
    return (snippet,) if position == len(pages) else (snippet, "hint.more")


def read_to_the_end(topic: str, keyword: str) -> list[tuple[str, str, list[tuple[str, ...]]]]:
    """Open a topic by keyword, then MORE through every page, then MORE once too many."""
    steps = [(keyword, "en", [SHORT_WELCOME, page(topic, 1)])]  # a first message: welcomed
    for position in range(2, len(STRUCTURE.topics[topic].pages) + 1):
        steps.append(("MORE", "en", [page(topic, position)]))
    return [*steps, ("more", "en", [MAIN])]


# Each row: a conversation from a new number, as (text sent, language of the answer, SMS expected).
CONVERSATIONS = [
    pytest.param(
        [("SIDE EFFECTS", "en", [SHORT_WELCOME, page("side_effects", 1)])], id="en-keyword"
    ),
    pytest.param(
        [("quiero hablar con alguien", "es", [SHORT_WELCOME, ("reply.callback.off",)])],
        id="es-nurse-callbacks-off",
    ),
    pytest.param(
        [("side-effects", "en", [SHORT_WELCOME, page("side_effects", 1)])], id="en-punctuation"
    ),
    pytest.param([("  Types.  ", "en", [SHORT_WELCOME, TYPES])], id="en-spaces-and-dot"),
    pytest.param([("side efects", "en", [SHORT_WELCOME, page("side_effects", 1)])], id="en-typo"),
    pytest.param([("tyeps", "en", [SHORT_WELCOME, TYPES])], id="en-transposition"),
    pytest.param(
        [("what are the side effects?", "en", [SHORT_WELCOME, page("side_effects", 1)])],
        id="en-in-sentence",
    ),
    pytest.param(
        [("is immunotherapy a cure?", "en", [SHORT_WELCOME, page("cure", 1)])], id="en-common-word"
    ),
    pytest.param([("CALL", "en", [SHORT_WELCOME, page("call", 1)])], id="en-call"),
    pytest.param([("TÍPOS", "es", [SHORT_WELCOME, TYPES])], id="es-accent"),
    pytest.param([("tipos", "es", [SHORT_WELCOME, TYPES])], id="es-keyword"),
    pytest.param(
        [("efectos secundarios", "es", [SHORT_WELCOME, page("side_effects", 1)])], id="es-two-words"
    ),
    pytest.param([("EFECTOS", "es", [SHORT_WELCOME, page("side_effects", 1)])], id="es-efectos"),
    pytest.param([("lamar", "es", [SHORT_WELCOME, page("call", 1)])], id="es-typo"),
    pytest.param(
        [("cuándo llamar al médico", "es", [SHORT_WELCOME, page("call", 1)])], id="es-in-sentence"
    ),
    pytest.param(
        [
            ("MENU", "en", [WELCOME, ("offer.language",), MAIN]),
            (number("how"), "en", [page("how", 1)]),
        ],
        id="number-after-menu",
    ),
    pytest.param(
        [
            ("menu", "en", [WELCOME, ("offer.language",), MAIN]),
            (f"#{number('types')}", "en", [TYPES]),
            (f"opción {number('cell_therapy', 'types')}", "en", [page("cell_therapy", 1)]),
        ],
        id="number-variants-and-submenu",
    ),
    pytest.param(
        [("menu", "en", [WELCOME, ("offer.language",), MAIN]), ("42", "en", [MAIN])],
        id="number-out-of-range",
    ),
    pytest.param(read_to_the_end("cure", "CURE"), id="more-to-the-end"),
    pytest.param(
        [
            ("EFECTOS", "es", [SHORT_WELCOME, page("side_effects", 1)]),
            ("más", "es", [page("side_effects", 2)]),
        ],
        id="mas-continues",
    ),
    pytest.param([("7", "en", [SHORT_WELCOME, MAIN])], id="number-without-menu"),
    pytest.param(
        [
            ("ESPAÑOL", "es", [("reply.language",), MAIN]),
            ("TYPES", "es", [TYPES]),
            ("HELP", "es", [("reply.help",)]),
        ],
        id="spanish-then-english-keywords-keep-spanish",
    ),
    pytest.param(
        [
            ("tipos", "es", [SHORT_WELCOME, TYPES]),
            ("english", "en", [("reply.language",), MAIN]),
            ("AYUDA", "es", [("reply.help",)]),
        ],
        id="english-then-spanish-only-word-switches",
    ),
    pytest.param([("spanish", "es", [("reply.language",), MAIN])], id="spanish-in-english"),
    pytest.param([("ingles", "en", [("reply.language",), MAIN])], id="ingles-without-accent"),
    pytest.param([("hola", "es", [WELCOME, ("offer.language",), MAIN])], id="greeting-es"),
    pytest.param(
        [("I have chest pain and side effects", "en", [("reply.emergency",), SHORT_WELCOME])],
        id="emergency-en-first",
    ),
    pytest.param(
        [("no puedo respirar", "es", [("reply.emergency",), SHORT_WELCOME])], id="emergency-es"
    ),
    pytest.param(
        [("EMERGENCIA", "es", [("reply.emergency",), SHORT_WELCOME])], id="emergency-word-es"
    ),
    pytest.param(
        [("asdfgh", "en", [SAFETY, WELCOME, ("offer.language",), MAIN])], id="junk-first-contact"
    ),
    pytest.param(
        [("menu", "en", [WELCOME, ("offer.language",), MAIN]), ("asdfgh", "en", NOT_UNDERSTOOD)],
        id="junk-later",
    ),
    pytest.param(
        [("tipos", "es", [SHORT_WELCOME, TYPES]), ("😀😀", "es", [("reply.courtesy",)])],
        id="emoji-in-spanish",
    ),
    pytest.param(
        [("menu", "en", [WELCOME, ("offer.language",), MAIN]), ("", "en", NOT_UNDERSTOOD)],
        id="empty",
    ),
    pytest.param(
        [("menu", "en", [WELCOME, ("offer.language",), MAIN]), ("x" * 1600, "en", NOT_UNDERSTOOD)],
        id="1600-junk",
    ),
    pytest.param(
        [("HELP", "en", [("reply.help",)]), ("INFO", "en", [("reply.help",)])], id="help-info"
    ),
]


@pytest.mark.parametrize("steps", CONVERSATIONS)
def test_conversation(new_phone: Callable[..., Phone], steps: Any) -> None:
    phone = new_phone()
    for body, language, messages in steps:
        assert phone.text(body) == expect(phone, language, *messages), body


def test_first_contact_from_spanish_speaking_country_is_spanish(
    new_phone: Callable[..., Phone],
) -> None:
    phone = new_phone(country="MX")
    assert phone.text("menu") == expect(phone, "es", WELCOME, ("offer.language",), MAIN)


def test_default_language_spanish(redis_url: str, prefix: str) -> None:
    from fastapi.testclient import TestClient

    from bot.webhook.asgi import create_app
    from tests.helpers.settings import make_settings

    settings = make_settings(redis_url=redis_url, redis_key_prefix=prefix, default_language="es")
    with TestClient(create_app(settings)) as client:
        phone = Phone(client, "+15559990000")
        assert phone.text("123") == expect(phone, "es", SHORT_WELCOME, MAIN)


def test_media_only_message_gets_menu(new_phone: Callable[..., Phone]) -> None:
    phone = new_phone()
    phone.text("menu")
    response = phone.post(phone.form("", NumMedia="1", MediaUrl0="https://example.org/x.jpg"))
    from tests.helpers.phone import replies

    assert replies(response.text) == expect(phone, "en", *NOT_UNDERSTOOD)


def test_language_choice_is_saved_in_redis(
    new_phone: Callable[..., Phone], rdb: redis.Redis, prefix: str
) -> None:
    phone = new_phone()
    phone.text("ESPAÑOL")
    assert stored_count(rdb, prefix, "session") == 1
    saved = session_of(rdb, prefix, phone.number)
    assert saved is not None and saved.language == "es"
    assert rdb.ttl(key_of(prefix, phone.number, "session")) > 29 * 86400  # expires in 30 days


def test_whatsapp_sender_is_the_same_person(new_phone: Callable[..., Phone]) -> None:
    phone = new_phone("+15551112222")
    phone.text("ESPAÑOL")
    whatsapp = new_phone("whatsapp:+15551112222")
    assert whatsapp.text("TYPES") == expect(whatsapp, "es", TYPES)


class TestOptOut:
    def test_stop_confirms_once_then_silence(
        self, new_phone: Callable[..., Phone], rdb: redis.Redis, prefix: str
    ) -> None:
        phone = new_phone()
        phone.text("menu")
        assert phone.text("STOP") == expect(phone, "en", ("reply.stop",))
        assert phone.text("TYPES") == []
        assert phone.text("STOP") == []
        assert phone.text("chest pain") == []
        assert stored_count(rdb, prefix, "opt_out") == 1
        assert rdb.ttl(key_of(prefix, phone.number, "opt_out")) == -1  # never expires

    @pytest.mark.parametrize(
        "word", ["STOP", "stopall", "Unsubscribe", "CANCEL", "end", "QUIT", "revoke", "OPTOUT"]
    )
    def test_twilio_words(self, new_phone: Callable[..., Phone], word: str) -> None:
        phone = new_phone()
        assert phone.text(word) == expect(phone, "en", ("reply.stop",))
        assert phone.text("menu") == []

    @pytest.mark.parametrize("word", ["ALTO", "parar", "Cancelar", "BAJA"])
    def test_spanish_words_confirm_in_spanish(
        self, new_phone: Callable[..., Phone], word: str
    ) -> None:
        phone = new_phone()
        assert phone.text(word) == expect(phone, "es", ("reply.stop",))

    def test_help_still_answered_after_opt_out(self, new_phone: Callable[..., Phone]) -> None:
        phone = new_phone()
        phone.text("ALTO")
        assert phone.text("AYUDA") == expect(phone, "es", ("reply.help",))

    @pytest.mark.parametrize("word", ["START", "yes", "UNSTOP", "INICIO", "comenzar"])
    def test_opt_in_clears_and_shows_menu(
        self, new_phone: Callable[..., Phone], word: str, rdb: redis.Redis, prefix: str
    ) -> None:
        phone = new_phone()
        phone.text("STOP")
        language: Language = "es" if word.lower() in ("inicio", "comenzar") else "en"
        assert phone.text(word) == expect(phone, language, ("reply.start",), MAIN)
        assert stored_count(rdb, prefix, "opt_out") == 0
        assert phone.text(number("how")) == expect(phone, language, page("how", 1))

    def test_advanced_opt_out_records_and_says_nothing(
        self, new_phone: Callable[..., Phone], rdb: redis.Redis, prefix: str
    ) -> None:
        phone = new_phone()
        assert phone.text("STOP", OptOutType="STOP") == []
        assert stored_count(rdb, prefix, "opt_out") == 1
        assert phone.text("menu") == []
        assert phone.text("START", OptOutType="START") == []
        assert stored_count(rdb, prefix, "opt_out") == 0
        assert phone.text("TYPES") == expect(phone, "en", TYPES)

    def test_stop_inside_a_sentence_is_not_an_opt_out_word(
        self, new_phone: Callable[..., Phone]
    ) -> None:
        phone = new_phone()
        phone.text("menu")
        assert phone.text("when do side effects stop") == expect(
            phone, "en", page("side_effects", 1)
        )


def test_replayed_message_sid_gets_same_answer_and_advances_once(
    new_phone: Callable[..., Phone], rdb: redis.Redis, prefix: str
) -> None:
    phone = new_phone()
    phone.text("CURE")
    form = phone.form("MORE")
    first = phone.post(form)
    retry = phone.post(form)
    assert first.status_code == retry.status_code == 200
    assert first.text == retry.text
    assert first.text.count("<Message>") == 1
    # The retry did not turn a page: the next MORE reads page 3, not page 4.
    assert phone.text("MORE") == expect(phone, "en", page("cure", 3))


class HeldStore(MemoryStore):
    """A MemoryStore whose commits wait to be let through: a message stays in flight."""

    def __init__(self) -> None:
        super().__init__(Keys("held"), Limits(session_ttl=3600, answer_ttl=3600))
        self.committing = asyncio.Event()
        self.let_through = asyncio.Event()

    async def commit(
        self, sender: str, message_id: str, expected: State, after: Session, answer: str
    ) -> CommitResult:
        self.committing.set()
        await self.let_through.wait()
        return await super().commit(sender, message_id, expected, after, answer)


def test_a_publish_while_a_message_is_in_flight_does_not_mix_catalogs() -> None:
    """Routed with one catalog, the message is rendered with the same one; the next message
    gets the published one."""
    settings = make_settings(redis_url="")
    data = load_data(settings.messages_dir, settings.locales_dir)
    spanish = data.translations["es"]
    for key in ("reply.help", "reply.help.no_after_hours_phone"):  # with or without the phone
        english = data.english[key].replace("Msg & data rates may apply.", "Rates may apply.")
        data.english[key] = english
        spanish[key] = replace(spanish[key], source=english)  # the translation is still reviewed

    async def publish_mid_message() -> tuple[tuple[str, ...], tuple[str, ...]]:
        store = HeldStore()
        bot = build_bot(settings, store)
        in_flight = asyncio.create_task(bot.conversation.handle(Inbound("s", "SM1", "HELP")))
        await store.committing.wait()
        await bot.use_catalog(data, 1)
        store.let_through.set()
        first = (await in_flight).texts
        bot.stop_building()
        return first, (await bot.conversation.handle(Inbound("s", "SM2", "HELP"))).texts

    first, second = asyncio.run(publish_mid_message())
    assert "Msg & data rates may apply." in first[0]
    assert "Rates may apply." in second[0] and "Msg & data" not in second[0]
