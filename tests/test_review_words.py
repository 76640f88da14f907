"""Save-time words for a reply over budget, and the changed words a reviewer sees."""

from __future__ import annotations

import pytest

from bot.console.wording import Run, budget_warning, changed_words
from bot.sms import measure


class TestOverBudget:
    def test_a_reply_within_the_limits_is_fine(self) -> None:
        assert budget_warning("Call your care team.") is None
        assert budget_warning("á" * 201) is None  # 3 UCS-2 segments exactly

    def test_a_ucs2_reply_says_how_much_to_remove_and_which_characters(self) -> None:
        text = "Llame si tiene fiebre de 38 °C o más. " * 6  # 228 characters, UCS-2
        message = budget_warning(text, "Side effects, page 4")
        assert message is not None
        assert message.startswith(
            "Side effects, page 4 is too long to publish: 228 characters, 4 SMS"
        )
        assert f"Remove about {228 - 201} characters" in message
        assert "avoid ° á" in message and "without them it would fit" in message

    def test_the_number_to_remove_really_brings_it_within(self) -> None:
        text = "Llame si tiene fiebre de 38 °C o más. " * 6
        cut = 228 - 201
        assert measure(text[:-cut]).segments == 3

    def test_a_long_gsm_reply_counts_characters(self) -> None:
        message = budget_warning("a" * 330)
        assert message is not None and "Remove about 10 characters." in message
        assert "avoid" not in message


class TestChangedWords:
    def test_only_the_changed_words_are_marked(self) -> None:
        runs = changed_words("- fiebre\n- diarrea", "- fiebre de 38 °C o más\n- diarrea")
        assert runs == [
            Run("- fiebre", "same"),
            Run(" de 38 °C o más", "added"),
            Run("\n- diarrea", "same"),
        ]

    @pytest.mark.parametrize(
        ("before", "after"),
        [
            pytest.param("", "new text", id="new"),
            pytest.param("old text", "", id="emptied"),
            pytest.param("a b c", "a x c", id="replaced"),
            pytest.param("Llame\nhoy", "Llame hoy", id="line-break"),
        ],
    )
    def test_the_runs_spell_both_texts(self, before: str, after: str) -> None:
        runs = changed_words(before, after)
        assert "".join(r.text for r in runs if r.kind != "added") == before
        assert "".join(r.text for r in runs if r.kind != "removed") == after

    def test_an_unchanged_text_is_one_run(self) -> None:
        assert changed_words("same\ntext", "same\ntext") == [Run("same\ntext", "same")]
