"""Every text of the catalog with a name a nurse recognises, and a search over all of it.

A snippet ID such as `topic.side_effects.signs_more` is for the program. Staff look for "the
fever line in side effects": so each text gets a human title made from the catalog itself
(the topic's name in the menu, the page number, the first words of the page) and the other
places it appears, and the search looks at both languages, the ID, the title, the topic's
keywords and any example questions, forgiving accents, case and small typos.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from bot.catalog.model import OPTIONAL_PLACEHOLDERS, CatalogData, Structure, without
from bot.keywords import normalize
from bot.models import SPANISH
from bot.router import page_parts, reply_shapes

# The replies the bot sends on its own, by what makes it send them.
REPLY_NAMES = {
    "reply.welcome": "Welcome, for someone new",
    "reply.help": "Answer to HELP",
    "reply.stop": "Answer to STOP (opted out)",
    "reply.start": "Answer to START (opted back in)",
    "reply.forget": "Answer to FORGET (choices deleted)",
    "reply.flood": "Pause after too many messages",
    "reply.language": "Language changed",
    "reply.emergency": "Emergency answer (911 first)",
    "hint.more": "Hint under a page: how to read on",
    "reply.welcome_short": "Short welcome, before the first answer",
    "reply.safety": "Safety line when the bot did not understand (911, care team)",
    "reply.urgent": "Warning-sign answer (call the care team now)",
    "reply.did_you_mean": "Did you mean: the choices when topics are close",
    "reply.courtesy": "Answer to thanks or OK",
    "offer.language": "How to get the other language (first message)",
    "hint.nurse": "How to ask for a nurse's call",
    "reply.callback.new": "Nurse call: request confirmed",
    "reply.callback.again": "Nurse call: asked again",
    "reply.callback.failed": "Nurse call: could not be saved",
    "reply.callback.cancelled": "Nurse call: taken back",
    "reply.callback.none": "Nurse call: nothing to take back",
    "reply.callback.off": "Nurse call: how to call instead (callbacks off)",
    **{
        f"drug.class.{name}": f"Drug name: its class ({label})"
        for name, label in {
            "checkpoint": "checkpoint inhibitor",
            "car_t": "CAR T",
            "til": "TIL therapy",
            "tcr": "TCR therapy",
            "bispecific": "bispecific antibody",
            "vaccine": "cancer vaccine",
            "oncolytic_virus": "virus therapy",
            "bcg": "BCG",
            "cytokine": "cytokine",
            "immunomodulator": "immune modulator",
            "antibody": "monoclonal antibody",
        }.items()
    },
}
FIRST_WORDS = 6
MIN_TYPO_SCORE = 80  # rapidfuzz ratio: "diarea" finds "diarrea", "fever" never finds "never"


@dataclass(frozen=True, slots=True)
class Place:
    topic: str  # topic ID
    topic_name: str
    page: int  # 1-based; 0 for the topic's name in the menu
    pages: int


@dataclass(frozen=True, slots=True)
class Entry:
    key: str
    title: str  # "Side effects, page 4: “Also call right away for…”"
    also: tuple[str, ...]  # other places: "When to call, page 3"
    topic: str  # the first topic it belongs to, "" for menus and replies
    searchable: str = field(repr=False)  # folded: ID, title, both languages, keywords
    topics: tuple[str, ...] = ()  # every topic it is shown in

    @property
    def label(self) -> str:
        """The title with the other places: one line for a list or a chart."""
        if not self.also:
            return self.title
        return f"{self.title}; also in {', '.join(self.also)}"


def places(structure: Structure, english: Mapping[str, str]) -> dict[str, list[Place]]:
    """Snippet -> every place in the menus it is shown, in menu order."""
    found: dict[str, list[Place]] = {}
    for topic in ordered_topics(structure):
        name = topic_name(structure, english, topic)
        found.setdefault(structure.topics[topic].label, []).append(Place(topic, name, 0, 0))
        pages = structure.topics[topic].pages
        for number, key in enumerate(pages, start=1):
            found.setdefault(key, []).append(Place(topic, name, number, len(pages)))
    return found


def ordered_topics(structure: Structure) -> list[str]:
    """Topics in the order the menus list them, then any other topic."""
    order: dict[str, None] = {}
    for menu in structure.menus.values():
        for topic in menu.items:
            order.setdefault(topic, None)
    for topic in structure.topics:
        order.setdefault(topic, None)
    return list(order)


def topic_name(structure: Structure, english: Mapping[str, str], topic: str) -> str:
    label = english.get(structure.topics[topic].label, "").strip()
    return label or topic.replace("_", " ").capitalize()


def first_words(text: str, count: int = FIRST_WORDS) -> str:
    """The opening of a text's first line, the way a nurse would quote it."""
    lines = text.strip().splitlines()
    words = lines[0].split() if lines else []
    head = " ".join(words[:count]).rstrip(":,.;")
    more = len(words) > count or len(lines) > 1
    return f"\u201c{head}\u2026\u201d" if more else f"\u201c{head}\u201d"


def title_of(key: str, english: Mapping[str, str], where: Sequence[Place], menus: Structure) -> str:
    if where:
        place = where[0]
        if place.page == 0:
            return f"{place.topic_name}: its name in the menu"
        return (
            f"{place.topic_name}, page {place.page} of {place.pages}: "
            f"{first_words(english.get(key, ''))}"
        )
    for menu in menus.menus.values():
        if menu.header == key:
            return f"{menu.id.replace('_', ' ').capitalize()} menu: the line above the choices"
    return REPLY_NAMES.get(key, f"Reply: {key.removeprefix('reply.').replace('_', ' ')}")


def also_of(where: Sequence[Place]) -> tuple[str, ...]:
    return tuple(
        f"{place.topic_name}, page {place.page}" if place.page else f"{place.topic_name} menu"
        for place in where[1:]
    )


def build_index(
    structure: Structure,
    data: CatalogData,
    examples: Mapping[str, Iterable[str]] | None = None,
) -> list[Entry]:
    """One entry per snippet, in the order of the menus, menus and replies last.

    `examples`: topic -> example questions, where the understanding has them.
    """
    where = places(structure, data.english)
    keywords = data.keywords.get("topics") or {}
    entries = []
    rank = {topic: n for n, topic in enumerate(ordered_topics(structure))}

    def menu_order(key: str) -> tuple[int, int]:
        spots = where.get(key)
        return (rank[spots[0].topic], spots[0].page) if spots else (len(rank), 0)

    for key in sorted(data.english, key=lambda k: menu_order(base_of(k)[0])):  # stable
        base, unset = base_of(key)
        spots = where.get(base, [])
        title = title_of(base, data.english, spots, structure)
        if unset:
            title += f" (while {unset.upper()} is not set)"
        topic = spots[0].topic if spots else ""
        words: list[str] = []
        for place in spots:
            for language_words in (keywords.get(place.topic) or {}).values():
                words.extend(language_words)
            words.extend((examples or {}).get(place.topic, ()))
        spanish = data.translations.get(SPANISH, {}).get(key)
        parts = [key, title, *also_of(spots), data.english[key], spanish.text if spanish else ""]
        searchable = normalize(" ".join([*parts, *words]))
        shown_in = tuple(dict.fromkeys(place.topic for place in spots))
        entries.append(Entry(key, title, also_of(spots), topic, searchable, shown_in))
    return entries


def base_of(key: str) -> tuple[str, str]:
    """A text sent instead of another while a setting is unset ('topic.call.2.no_after_hours_
    phone'): the other text's ID and the setting; any other ID, and ''."""
    for placeholder in OPTIONAL_PLACEHOLDERS:
        stem = key.removesuffix(without("", placeholder))
        if stem != key:
            return stem, placeholder
    return key, ""


def search(entries: Sequence[Entry], query: str) -> tuple[list[Entry], str]:
    """Entries containing every word of the query, and the query as it was understood: the
    query itself, or the nearest spelling found in the catalog when it had none."""
    terms = normalize(query).split()
    if not terms:
        return list(entries), ""
    found = [entry for entry in entries if all(term in entry.searchable for term in terms)]
    if found:
        return found, " ".join(terms)
    corrected = [_nearest(term, entries) for term in terms]
    if corrected == terms or None in corrected:
        return [], " ".join(terms)
    words = [str(term) for term in corrected]
    return [e for e in entries if all(w in e.searchable for w in words)], " ".join(words)


def _nearest(term: str, entries: Sequence[Entry]) -> str | None:
    vocabulary = {word for entry in entries for word in entry.searchable.split()}
    best = process.extractOne(term, vocabulary, scorer=fuzz.ratio, score_cutoff=MIN_TYPO_SCORE)
    return str(best[0]) if best else None


def topic_index(structure: Structure, english: Mapping[str, str]) -> list[tuple[str, str]]:
    """(topic ID, name) in menu order."""
    return [(topic, topic_name(structure, english, topic)) for topic in ordered_topics(structure)]


def labelled_shapes(
    structure: Structure, english: Mapping[str, str]
) -> list[tuple[str, tuple[str, ...]]]:
    """Every SMS the bot can send, each named as staff would say it ("Side effects, page 4
    of 7"): a page shown in two topics is two SMS, one per topic, each named by its topic."""
    pages = {key for topic in structure.topics.values() for key in topic.pages}
    shapes = []
    for name, parts in reply_shapes(structure):
        if name in pages:
            continue  # below, once per topic it is in
        if name.startswith("menu "):
            label = f"{name.removeprefix('menu ').replace('_', ' ').capitalize()} menu"
        elif name.startswith("not understood"):
            label = "When the bot did not understand, with the main menu"
        else:
            label = REPLY_NAMES.get(name, name)
        shapes.append((label, tuple(parts)))
    for topic_id in ordered_topics(structure):
        topic = structure.topics[topic_id]
        name = topic_name(structure, english, topic_id)
        for number in range(len(topic.pages)):
            label = f"{name}, page {number + 1} of {len(topic.pages)}"
            shapes.append((label, tuple(page_parts(topic, number))))
    return shapes
