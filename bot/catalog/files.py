"""The catalog in the files: messages/ (YAML: English, menus, keywords) and locales/ (PO)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from bot.catalog.model import CatalogData, Structure, Translation
from bot.catalog.po import po_path, read_po_file
from bot.errors import CatalogError
from bot.models import TRANSLATED


@dataclass(frozen=True, slots=True)
class Source:
    """What is in messages/: the English snippets and the menu tree."""

    english: Mapping[str, str]
    structure: Structure

    @classmethod
    def load(cls, messages_dir: Path) -> Source:
        english = read_yaml(messages_dir / "en.yaml").get("snippets") or {}
        bad = [key for key, value in english.items() if not isinstance(value, str)]
        if bad:
            raise CatalogError(
                f"en.yaml: these snippets are not text (quote them): {', '.join(bad)}"
            )
        structure = Structure.from_data(read_yaml(messages_dir / "menus.yaml"))
        return cls(dict(english), structure)


def load_data(messages_dir: Path, locales_dir: Path) -> CatalogData:
    """The catalog as the files hold it. Raises CatalogError when a file cannot be read."""
    source = Source.load(messages_dir)
    keywords = read_yaml(messages_dir / "keywords.yaml")
    translations: dict[str, dict[str, Translation]] = {}
    for language in TRANSLATED:
        path = po_path(locales_dir, language)
        if not path.is_file():
            raise CatalogError(f"{language}: {path} is missing: run `smsbot catalog update`")
        translations[language] = {
            message.context: Translation(str(message.string or ""), str(message.id), message.fuzzy)
            for message in read_po_file(path)
            if message.id and message.context
        }
    examples_path = messages_dir / "examples.yaml"
    examples = read_yaml(examples_path) if examples_path.is_file() else {}
    return CatalogData(dict(source.english), translations, keywords, examples or {})


def read_yaml(path: Path) -> dict[str, Any]:
    """A YAML file with a mapping at the top, read as YAML 1.2: `yes` and `no` stay words."""
    try:
        data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read: {exc}") from exc
    except YAMLError as exc:
        raise CatalogError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise CatalogError(f"{path}: expected a mapping at the top level")
    return data
