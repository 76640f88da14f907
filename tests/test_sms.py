"""SMS encoding and segments at the boundaries, where the budget check must be exact."""

from __future__ import annotations

import pytest

from bot.sms import BUDGET, measure

ROWS = [
    pytest.param("", "GSM-7", 1, id="empty"),
    pytest.param("a" * 160, "GSM-7", 1, id="gsm-160-one"),
    pytest.param("a" * 161, "GSM-7", 2, id="gsm-161-two"),
    pytest.param("a" * 306, "GSM-7", 2, id="gsm-306-two"),
    pytest.param("a" * 307, "GSM-7", 3, id="gsm-307-three"),
    pytest.param("a" * 79 + "€" + "a" * 79, "GSM-7", 1, id="gsm-extension-counts-two"),
    pytest.param("a" * 152 + "€" + "a" * 152, "GSM-7", 3, id="gsm-extension-never-split"),
    pytest.param("a" * 151 + "€" + "a" * 153, "GSM-7", 2, id="gsm-extension-just-fits"),
    pytest.param("á" * 70, "UCS-2", 1, id="ucs2-70-one"),
    pytest.param("á" * 71, "UCS-2", 2, id="ucs2-71-two"),
    pytest.param("á" * 134, "UCS-2", 2, id="ucs2-134-two"),
    pytest.param("á" * 135, "UCS-2", 3, id="ucs2-135-three"),
    pytest.param("a" * 66 + "😀" + "a" * 66, "UCS-2", 3, id="ucs2-emoji-never-split"),
    pytest.param("a" * 65 + "😀" + "a" * 67, "UCS-2", 2, id="ucs2-emoji-just-fits"),
]


@pytest.mark.parametrize(("text", "encoding", "segments"), ROWS)
def test_segments(text: str, encoding: str, segments: int) -> None:
    cost = measure(text)
    assert (cost.encoding, cost.segments) == (encoding, segments)


def test_units_count_escape_and_surrogate_pairs() -> None:
    assert measure("€").units == 2
    assert measure("😀").units == 2 and measure("😀").characters == 1


def test_the_budget() -> None:
    assert not BUDGET.over(measure("a" * 320))
    assert BUDGET.over(measure("a" * 321))
    assert BUDGET.over(measure("á" * 202))  # four UCS-2 segments
    assert not BUDGET.over(measure("á" * 201))
