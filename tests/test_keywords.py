"""The matcher alone: a table of what patients type and what it means."""

from __future__ import annotations

import pytest

from bot.config import PROJECT_ROOT
from bot.keywords import Keywords, Match, allowed_typos, normalize
from bot.models import Language

KEYWORDS = Keywords.load(PROJECT_ROOT / "messages" / "keywords.yaml")


def topic(name: str, language: Language | None = None) -> Match:
    return Match("topic", name, language=language)


def command(name: str, language: Language | None = None) -> Match:
    return Match("command", name, language=language)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("TYPES", topic("types", "en"), id="types"),
        pytest.param("Types.", topic("types", "en"), id="types-dot"),
        pytest.param("TÍPOS", topic("types", "es"), id="tipos-accent"),
        pytest.param("SIDE-EFFECTS", topic("side_effects", "en"), id="hyphen"),
        pytest.param("side   effects!!", topic("side_effects", "en"), id="spaces"),
        pytest.param("side efects", topic("side_effects", "en"), id="typo-side-efects"),
        pytest.param("sied effects", topic("side_effects", "en"), id="typo-transposed"),
        pytest.param("tyeps", topic("types", "en"), id="typo-tyeps"),
        pytest.param("lamar", topic("call", "es"), id="typo-lamar"),
        pytest.param("efectos secundaios", topic("side_effects", "es"), id="typo-es-phrase"),
        pytest.param("What are the side effects?", topic("side_effects", "en"), id="sentence-en"),
        pytest.param("cuándo llamar al médico", topic("call", "es"), id="sentence-es"),
        pytest.param("quiero hablar con alguien", command("nurse", "es"), id="sentence-es-nurse"),
        pytest.param("can I talk to a nurse", command("nurse", "en"), id="sentence-nurse"),
        pytest.param("is immunotherapy a cure?", topic("cure", "en"), id="common-word-ignored"),
        pytest.param("immunotherapy", topic("what", "en"), id="common-word-alone"),
        pytest.param("how does immunotherapy work", topic("how", "en"), id="longest-phrase-wins"),
        pytest.param(
            "tell me more about side effects", topic("side_effects", "en"), id="topic-beats-more"
        ),
        pytest.param("tell me more", command("more", "en"), id="more-in-sentence"),
        pytest.param("MÁS", command("more", "es"), id="mas"),
        pytest.param("menu", command("menu"), id="menu-shared"),
        pytest.param("MENÚ", command("menu"), id="menu-accent"),
        pytest.param("HELP", command("help", "en"), id="help"),
        pytest.param("info", command("help"), id="info-shared"),
        pytest.param("AYUDA", command("help", "es"), id="ayuda"),
        pytest.param("ESPAÑOL", command("spanish", "es"), id="espanol"),
        pytest.param("espanol", command("spanish", "es"), id="espanol-plain"),
        pytest.param("do you speak spanish?", command("spanish", "en"), id="spanish-in-sentence"),
        pytest.param("STOP", command("stop", "en"), id="stop"),
        pytest.param("Stop.", command("stop", "en"), id="stop-dot"),
        pytest.param("ALTO", command("stop", "es"), id="alto"),
        pytest.param("START", command("start", "en"), id="start"),
        pytest.param("yes", command("start", "en"), id="yes-is-a-word-not-a-boolean"),
        pytest.param("2", Match("number", number=2), id="number"),
        pytest.param("#2", Match("number", number=2), id="hash-number"),
        pytest.param("opción 2", Match("number", number=2), id="opcion"),
        pytest.param("option 10", Match("number", number=10), id="option"),
        pytest.param("chest pain", Match("emergency", language="en"), id="emergency-en"),
        pytest.param("I cant breath", Match("emergency", language="en"), id="emergency-typo"),
        pytest.param("tengo dolor de pecho", Match("emergency", language="es"), id="emergency-es"),
        pytest.param(
            "side effects and chest pain", Match("emergency", language="en"), id="emergency-first"
        ),
        pytest.param("", None, id="empty"),
        pytest.param("😀", None, id="emoji"),
        pytest.param("asdfgh", None, id="junk"),
        pytest.param("stpo", None, id="opt-out-words-need-exact-spelling"),
        pytest.param("and", None, id="short-words-no-typos"),
        pytest.param("care", None, id="care-is-not-cure"),
    ],
)
def test_match(text: str, expected: Match | None) -> None:
    assert KEYWORDS.match(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Hola, necesito información", "es"), ("Hi, I have a question", "en"), ("ok", None)],
)
def test_language_hint(text: str, expected: str | None) -> None:
    assert KEYWORDS.language_hint(text) == expected


def test_normalize() -> None:
    assert normalize("  ¿Qué  ES?  ") == "que es"
    assert normalize("can't") == "cant"
    assert normalize("SIDE-EFFECTS") == "side effects"
    # Beyond ASCII: fullwidth "Test" and the fi ligature, a curly apostrophe, capital accents
    assert normalize("\uff34\uff45\uff53\uff54 \ufb01") == "test fi"
    assert normalize("don\u2019t STOP") == "dont stop"
    assert normalize("ÑANDÚ_Ü") == "nandu u"


def test_typo_allowance_grows_with_length() -> None:
    assert [allowed_typos(n) for n in (2, 3, 4, 7, 8, 20)] == [0, 0, 1, 1, 2, 2]


def test_no_two_topics_are_one_typo_apart() -> None:
    """Every alias, with its last letter dropped, still means the same thing or nothing."""
    for alias in [a for a in KEYWORDS._aliases if len(a) >= 5]:
        original = KEYWORDS.match(alias)
        typo = KEYWORDS.match(alias[:-1])
        if typo is not None and typo.kind in ("topic", "command") and original is not None:
            assert (typo.kind, typo.name) == (original.kind, original.name) or (
                alias[:-1] in KEYWORDS._aliases
            ), alias


def test_long_junk_is_cheap_and_safe() -> None:
    text = " ".join(["word"] * 400)
    assert KEYWORDS.match(text) is None
    assert KEYWORDS.match(text + " chest pain") == Match("emergency", language="en")


def _column_words(cell: str) -> list[str]:
    words = (w.strip() for w in cell.split(","))
    return [w for w in words if w and w != "..." and '"' not in w]


def _readme_topic_rows() -> list[tuple[str, list[str], list[str]]]:
    """(row title, English words, Spanish words) for each row of the README's keyword table."""
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    table = text.split("| Topic or command | English | Spanish |", 1)[1].split("\n\n", 1)[0]
    rows = []
    for line in table.splitlines()[2:]:
        title, english, spanish = (cell.strip() for cell in line.strip("|").split("|"))
        rows.append((title, _column_words(english), _column_words(spanish)))
    return rows


def test_readme_lists_every_topic_and_its_words_work() -> None:
    """The README's table is what patients are told: every topic is there, every word works."""
    from bot.catalog.files import Source

    topics = set(Source.load(PROJECT_ROOT / "messages").structure.topics)
    named: set[str] = set()
    for title, english, spanish in _readme_topic_rows():
        if title.startswith(("Emergency", "Stop", "Start", "Delete", "Language", "Help")):
            continue
        if title.startswith(("Main menu", "Read on")):
            continue
        words = english + spanish
        found = {KEYWORDS.match(word) for word in words}
        assert None not in found, (title, words)
        kinds = {(m.kind, m.name) for m in found if m is not None}
        callback = {"Ask for a nurse": "nurse", "Take the call request back": "nocall"}
        command = next((name for start, name in callback.items() if title.startswith(start)), "")
        if command:  # the callback queue's commands
            assert kinds == {("command", command)}, (title, kinds)
            continue
        assert len(kinds) == 1 and next(iter(kinds))[0] == "topic", (title, kinds)
        named.add(next(iter(kinds))[1])
    assert topics - named == set()


@pytest.mark.parametrize("language", ["en", "es"])
def test_readme_words_are_answered_in_the_column_they_are_listed_in(language: str) -> None:
    """A word in the Spanish column, texted first, must not open the English page."""
    for title, english, spanish in _readme_topic_rows():
        for word in english if language == "en" else spanish:
            match = KEYWORDS.match(word)
            if match is not None and match.kind == "topic":
                assert match.language in (language, None), (title, word, match.language)
