"""Understanding free text: safety concepts, menus, drugs, language, and the measured floors."""

from __future__ import annotations

import pytest

from bot.app import build_bot
from bot.catalog.files import Source, read_yaml
from bot.config import PROJECT_ROOT, load_settings
from bot.models import Inbound, Session
from bot.router import ALARM_GAP
from bot.understanding import evaluate as ev
from bot.understanding.reading import Examples

DATA = PROJECT_ROOT / "tests/data/understanding"
NEW = Session()  # known to the store, language not chosen yet


@pytest.fixture(scope="module")
def router():  # type: ignore[no-untyped-def]
    return build_bot(load_settings(redis_url="")).conversation.router


def route(router, text: str, session: Session | None = NEW, recent: int = 1, now: int = 10_000):  # type: ignore[no-untyped-def]
    return router.route(Inbound("s", "SM1", text), session, now=now, recent=recent)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        pytest.param("me duele mucho el pecho", "emergency", id="es-chest-words-between"),
        pytest.param("chest hurts bad", "emergency", id="en-chest"),
        pytest.param("i feel like killing myself", "emergency", id="en-suicide-inflected"),
        pytest.param("ya no quiero vivir", "emergency", id="es-negated-want-to-live"),
        pytest.param("no me entra el aire", "emergency", id="es-air"),
        pytest.param("i cnt breath", "emergency", id="sms-spelling"),
        pytest.param("chesst pian", "emergency", id="typos"),
        pytest.param("calentura", "urgent", id="es-fever-word"),
        pytest.param("popo con sangre", "urgent", id="es-blood-stool"),
        pytest.param("fever after car t", "urgent", id="symptom-beats-topic-word"),
        pytest.param("i have a rash after my infusion", "urgent", id="rash-beats-infusion"),
        pytest.param("the diarrhea won't stop", "urgent", id="stop-inside-a-report"),
        pytest.param("i have a fever, is that normal?", "urgent", id="question-with-report"),
        pytest.param("what side effects can happen", "topic:side_effects", id="general-question"),
        pytest.param("can it cause diarrhea?", "topic:side_effects", id="what-if-question"),
        pytest.param("how is the infusion given", "topic:given", id="infusion-not-confusion"),
        pytest.param("his arms and legs are jerking", "emergency", id="seizure-told-as-jerking"),
        pytest.param("de pronto no sabe donde esta", "emergency", id="es-sudden-confusion"),
        pytest.param("my sister says she wants to kill herself", "emergency", id="someone-elses"),
        pytest.param("im going to take all my pills", "emergency", id="overdose-said-ahead"),
        pytest.param("my grandson swallowed two of my capsules", "emergency", id="child-capsules"),
        pytest.param("they said to call if i get a fever, it started", "urgent", id="then-it-came"),
        pytest.param("what if i get a rash? ya me salio", "urgent", id="es-then-it-came"),
        pytest.param("mucus in his stool since monday", "urgent", id="mucus-in-stool"),
        pytest.param("i get winded walking now", "urgent", id="winded"),
        pytest.param(
            "i suddenly got confused about which day it is", "urgent", id="confused-about-not-911"
        ),
        pytest.param("my chest is killing me", "emergency", id="killing-me-literal"),
        pytest.param("i want to sleep and never wake up", "emergency", id="never-wake-up"),
        pytest.param("quisiera dormir y no despertar", "emergency", id="es-no-despertar"),
        pytest.param("my dog knocked me over and i passed out", "emergency", id="pet-emergency"),
        pytest.param("no me contesta nada", "emergency", id="negation-of-the-concept"),
        pytest.param("can u tell me if its bad that my belly hurts", "urgent", id="if-as-whether"),
    ],
)
def test_safety_first(router, text: str, intent: str) -> None:  # type: ignore[no-untyped-def]
    reply, _ = route(router, text)
    assert reply.intent == intent


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("im dying to know my scan results", id="idiom-dying-to"),
        pytest.param("my phone died, can u resend", id="idiom-phone-died"),
        pytest.param("my dog has had diarrhea all day", id="pet-symptom"),
        pytest.param("i have no trouble breathing at all", id="negated-listed"),
        pytest.param("what if my belly hurts after the infusion", id="what-if"),
        pytest.param("este copago me esta matando", id="es-idiom-killing-me"),
    ],
)
def test_not_an_alarm(router, text: str) -> None:  # type: ignore[no-untyped-def]
    """Figures of speech, a pet's symptom, a negation, a "what if": no 911, no care-team line."""
    reply, _ = route(router, text)
    assert reply.intent not in ("emergency", "urgent")


def test_no_fever_is_not_an_alarm(router) -> None:  # type: ignore[no-untyped-def]
    reply, _ = route(router, "no fever, just a question about side effects")
    assert reply.intent not in ("emergency", "urgent")


def test_stop_alone_still_opts_out(router) -> None:  # type: ignore[no-untyped-def]
    reply, session = route(router, "STOP")
    assert reply.intent == "stop" and session.opted_out


def test_emergency_answered_in_a_flood_once_per_gap(router) -> None:  # type: ignore[no-untyped-def]
    flooded = router.flood_limit + 5
    reply, session = route(router, "chest pain", Session(language="en"), recent=flooded)
    assert reply.intent == "emergency" and session.alarmed == 10_000
    again, _ = route(router, "chest pain", session, recent=flooded + 1, now=10_060)
    assert again.messages == ()  # silence: the pause holds
    later, _ = route(router, "chest pain", session, recent=flooded + 2, now=10_000 + ALARM_GAP)
    assert later.intent == "emergency"


def test_not_understood_starts_with_the_safety_sms(router) -> None:  # type: ignore[no-untyped-def]
    reply, _ = route(router, "asdkjh qwpoe", Session(language="en"))
    assert reply.messages[0] == ("reply.safety",) and reply.messages[-1] == ("menu:main",)


MAIN_ITEMS = Source.load(PROJECT_ROOT / "messages").structure.menus["main"].items


@pytest.mark.parametrize(
    ("text", "position"),
    [
        pytest.param("two", 2, id="number-word"),
        pytest.param("la segunda", 2, id="ordinal-es"),
        pytest.param("number 5 please", 5, id="filler-words"),
        pytest.param("opción cinco", 5, id="opcion-cinco"),
        pytest.param("1O", 10, id="letter-o-for-zero"),
    ],
)
def test_menus_as_people_answer(router, text: str, position: int) -> None:  # type: ignore[no-untyped-def]
    reply, _ = route(router, text, Session(language="en", menu="main"))
    assert reply.intent == f"topic:{MAIN_ITEMS[position - 1]}"


def test_drug_name_gets_its_class_then_topic(router) -> None:  # type: ignore[no-untyped-def]
    reply, _ = route(router, "my mom is on keytrooda")
    assert reply.intent == "drug:checkpoint"
    assert reply.messages[0] == ("drug:checkpoint:Keytruda (pembrolizumab)",)


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        pytest.param("is it safe to breastfeed on opdivo", "pregnancy", id="breastfeed"),
        pytest.param("is it safe to drink on keytruda", "daily_life", id="alcohol"),
        pytest.param("can i get pregnant on keytruda", "pregnancy", id="pregnant"),
        # asking how it works or what it is: the drug's own class page answers
        pytest.param("my uncle gets opdivo, how does that work", "checkpoint", id="how-it-works"),
        pytest.param("le van a dar keytruda, como funciona", "checkpoint", id="es-how-it-works"),
    ],
)
def test_a_question_about_a_drug_opens_the_topic_asked(router, text: str, topic: str) -> None:  # type: ignore[no-untyped-def]
    """The drug line first, then what was asked, not the drug's class page."""
    reply, _ = route(router, text)
    assert reply.intent == f"drug:{topic}"
    assert reply.messages[0][0].startswith("drug:checkpoint:")


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        pytest.param("my dad is on kitruda", "Keytruda (pembrolizumab)", id="by-ear-en"),
        pytest.param("mi esposo esta con opdibo", "Opdivo (nivolumab)", id="by-ear-es"),
    ],
)
def test_a_drug_name_written_as_heard(router, text: str, shown: str) -> None:  # type: ignore[no-untyped-def]
    """Too far from the name for the typo rule; drugs.yaml's `written_as` knows it."""
    reply, _ = route(router, text)
    assert reply.intent == "drug:checkpoint"
    assert reply.messages[0] == (f"drug:checkpoint:{shown}",)


@pytest.mark.parametrize(
    "text",
    ["thank you so much, god bless you", "muchas gracias, dios le bendiga", "ok, thanks again"],
)
def test_thanks_made_of_several_courtesies_are_a_courtesy(router, text: str) -> None:  # type: ignore[no-untyped-def]
    reply, _ = route(router, text, Session(language="en"))
    assert reply.intent == "courtesy"


def test_spanish_with_a_cognate_is_spanish(router) -> None:  # type: ignore[no-untyped-def]
    reply, _ = route(router, "cáncer de pulmón", None)
    assert reply.language == "es"
    assert reply.messages[0] == ("reply.welcome_short", "offer.language")


def test_did_you_mean_choice_is_picked_by_number(router) -> None:  # type: ignore[no-untyped-def]
    session = Session(language="en", menu="?side_effects,managing")
    reply, _ = route(router, "2", session)
    assert reply.intent == "topic:managing"


def test_a_short_message_reads_as_it_would_afresh_in_each_menu_and_catalog(router) -> None:  # type: ignore[no-untyped-def]
    """Readings of one- and two-word messages are kept; the menu answered and the catalog
    published are part of what a reading depends on, so neither may be taken from another."""
    understanding = router.understanding
    menus = [(), *(menu.items for menu in router.structure.menus.values())]
    keywords = read_yaml(PROJECT_ROOT / "messages/keywords.yaml")
    topics = {*router.structure.topics, *understanding.examples.topics}  # as the bot ranks
    seen = {(menu, understanding.read("vaccines", menu).topics) for menu in menus}
    assert len({topics for _, topics in seen}) > 1  # the menu decides: a real check
    afresh = understanding.with_topics(keywords, topics)
    for menu in reversed(menus):
        assert afresh.read("vaccines", menu) == understanding.read("vaccines", menu)
    examples = {**understanding.examples.topics, "wigs": {"en": ["wig shop"], "es": []}}
    published = understanding.with_topics(keywords, {*topics, "wigs"}, Examples(examples))
    assert understanding.read("wig shop").topic is None
    assert published.read("wig shop").topic == "wigs"


# dev: the phrasings the concepts and examples were first written from; holdout, fresh and
# blind: written apart from them (their first figures are in each file's header).
SETS = [
    "dev.yaml",
    "holdout.yaml",
    "fresh.yaml",
    "blind.yaml",
    "blind2.yaml",
    "blind3.yaml",
    "fresh2.yaml",
]


@pytest.mark.parametrize("name", SETS)
def test_safety_floors(router, name: str) -> None:  # type: ignore[no-untyped-def]
    items, recall_only = ev.load_set(DATA / name)
    ev.resolve_menu_items(router, items)
    tally = ev.evaluate(router, items)
    assert tally.rate("emergency_recall") == 1.0
    assert tally.rate("urgent_recall") == 1.0
    if not recall_only:
        assert (tally.rate("false_alarm") or 0) < ev.MAX_FALSE_ALARMS


@pytest.mark.parametrize("name", SETS)
def test_top1_floor(router, name: str) -> None:  # type: ignore[no-untyped-def]
    items, recall_only = ev.load_set(DATA / name)
    ev.resolve_menu_items(router, items)
    assert ev.below_floors(ev.evaluate(router, items), recall_only) == []


def test_the_sets_are_as_large_as_promised() -> None:
    """At least 500 labelled messages, both languages, every outcome."""
    items = [item for name in SETS for item in ev.load_items(DATA / name)]
    assert len(items) >= 500
    assert {item["lang"] for item in items} == {"en", "es"}
    expected = {"emergency", "urgent", "topic", "menu_item", "courtesy", "none"}
    assert expected <= {item["expect"] for item in items}
