"""Human titles for every text of the catalog, and a search over both languages."""

from __future__ import annotations

import pytest

from bot.catalog.files import Source, load_data
from bot.config import PROJECT_ROOT
from bot.console.index import Entry, build_index, first_words, search

MESSAGES, LOCALES = PROJECT_ROOT / "messages", PROJECT_ROOT / "locales"


@pytest.fixture(scope="module")
def index() -> list[Entry]:
    structure = Source.load(MESSAGES).structure
    data = load_data(MESSAGES, LOCALES)
    return build_index(structure, data, {"call": ["who do I phone at midnight"]})


def by_key(index: list[Entry], key: str) -> Entry:
    return next(entry for entry in index if entry.key == key)


def test_a_page_shown_in_two_topics_says_both(index: list[Entry]) -> None:
    entry = by_key(index, "topic.side_effects.signs_more")
    # The first place in menu order names it; the other place follows.
    assert entry.title.startswith("When to call, page 3 of 6: \u201cAlso call right away for")
    assert entry.also == ("Side effects, page 4",)
    assert entry.label.endswith("; also in Side effects, page 4")
    assert entry.topic == "call" and entry.topics == ("call", "side_effects")


def test_every_text_has_a_title_and_none_is_an_id(index: list[Entry]) -> None:
    assert len({entry.key for entry in index}) == len(index)
    for entry in index:
        assert entry.title and entry.key not in entry.title


def test_topic_names_and_replies_read_as_words(index: list[Entry]) -> None:
    assert by_key(index, "topic.side_effects.label").title == "Side effects: its name in the menu"
    assert by_key(index, "reply.emergency").title == "Emergency answer (911 first)"
    assert by_key(index, "menu.main.header").title.startswith("Main menu")


def test_a_text_sent_while_a_number_is_unset_is_named_after_the_text_it_replaces(
    index: list[Entry],
) -> None:
    unset = " (while AFTER_HOURS_PHONE is not set)"
    variant = by_key(index, "topic.call.2.no_after_hours_phone")
    assert variant.title == by_key(index, "topic.call.2").title + unset
    assert variant.topic == "call"
    reply = by_key(index, "reply.urgent.no_after_hours_phone").title
    assert reply == "Warning-sign answer (call the care team now)" + unset
    keys = [entry.key for entry in index]
    assert keys.index("topic.call.2.no_after_hours_phone") < keys.index("topic.how.1")


def test_the_order_is_the_menus_order_with_replies_last(index: list[Entry]) -> None:
    keys = [entry.key for entry in index]
    assert keys.index("topic.what.label") < keys.index("topic.what.1") < keys.index("topic.how.1")
    assert keys.index("topic.call.2") < keys.index("reply.help")


@pytest.mark.parametrize(
    ("query", "expected", "understood"),
    [
        pytest.param("fiebre", "topic.side_effects.signs_more", "fiebre", id="a-spanish-word"),
        pytest.param("FEVER", "topic.side_effects.signs_more", "fever", id="english-any-case"),
        pytest.param("signs_more", "topic.side_effects.signs_more", "signs more", id="an-id"),
        pytest.param("PULMON", "topic.cancers.3", "pulmon", id="spanish-accents-folded"),
        pytest.param(
            "side effects page 4",
            "topic.side_effects.signs_more",  # page 4 of Side effects, shown first in When to call
            "side effects page 4",
            id="the-title",
        ),
        pytest.param("988", "reply.emergency", "988", id="a-number-in-a-text"),
    ],
)
def test_find_a_text_by_a_word_in_it(
    index: list[Entry], query: str, expected: str, understood: str
) -> None:
    found, as_read = search(index, query)
    assert expected in [entry.key for entry in found]
    assert as_read == understood


def test_a_typo_finds_the_nearest_word_and_says_so(index: list[Entry]) -> None:
    found, as_read = search(index, "diarea")
    assert as_read == "diarrea" and found


def test_nothing_found_is_an_empty_list(index: list[Entry]) -> None:
    assert search(index, "zzzqqq") == ([], "zzzqqq")


def test_keywords_and_example_questions_find_their_topic(index: list[Entry]) -> None:
    asked, _ = search(index, "phone at midnight")  # an example question only
    assert asked and all("When to call" in entry.label for entry in asked)
    by_keyword, _ = search(index, "efectos secundarios")  # the topic's Spanish keyword
    assert "topic.side_effects.1" in [entry.key for entry in by_keyword]


def test_an_empty_query_lists_everything(index: list[Entry]) -> None:
    assert search(index, "  ")[0] == index


def test_first_words() -> None:
    assert first_words("Also call right away for:\n- fever") == (
        "\u201cAlso call right away for\u2026\u201d"
    )
    assert first_words("one two three four five six seven") == (
        "\u201cone two three four five six\u2026\u201d"
    )
