"""Every page carries the browser's security headers, no redirect is built from Host
(security review F-9: H01-H06, C03b), and every route's body is bounded before it is read
(F-1: U01, U01b)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from bot.webhook.asgi import create_app
from tests.helpers.console import Staff, staff_settings

PAGES = ["/staff/login", "/staff/", "/staff-static/staff.css", "/healthz", "/staff/nowhere"]


@pytest.mark.parametrize("path", PAGES)
def test_security_headers_on_every_page(console: TestClient, path: str) -> None:
    headers = console.get(path, follow_redirects=False).headers
    csp = headers["content-security-policy"]
    script_src = next(part for part in csp.split(";") if part.strip().startswith("script-src"))
    assert script_src.strip() == "script-src 'self'"  # no inline script, no eval
    assert "frame-ancestors 'none'" in csp
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    if path.startswith("/staff"):
        assert headers["cache-control"] == "no-store"


def test_signed_in_pages_and_exports_are_never_stored(console: TestClient) -> None:
    staff = Staff(console)
    staff.sign_in("nora")
    for path in ("/staff/", "/staff/history", "/staff/export/catalog.csv"):
        assert staff.get(path).headers["cache-control"] == "no-store"


def test_pages_carry_no_inline_script(console: TestClient) -> None:
    staff = Staff(console)
    staff.sign_in("nora")
    for path in ("/staff/login", "/staff/", "/staff/snippet/topic.cure.1"):
        page = staff.get(path).text
        for tag in page.split("<script")[1:]:
            assert tag.lstrip().startswith("src="), f"inline script on {path}"


def test_hsts_once_served_over_https(redis_url: str, prefix: str) -> None:
    settings = staff_settings(redis_url, prefix).model_copy(update={"staff_cookie_secure": True})
    with TestClient(create_app(settings), base_url="https://sms.example-clinic.org") as client:
        assert (
            client.get("/staff/login").headers["strict-transport-security"].startswith("max-age=")
        )


def test_no_hsts_while_the_cookie_is_not_secure(console: TestClient) -> None:
    assert "strict-transport-security" not in console.get("/staff/login").headers


def test_a_redirect_never_names_the_requests_host(console: TestClient) -> None:
    response = console.get("/staff", headers={"Host": "evil.example"}, follow_redirects=False)
    assert response.status_code in (307, 308)
    assert response.headers["location"] == "/staff/"


def test_an_anonymous_upload_over_the_limit_is_refused_unread(console: TestClient) -> None:
    big = b"x" * (2 * 1024 * 1024)
    response = console.post("/staff/import", files={"upload": ("catalog.csv", big, "text/csv")})
    assert response.status_code == 413


def test_a_streamed_body_over_the_limit_is_cut_off(console: TestClient) -> None:
    signed_in = Staff(console)
    signed_in.sign_in("nora")
    console.cookies = signed_in.cookies

    def chunks() -> Iterator[bytes]:
        yield b'--xyz\r\nContent-Disposition: form-data; name="upload"; filename="a.csv"\r\n\r\n'
        for _ in range(64):
            yield b"x" * 65536  # 4 MiB, no Content-Length

    response = console.post(
        "/staff/import",
        content=chunks(),
        headers={
            "Content-Type": "multipart/form-data; boundary=xyz",
            "X-CSRF-Token": signed_in.csrf,
        },
    )
    assert response.status_code == 413


def test_an_anonymous_upload_is_sent_to_sign_in_unread(console: TestClient) -> None:
    read: list[int] = []

    def chunks() -> Iterator[bytes]:
        for _ in range(64):
            read.append(1)
            yield b"x" * 65536

    response = console.post(
        "/staff/import",
        content=chunks(),
        headers={"Content-Type": "multipart/form-data; boundary=xyz"},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/staff/login"


@pytest.mark.parametrize("path", ["/staff/login", "/staff/api/preview", "/staff/snippet/x"])
def test_other_routes_take_small_bodies_only(console: TestClient, path: str) -> None:
    response = console.post(
        path,
        content=b"name=" + b"a" * 100_000,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
