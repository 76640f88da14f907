"""The content checks a clinic relies on: nothing missing, stale, too long or unsafe ships."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Message
from babel.messages.pofile import read_po, write_po
from click.testing import CliRunner, Result
from ruamel.yaml import YAML

from bot.app import build_bot
from bot.catalog import check as checks
from bot.catalog import tools
from bot.catalog.po import mo_path, po_path, read_po_file
from bot.cli import main
from bot.clinic import ClinicDetails
from bot.config import PROJECT_ROOT, Settings
from bot.content import Content
from bot.errors import CatalogError
from bot.models import Language
from bot.readability import ENGLISH_MAX_GRADE, SPANISH_MIN_SCORE
from tests.helpers.settings import make_settings

DETAILS = ClinicDetails("Test Cancer Center", "+1 555 010 0100", "Mon-Fri 08:00-17:00")
LOCALES: dict[Language, str] = {"en": "en_US", "es": "es_US"}


class Catalogs:
    """A private copy of messages/ and locales/ that a test may break."""

    def __init__(self, root: Path):
        self.messages = root / "messages"
        self.locales = root / "locales"
        shutil.copytree(PROJECT_ROOT / "messages", self.messages)
        shutil.copytree(PROJECT_ROOT / "locales", self.locales)
        tools.compile_catalogs(self.locales)

    def check(self) -> checks.Report:
        return checks.check(self.messages, self.locales, DETAILS, LOCALES)

    def edit_english(self, key: str, text: str) -> None:
        path = self.messages / "en.yaml"
        yaml = YAML(typ="safe")
        yaml.default_flow_style = False
        data = yaml.load(path)
        data["snippets"][key] = text
        yaml.dump(data, path)

    def edit_spanish(self, key: str, text: str) -> None:
        path = po_path(self.locales, "es")
        with path.open("rb") as handle:
            catalog = read_po(handle)
        for message in catalog:
            if message.context == key:
                message.string = text
        buffer = BytesIO()
        write_po(buffer, catalog, width=76)
        path.write_bytes(buffer.getvalue())

    def spanish_entry(self, key: str) -> Message:
        return next(m for m in read_po_file(po_path(self.locales, "es")) if m.context == key)

    def settings(self) -> Settings:
        return make_settings(messages_dir=self.messages, locales_dir=self.locales)


@pytest.fixture
def catalogs(tmp_path: Path) -> Catalogs:
    return Catalogs(tmp_path)


def test_shipped_catalogs_pass(catalogs: Catalogs) -> None:
    report = catalogs.check()
    assert report.errors == []
    assert {line.language for line in report.lines} == {"en", "es"}
    assert all(line.segments <= 3 and line.characters <= 320 for line in report.lines)


def test_shipped_catalogs_read_easily(catalogs: Catalogs) -> None:
    """Median reading level of the topic pages meets the targets in both languages."""
    import statistics

    report = catalogs.check()
    pages = [line for line in report.lines if line.name.startswith("topic.")]
    english = [float(line.score.split()[2]) for line in pages if line.language == "en"]
    spanish = [float(line.score.split()[1]) for line in pages if line.language == "es"]
    assert statistics.median(english) <= ENGLISH_MAX_GRADE
    assert statistics.median(spanish) >= SPANISH_MIN_SCORE


def test_changed_english_marks_spanish_for_review(catalogs: Catalogs) -> None:
    catalogs.edit_english("topic.cure.1", "Immunotherapy does not cure most cancers. It can help.")
    assert any("run `smsbot catalog update`" in e for e in catalogs.check().errors)
    with pytest.raises(CatalogError, match="English changed"):  # never stale Spanish
        build_bot(catalogs.settings())

    changes = tools.update(catalogs.messages, catalogs.locales)
    assert any("topic.cure.1: English changed" in change for change in changes)
    entry = catalogs.spanish_entry("topic.cure.1")
    assert entry.fuzzy and entry.string  # old translation kept, flagged
    po_text = po_path(catalogs.locales, "es").read_text(encoding="utf-8")
    assert "#| msgid" in po_text  # Poedit shows the old English beside the new
    assert any("'topic.cure.1' needs review (fuzzy)" in e for e in catalogs.check().errors)
    with pytest.raises(CatalogError):
        build_bot(catalogs.settings())


def test_the_english_a_translation_was_written_for_survives_later_updates(
    catalogs: Catalogs,
) -> None:
    """Edited twice, updated after each: the `#|` line still shows the English the Spanish was
    written for, once, and nothing piles up in the file."""
    original = catalogs.spanish_entry("topic.cure.1").id
    catalogs.edit_english("topic.cure.1", "Immunotherapy does not cure most cancers.")
    tools.update(catalogs.messages, catalogs.locales)
    catalogs.edit_english("topic.cure.1", "Immunotherapy does not cure most cancers. It helps.")
    tools.update(catalogs.messages, catalogs.locales)
    tools.update(catalogs.messages, catalogs.locales)
    assert catalogs.spanish_entry("topic.cure.1").previous_id == [original]
    po_text = po_path(catalogs.locales, "es").read_text(encoding="utf-8")
    assert po_text.count("#| msgid") == 1
    assert "# |" not in po_text
    # What translators open it with (Poedit, Weblate) reads it as GNU gettext does.
    check = subprocess.run(
        ["msgfmt", "--check", "-o", "/dev/null", str(po_path(catalogs.locales, "es"))],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr


def test_update_is_idempotent(catalogs: Catalogs) -> None:
    before = po_path(catalogs.locales, "es").read_bytes()
    assert tools.update(catalogs.messages, catalogs.locales) == []
    assert po_path(catalogs.locales, "es").read_bytes() == before


def test_new_english_snippet_needs_a_translation(catalogs: Catalogs) -> None:
    catalogs.edit_english("topic.cure.9", "Ask your care team what to expect.")
    tools.update(catalogs.messages, catalogs.locales)
    errors = catalogs.check().errors
    assert "es: 'topic.cure.9' has no translation" in errors


def test_empty_translation(catalogs: Catalogs) -> None:
    catalogs.edit_spanish("topic.what.1", "")
    assert "es: 'topic.what.1' has no translation" in catalogs.check().errors


def test_placeholders_must_match(catalogs: Catalogs) -> None:
    catalogs.edit_spanish("reply.help", "Llame al {clinic_phone}. Envíe ALTO para cancelar.")
    errors = catalogs.check().errors
    assert any("'reply.help': placeholders" in e for e in errors)


def test_unknown_placeholder(catalogs: Catalogs) -> None:
    catalogs.edit_english("reply.language", "OK, {patient_name}.")
    assert any("unknown placeholder" in e for e in catalogs.check().errors)


def test_over_budget(catalogs: Catalogs) -> None:
    catalogs.edit_spanish("topic.what.1", "Inmunoterapía. " * 14)  # UCS-2: 210 > 201
    errors = catalogs.check().errors
    assert any("es: 'topic.what.1'" in e and "UCS-2 segments" in e for e in errors)


def test_menu_pointing_at_missing_snippet(catalogs: Catalogs) -> None:
    path = catalogs.messages / "menus.yaml"
    path.write_text(path.read_text().replace("topic.cure.2,", "topic.cure.9,"))
    errors = catalogs.check().errors
    assert "menus.yaml: snippet 'topic.cure.9' does not exist" in errors


def test_reserved_word_cannot_be_a_topic_keyword(catalogs: Catalogs) -> None:
    path = catalogs.messages / "keywords.yaml"
    text = path.read_text().replace('[start, "yes", unstop]', "[start, unstop]")
    path.write_text(text.replace("en: [cure, cured,", 'en: [cure, cured, "yes",'))
    assert any("'yes' is reserved" in e for e in catalogs.check().errors)


def test_one_word_cannot_mean_two_things(catalogs: Catalogs) -> None:
    path = catalogs.messages / "keywords.yaml"
    path.write_text(path.read_text().replace("en: [cure, cured,", "en: [cure, cured, stop,"))
    assert any("'stop' is listed for both stop and cure" in e for e in catalogs.check().errors)


def test_emergency_must_say_911_first(catalogs: Catalogs) -> None:
    catalogs.edit_spanish(
        "reply.emergency", "Llame a su equipo médico al {clinic_phone}. O al 911."
    )
    assert "es: 'reply.emergency' must say to call 911 first" in catalogs.check().errors


def test_missing_mo_refuses_to_start(catalogs: Catalogs) -> None:
    mo_path(catalogs.locales, "es").unlink()
    with pytest.raises(CatalogError, match="missing: run `smsbot catalog compile`"):
        build_bot(catalogs.settings())


def test_stale_mo_refuses_to_start(catalogs: Catalogs) -> None:
    catalogs.edit_spanish("topic.what.1", "La inmunoterapia es un tratamiento contra el cáncer.")
    with pytest.raises(CatalogError, match="older than"):
        build_bot(catalogs.settings())
    tools.compile_catalogs(catalogs.locales)
    assert build_bot(catalogs.settings()).content.text("es", "topic.what.1").startswith("La inmu")


class TestCommands:
    def run(self, catalogs: Catalogs, *args: str) -> Result:
        env = {"MESSAGES_DIR": str(catalogs.messages), "LOCALES_DIR": str(catalogs.locales)}
        return CliRunner().invoke(main, list(args), env=env)

    def test_check_prints_every_reply_and_passes(self, catalogs: Catalogs) -> None:
        result = self.run(catalogs, "catalog", "check")
        assert result.exit_code == 0, result.output
        assert "topic.side_effects.1" in result.output and "UCS-2" in result.output
        assert "INFLESZ" in result.output and "FK grade" in result.output
        assert "catalog check passed" in result.output

    def test_check_fails_loudly(self, catalogs: Catalogs) -> None:
        catalogs.edit_spanish("topic.what.1", "")
        result = self.run(catalogs, "catalog", "check", "--quiet")
        assert result.exit_code == 1
        assert "es: 'topic.what.1' has no translation" in result.output

    def test_compile_refuses_a_broken_catalog(self, catalogs: Catalogs) -> None:
        catalogs.edit_spanish("topic.what.1", "")
        before = mo_path(catalogs.locales, "es").read_bytes()
        assert self.run(catalogs, "catalog", "compile").exit_code == 1
        assert mo_path(catalogs.locales, "es").read_bytes() == before

    def test_update_then_compile(self, catalogs: Catalogs) -> None:
        assert self.run(catalogs, "catalog", "update").exit_code == 0
        result = self.run(catalogs, "catalog", "compile")
        assert result.exit_code == 0 and "compiled" in result.output


def test_long_clinic_details_are_flagged_at_start_up(caplog: pytest.LogCaptureFixture) -> None:
    build_bot(
        make_settings(
            redis_url=None,
            program_name="The Very Long Name Of A Comprehensive Cancer Center Immunotherapy Line "
            "Run Together By The Departments Of Medical Oncology, Nursing And Patient Education",
        )
    )
    assert "over the SMS budget" in caplog.text and "reply.welcome" in caplog.text


# -- numbers a clinic may not have (AFTER_HOURS_PHONE, FINANCIAL_COUNSELOR_PHONE) ----------


def _content(catalogs: Catalogs, details: ClinicDetails) -> Content:
    return Content.load(catalogs.messages, catalogs.locales, details, LOCALES)


@pytest.mark.parametrize("language", ["en", "es"])
def test_after_hours_number_is_given_when_set(catalogs: Catalogs, language: Language) -> None:
    details = ClinicDetails(
        "Test Cancer Center", "+1 555 010 0100", "Mon-Fri 08:00-17:00", "+1 555 010 0199"
    )
    content = _content(catalogs, details)
    for part in ("topic.call.2", "reply.help"):
        assert "(555) 010-0199" in content.text(language, part), part


@pytest.mark.parametrize("language", ["en", "es"])
def test_without_after_hours_number_the_text_says_to_ask(
    catalogs: Catalogs, language: Language
) -> None:
    content = _content(catalogs, DETAILS)
    for part in ("topic.call.2", "reply.help"):
        text = content.text(language, part)
        assert text == content.text(language, f"{part}.no_after_hours_phone"), part
        assert "{" not in text and "()" not in text and "  " not in text


def test_optional_number_needs_its_fallback_text(catalogs: Catalogs) -> None:
    catalogs.edit_english("topic.cure.1", "Call {after_hours_phone} at night.")
    errors = catalogs.check().errors
    assert any(
        "'topic.cure.1' uses {after_hours_phone}: add 'topic.cure.1.no_after_hours_phone'" in e
        for e in errors
    )


def test_budget_is_checked_with_and_without_the_after_hours_number(catalogs: Catalogs) -> None:
    long_fallback = "Ask your care team for the number to call at night. " * 8
    catalogs.edit_english("topic.call.2.no_after_hours_phone", long_fallback.strip())
    tools.update(catalogs.messages, catalogs.locales)
    with_number = ClinicDetails(
        "Test Cancer Center", "+1 555 010 0100", "Mon-Fri 08:00-17:00", "+1 555 010 0199"
    )
    errors = checks.check(catalogs.messages, catalogs.locales, with_number, LOCALES).errors
    assert any("en: 'topic.call.2'" in e and "AFTER_HOURS_PHONE unset" in e for e in errors), errors


# -- sources and clinical review (messages/sources.yaml) -------------------------------------


def _edit_sources(catalogs: Catalogs, change: Callable[[dict[str, Any]], object]) -> None:
    path = catalogs.messages / "sources.yaml"
    yaml = YAML(typ="safe")
    yaml.default_flow_style = False
    data = yaml.load(path)
    change(data)
    yaml.dump(data, path)


def test_every_shipped_page_names_its_sources(catalogs: Catalogs) -> None:
    report = catalogs.check()
    assert not [e for e in report.errors if "sources.yaml" in e]


def test_page_with_a_fact_but_no_source_is_an_error(catalogs: Catalogs) -> None:
    _edit_sources(catalogs, lambda data: data["pages"].pop("topic.shots.1"))
    errors = catalogs.check().errors
    assert any("'topic.shots.1' states facts but names no source" in e for e in errors)


def test_a_page_that_only_gives_directions_needs_no_source(catalogs: Catalogs) -> None:
    _edit_sources(catalogs, lambda data: data["pages"].update({"topic.shots.1": {"facts": False}}))
    assert not [e for e in catalogs.check().errors if "topic.shots.1" in e]


def test_unknown_source_is_an_error(catalogs: Catalogs) -> None:
    _edit_sources(
        catalogs, lambda data: data["pages"].update({"topic.shots.1": {"sources": ["nope"]}})
    )
    errors = catalogs.check().errors
    assert any("'topic.shots.1' cites 'nope'" in e for e in errors)


def test_pages_past_their_review_by_date_are_listed(catalogs: Catalogs) -> None:
    def signed_long_ago(data: Any) -> None:
        data["pages"]["topic.cure.1"].update(reviewed_by="A. Nurse, RN", reviewed_on="2020-01-02")
        data["pages"]["topic.cure.2"].update(reviewed_by="A. Nurse, RN", reviewed_on="2026-11-30")

    _edit_sources(catalogs, signed_long_ago)
    report = catalogs.check()
    assert report.ok
    overdue = [w for w in report.warnings if w.startswith("past their review-by date")]
    assert overdue and "topic.cure.1 (review by 2021-01-01)" in overdue[0]
    assert "topic.cure.2" not in overdue[0]  # reviewed yesterday: due in a year


def test_sign_off_sets_the_review_date_and_the_next_one(catalogs: Catalogs) -> None:
    from datetime import date

    from bot.catalog.export import write_sign_offs
    from bot.catalog.provenance import Provenance, SignOff

    sign_off = SignOff("topic.cure.1", "a.nurse", "reviewer", date(2026, 12, 1))
    signed = Provenance.load(catalogs.messages).with_sign_offs([sign_off])
    page = signed.pages["topic.cure.1"]
    assert (page.reviewed_by, page.reviewed_on) == ("a.nurse, reviewer", date(2026, 12, 1))
    assert signed.due("topic.cure.1") == date(2027, 12, 1)

    path = write_sign_offs([sign_off], catalogs.messages)
    assert Provenance.load(catalogs.messages).pages == signed.pages
    assert "# pages: one entry per snippet ID" in path.read_text(encoding="utf-8")


def test_findings_are_data_as_well_as_sentences() -> None:
    from datetime import date

    from bot.catalog.provenance import Provenance

    records = Provenance.from_data(
        {
            "sources": {"nci": {"label": "NCI"}},
            "pages": {
                "a": {
                    "sources": ["nci"],
                    "reviewed_by": "A. Nurse, RN",
                    "reviewed_on": "2020-01-02",
                },
                "b": {"sources": ["gone"]},
                "c": {"facts": False},
                "old": {"sources": ["nci"]},
            },
        }
    )
    found = records.findings(["a", "b", "c", "d"], date(2026, 12, 1))
    assert found.overdue == [("a", date(2021, 1, 1))]
    assert found.never == ["b", "c", "d"]
    assert found.unsourced == ["d"]
    assert found.unknown == [("b", "gone")]
    assert found.stale == ["old"]
    assert found.warnings[0] == "past their review-by date: a (review by 2021-01-01)"
    assert any("'d' states facts but names no source" in e for e in found.errors)


def test_console_sign_offs_go_over_the_files_unless_the_file_is_newer() -> None:
    from datetime import date

    from bot.catalog.provenance import Provenance, SignOff

    records = Provenance.from_data(
        {
            "pages": {
                "a": {"sources": ["x"], "reviewed_on": "2026-01-05", "review_by": "2026-06-01"},
                "b": {"sources": ["x"], "reviewed_by": "B. Nurse, RN", "reviewed_on": "2026-12-05"},
            }
        }
    )
    signed = records.with_sign_offs(
        [SignOff(key, "rita", "reviewer", date(2026, 12, 1)) for key in ("a", "b", "new")]
    )
    assert signed.pages["a"].reviewed_by == "rita, reviewer"
    assert signed.due("a") == date(2027, 12, 1)  # the file's own review-by date is replaced
    assert signed.pages["b"] == records.pages["b"]  # signed again in the file since
    assert signed.pages["new"].sources == () and signed.due("new") == date(2027, 12, 1)


def test_clinic_hours_read_naturally_in_each_language() -> None:
    from bot.clinic import format_hours

    hours = "Mon-Fri 08:00-17:00, Sat 09:00-12:00"
    assert (
        format_hours(hours, "en_US") == "Monday-Friday 8:00 AM-5:00 PM, Saturday 9:00 AM-12:00 PM"
    )
    assert format_hours(hours, "es_US") == (
        "de lunes a viernes, de 8:00 a.m. a 5:00 p.m. y sábado, de 9:00 a.m. a 12:00 p.m."
    )
    assert format_hours("weekdays 8 to 5", "es_US") == "weekdays 8 to 5"  # shown as written


def test_spanish_readers_see_the_spanish_program_name(catalogs: Catalogs) -> None:
    details = ClinicDetails(
        "Cancer Info Line", "+1 555 010 0100", "Mon-Fri 08:00-17:00", program_name_es="Linea Info"
    )
    content = _content(catalogs, details)
    assert "Linea Info" in content.text("es", "reply.welcome")
    assert "Cancer Info Line" in content.text("en", "reply.welcome")
    # A name with á, í, ó or ú turns the Spanish system replies into UCS-2: the check says so.
    long_name = ClinicDetails(
        "Cancer Info Line",
        "+1 555 010 0100",
        "Mon-Fri 08:00-17:00",
        program_name_es="Línea de Información sobre Inmunoterapia",
    )
    errors = checks.check(catalogs.messages, catalogs.locales, long_name, LOCALES).errors
    assert any("es: 'reply.welcome'" in e and "UCS-2" in e for e in errors)
