"""A synthetic catalog ten times the shipped one, to check that a message's cost stays flat."""

from __future__ import annotations

import random
import shutil
from io import BytesIO
from pathlib import Path

from babel.messages.pofile import read_po, write_po
from ruamel.yaml import YAML

from bot.catalog.po import po_path
from bot.catalog.tools import compile_catalogs

SYLLABLES = ["ka", "lo", "mi", "ra", "te", "su", "no", "vi", "pe", "zo", "an", "el", "or"]


class MadeUpWords:
    """Words no patient writes, each used once, so the keyword lists grow without clashing."""

    def __init__(self, seed: int):
        self._rng = random.Random(seed)
        self._used: set[str] = set()

    def __call__(self) -> str:
        while True:
            word = "".join(self._rng.choice(SYLLABLES) for _ in range(self._rng.randrange(3, 6)))
            if word not in self._used:
                self._used.add(word)
                return word


def ten_times_catalog(root: Path, dest: Path, factor: int = 10) -> tuple[Path, dict[str, int]]:
    made_up_word = MadeUpWords(10)
    shutil.copytree(root / "messages", dest / "messages")
    shutil.copytree(root / "locales", dest / "locales")
    english = YAML(typ="safe").load(dest / "messages/en.yaml")
    menus = YAML(typ="safe").load(dest / "messages/menus.yaml")
    words = YAML(typ="safe").load(dest / "messages/keywords.yaml")
    examples = YAML(typ="safe").load(dest / "messages/examples.yaml")
    po_file = po_path(dest / "locales", "es")
    with po_file.open("rb") as handle:
        po = read_po(handle)
    spanish = {m.context: m.string for m in po if m.context}
    snippets = english["snippets"]
    originals = {name: spec for name, spec in menus["topics"].items() if spec.get("pages")}
    for copy in range(1, factor):
        items = []
        for name, spec in originals.items():
            clone = f"{name}_{copy}"
            items.append(clone)
            label = f"topic.{clone}.label"
            snippets[label] = f"{snippets[spec['label']]} {copy}"
            po.add(snippets[label], f"{spanish[spec['label']]} {copy}", context=label)
            pages = []
            for number, page in enumerate(spec["pages"], start=1):
                key = f"topic.{clone}.{number}"
                snippets[key] = snippets[page]
                po.add(snippets[key], spanish[page], context=key)
                pages.append(key)
            menus["topics"][clone] = {"label": label, "pages": pages}
            source = words["topics"].get(name, {})
            words["topics"][clone] = {
                language: [f"{alias} {made_up_word()}" for alias in source.get(language, [])]
                + [made_up_word() for _ in range(3)]
                for language in ("en", "es")
            }
            examples["topics"][clone] = {
                language: [f"{text} {made_up_word()}" for text in texts]
                for language, texts in (examples["topics"].get(name) or {}).items()
            }
        menus["menus"][f"more{copy}"] = {"header": "menu.main.header", "items": items[:10]}
    writer = YAML(typ="safe")
    writer.default_flow_style = False
    writer.dump(english, dest / "messages/en.yaml")
    writer.dump(menus, dest / "messages/menus.yaml")
    writer.dump(words, dest / "messages/keywords.yaml")
    writer.dump(examples, dest / "messages/examples.yaml")
    buffer = BytesIO()
    write_po(buffer, po, width=76)
    po_file.write_bytes(buffer.getvalue())
    compile_catalogs(dest / "locales")
    aliases = sum(len(v) for t in words["topics"].values() for v in t.values())
    return dest, {"snippets": len(snippets), "topics": len(menus["topics"]), "aliases": aliases}
