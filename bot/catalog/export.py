"""Write a catalog, and the sign-offs made in the console, back into the files, keeping their
comments, so they can be committed."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from babel.messages.catalog import Catalog
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from bot.catalog.model import CatalogData
from bot.catalog.po import DOMAIN, po_bytes, po_path, read_po_file
from bot.catalog.provenance import FILE_NAME, Provenance, SignOff
from bot.models import TRANSLATED


def _round_trip() -> YAML:
    yaml = YAML()  # round trip: comments, order and quoting stay as the staff wrote them
    yaml.width = 4096
    yaml.preserve_quotes = True
    return yaml


def write_files(data: CatalogData, messages_dir: Path, locales_dir: Path) -> list[Path]:
    yaml = _round_trip()
    written = []

    english_path = messages_dir / "en.yaml"
    english = yaml.load(english_path)
    for key, text in data.english.items():
        english["snippets"][key] = text
    yaml.dump(english, english_path)
    written.append(english_path)

    keywords_path = messages_dir / "keywords.yaml"
    keywords = yaml.load(keywords_path)
    for topic, words in data.keywords.get("topics", {}).items():
        for language, values in words.items():
            if keywords["topics"].get(topic, {}).get(language) != values:
                keywords["topics"].setdefault(topic, {})[language] = values
    yaml.dump(keywords, keywords_path)
    written.append(keywords_path)

    for language in TRANSLATED:
        path = po_path(locales_dir, language)
        write_translation(data, language, path)
        written.append(path)
    return written


def write_translation(data: CatalogData, language: str, path: Path) -> None:
    """The PO file for one language, in the order of the English, keeping its comments."""
    existing = read_po_file(path)
    notes = {message.context: message for message in existing if message.id and message.context}
    catalog = Catalog(
        locale=existing.locale, domain=DOMAIN, header_comment=existing.header_comment, fuzzy=False
    )
    catalog.mime_headers = existing.mime_headers
    entries = data.translations.get(language, {})
    for key, english in data.english.items():
        entry, old = entries.get(key), notes.get(key)
        stale = entry is not None and bool(entry.text) and (entry.fuzzy or entry.source != english)
        flags = (set(old.flags) if old else set()) - {"fuzzy"} | ({"fuzzy"} if stale else set())
        catalog.add(
            english,
            entry.text if entry else "",
            context=key,
            auto_comments=old.auto_comments if old else (),
            user_comments=old.user_comments if old else (),
            flags=flags,
            previous_id=entry.source if stale and entry and entry.source != english else (),
        )
    path.write_bytes(po_bytes(catalog))


def write_sign_offs(sign_offs: Sequence[SignOff], messages_dir: Path) -> Path:
    """sources.yaml with these sign-offs in it, read as the console reads them (a later review
    already in the file stays), keeping the file's comments."""
    path = messages_dir / FILE_NAME
    merged = Provenance.load(messages_dir).with_sign_offs(sign_offs)
    yaml = _round_trip()
    sources = (yaml.load(path) if path.is_file() else None) or CommentedMap()
    if sources.get("pages") is None:
        sources["pages"] = CommentedMap()
    pages = sources["pages"]
    for sign_off in sign_offs:
        record = merged.pages[sign_off.key]
        if pages.get(sign_off.key) is None:
            pages[sign_off.key] = CommentedMap()
        entry = pages[sign_off.key]
        entry["reviewed_by"] = record.reviewed_by
        entry["reviewed_on"] = record.reviewed_on
        if record.review_by is None:
            entry.pop("review_by", None)  # due a review interval after the sign-off
        else:
            entry["review_by"] = record.review_by
    yaml.dump(sources, path)
    return path
