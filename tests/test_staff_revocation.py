"""Ending staff sessions (security review F-5: C06, C08, CLI01): a copied cookie stops working
at sign-out, at a password change, when the account is disabled or removed; passwords never
travel on the command line."""

from __future__ import annotations

from click.testing import CliRunner, Result
from fastapi.testclient import TestClient

from bot.cli import main
from tests.helpers.console import PASSWORD, Staff

NEW_PASSWORD = "another horse battery"


def signed_in_with_a_copy(client: TestClient, name: str = "nora") -> tuple[Staff, Staff]:
    staff = Staff(client)
    staff.sign_in(name)
    stolen = Staff(client)
    stolen.cookies = type(staff.cookies)(staff.cookies)
    assert stolen.get("/staff/").status_code == 200 and f"{name} (" in stolen.get("/staff/").text
    return staff, stolen


def signed_out(staff: Staff) -> bool:
    response = staff.request("GET", "/staff/", follow_redirects=False)
    return response.status_code == 303 and response.headers["location"] == "/staff/login"


def cli(redis_url: str, prefix: str, *args: str, password: str | None = None) -> Result:
    env = {"REDIS_URL": redis_url, "REDIS_KEY_PREFIX": prefix}
    stdin = f"{password}\n" if password is not None else None
    return CliRunner().invoke(main, ["staff", *args], input=stdin, env=env)


def test_a_copied_cookie_dies_at_sign_out(console: TestClient) -> None:
    staff, stolen = signed_in_with_a_copy(console)
    assert staff.post("/staff/logout").status_code == 200
    assert signed_out(stolen)


def test_a_password_change_ends_every_session(
    console: TestClient, redis_url: str, prefix: str
) -> None:
    _, stolen = signed_in_with_a_copy(console)
    result = cli(redis_url, prefix, "password", "nora", password=NEW_PASSWORD)
    assert result.exit_code == 0, result.output
    assert "1 session(s) ended" in result.output and NEW_PASSWORD not in result.output
    assert signed_out(stolen)
    assert Staff(console).sign_in("nora", NEW_PASSWORD).status_code == 200
    assert signed_out(Staff(console)) and "Wrong name" in Staff(console).sign_in("nora").text


def test_disable_and_enable(console: TestClient, redis_url: str, prefix: str) -> None:
    _, stolen = signed_in_with_a_copy(console)
    assert cli(redis_url, prefix, "disable", "nora").exit_code == 0
    assert signed_out(stolen)
    again = Staff(console)
    assert "Wrong name or password." in again.sign_in("nora").text
    assert "disabled" in cli(redis_url, prefix, "list").output
    assert cli(redis_url, prefix, "enable", "nora").exit_code == 0
    again.sign_in("nora")
    assert not signed_out(again)


def test_remove_and_list(console: TestClient, redis_url: str, prefix: str) -> None:
    _, stolen = signed_in_with_a_copy(console, "rita")
    listed = cli(redis_url, prefix, "list").output.split()
    assert "nora" in listed and "rita" in listed and "reviewer" in listed
    assert cli(redis_url, prefix, "remove", "rita").exit_code == 0
    assert signed_out(stolen)
    assert "rita" not in cli(redis_url, prefix, "list").output
    assert cli(redis_url, prefix, "remove", "rita").exit_code != 0  # no such account


def test_passwords_never_come_from_the_command_line(redis_url: str, prefix: str) -> None:
    result = cli(redis_url, prefix, "add", "omar", "--role", "editor", "--password", PASSWORD)
    assert result.exit_code != 0 and "--password" in result.output


def test_add_does_not_silently_reset_an_account(
    console: TestClient, redis_url: str, prefix: str
) -> None:
    result = cli(redis_url, prefix, "add", "nora", "--role", "reviewer", password=NEW_PASSWORD)
    assert result.exit_code != 0 and "staff password nora" in result.output
    assert "Wrong name" in Staff(console).sign_in("nora", NEW_PASSWORD).text


def test_look_alike_names_are_refused(redis_url: str, prefix: str) -> None:
    for name in ("n\u043era", "a<b", "rob\u202e", ".hidden"):
        result = cli(redis_url, prefix, "add", name, "--role", "editor", password=PASSWORD)
        assert result.exit_code != 0 and "a-z, 0-9" in result.output, name
