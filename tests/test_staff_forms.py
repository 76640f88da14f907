"""What the staff console answers to forms and requests it cannot use."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.helpers.console import PASSWORD, Staff


def test_keywords_for_a_topic_that_does_not_exist_are_refused(console: TestClient) -> None:
    staff = Staff(console)
    staff.sign_in("nora")
    response = staff.post("/staff/keywords/no_such_topic", {"en": "thing", "es": "cosa"})
    assert response.status_code == 422 and "no topic 'no_such_topic'" in response.text
    assert "No drafts are waiting" in staff.get("/staff/review").text


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        pytest.param({"key": "reply.stop", "language": "es"}, 422, "text", id="no-text"),
        pytest.param({"text": "Hola"}, 422, "key, language", id="no-key-no-language"),
        pytest.param(["reply.stop"], 422, "key, language, text", id="not-an-object"),
        pytest.param(None, 400, "JSON", id="not-json"),
    ],
)
def test_a_preview_request_without_what_it_needs_is_explained(
    console: TestClient,
    body: str,
    status: int,
    says: str,
) -> None:
    staff = Staff(console)
    staff.sign_in("nora")
    headers = {"X-CSRF-Token": staff.csrf}
    if body is None:
        headers["Content-Type"] = "application/json"
        response = staff.request("POST", "/staff/api/preview", content=b"{", headers=headers)
    else:
        response = staff.request("POST", "/staff/api/preview", json=body, headers=headers)
    assert response.status_code == status and says in response.json()["detail"]


def test_signing_in_needs_the_token_of_the_sign_in_page(console: TestClient) -> None:
    staff = Staff(console)
    response = staff.request(
        "POST",
        "/staff/login",
        data={"name": "nora", "password": PASSWORD},
        follow_redirects=False,
    )
    assert response.status_code == 403 and "sign in again" in response.text
    assert staff.request("GET", "/staff/", follow_redirects=False).status_code == 303
    assert 'name="csrf" value="' in staff.get("/staff/login").text
    assert (
        staff.post(
            "/staff/login", {"name": "nora", "password": PASSWORD}, follow_redirects=False
        ).headers["location"]
        == "/staff/"
    )
