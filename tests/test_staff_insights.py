"""/staff/insights after a day of traffic: counters only, shown for a chosen period."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient

from tests.helpers.console import Staff
from tests.helpers.phone import Phone

TRAFFIC = {  # body -> how many different patients text it
    "MENU": 6,
    "5": 4,
    "EFECTOS": 3,
    "is the dog park open": 5,  # not understood, by 5 people: shown
    "parking downtown": 2,  # not understood, by 2: never shown
    "chest pain": 1,
}


def a_day_of_traffic(client: TestClient) -> int:
    sent = 0
    for n, (body, people) in enumerate(TRAFFIC.items()):
        for person in range(people):
            patient = Phone(client, f"+1555020{n:02d}{person:02d}")
            patient.text("HI")  # a first message gets the welcome, whatever it says
            patient.text(body)
            sent += 2
    return sent


def test_the_insights_page_after_a_day(console: TestClient, editor: Staff) -> None:
    sent = a_day_of_traffic(console)
    page = editor.get("/staff/insights")
    assert page.status_code == 200
    text = page.text
    assert "What patients ask that we cannot answer" in text
    assert '<th scope="row">dog</th>' in text
    assert "parking" not in text and "downtown" not in text  # too few people
    assert "<svg" in text and "<script" not in text.split("<main")[1].split("</main>")[0]
    assert "Side effects" in text  # top topics by name
    assert "Emergency answers" in text
    figures = editor.get("/staff/insights.csv?preset=7").text
    rows = list(csv.DictReader(io.StringIO(figures)))
    assert len(rows) == 7
    assert sum(int(row["messages"]) for row in rows) == sent  # this worker's counts, up to now
    assert int(rows[-1]["emergency"]) == 1
    assert float(rows[-1]["segment_cost"]) > 0


def test_a_period_typed_in_the_wrong_order_is_read_and_said(editor: Staff) -> None:
    page = editor.get("/staff/insights?from=2026-11-30&to=2026-11-01")
    assert page.status_code == 200 and "wrong way round" in page.text


def test_signed_out_no_insights(console: TestClient) -> None:
    response = console.get("/staff/insights", follow_redirects=False)
    assert response.status_code == 303
    assert console.get("/staff/insights.csv", follow_redirects=False).status_code == 303
