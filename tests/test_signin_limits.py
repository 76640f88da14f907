"""Sign-in guessing is bounded per account and per address, whatever address a request
claims, and the audit trail can be neither silenced nor spoofed (security review F-10, F-11:
R02, R06, R07, R08, A01)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.console.accounts import ACCOUNT_PACE_CEILING, MAX_PER_ACCOUNT, MAX_PER_ADDRESS, Accounts
from bot.errors import AccountError
from bot.redis import connect
from bot.store.keys import StaffKeys
from tests.helpers.console import CHEAP_HASHER, PASSWORD, Staff, staff_settings


def accounts_run(redis_url: str, prefix: str, body: Callable[[Accounts], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        client = connect(staff_settings(redis_url, prefix), purpose="cli")
        try:
            return await body(Accounts(client, StaffKeys(prefix), CHEAP_HASHER))
        finally:
            await client.aclose()

    return asyncio.run(main())


def test_rotating_addresses_gains_nothing(console: TestClient, redis_url: str, prefix: str) -> None:
    async def body(accounts: Accounts) -> None:
        for n in range(MAX_PER_ACCOUNT):
            assert await accounts.sign_in("rita", "wrong guess", f"203.0.113.{n}") is None
        # Past the limit the name is paced: one more guess now, then none until the pause ends,
        # right password or wrong, from any address.
        assert await accounts.sign_in("rita", "wrong guess", "203.0.113.200") is None
        with pytest.raises(AccountError, match="wait 1 seconds"):
            await accounts.sign_in("rita", PASSWORD, "198.51.100.7")
        with pytest.raises(AccountError):
            await accounts.sign_in("rita", "wrong guess", "203.0.113.201")

    accounts_run(redis_url, prefix, body)


def test_guessing_a_name_cannot_lock_its_owner_out(
    console: TestClient, redis_url: str, prefix: str
) -> None:
    """Each pause doubles, up to a ceiling; after it the owner signs in (review F-10, fix 1)."""

    async def body(accounts: Accounts) -> None:
        for n in range(MAX_PER_ACCOUNT + 1):
            await accounts.sign_in("rita", "wrong guess", f"203.0.113.{n}")
        waits = []
        for _ in range(3):  # attempts in a pause only lengthen the next pause
            with pytest.raises(AccountError) as refused:
                await accounts.sign_in("rita", "wrong guess", "203.0.113.250")
            waits.append(str(refused.value))
        assert all("wait" in text for text in waits)
        started = time.monotonic()
        while True:  # the owner keeps trying, as a person would, until the pause ends
            try:
                assert await accounts.sign_in("rita", PASSWORD, "198.51.100.7") is not None
                break
            except AccountError:
                assert time.monotonic() - started < ACCOUNT_PACE_CEILING + 5
                await asyncio.sleep(0.2)

    accounts_run(redis_url, prefix, body)


def test_spraying_one_password_over_many_names_is_stopped(redis_url: str, prefix: str) -> None:
    async def body(accounts: Accounts) -> None:
        for n in range(MAX_PER_ADDRESS):
            assert await accounts.sign_in(f"name{n}", "Winter2026!", "192.0.2.1") is None
        with pytest.raises(AccountError):
            await accounts.sign_in("another", "Winter2026!", "192.0.2.1")

    accounts_run(redis_url, prefix, body)


def test_a_failed_sign_in_on_a_real_account_is_recorded_after_a_flood(console: TestClient) -> None:
    guesser = Staff(console)
    guesser.get("/staff/login")
    for n in range(25):
        guesser.post("/staff/login", {"name": f"junk{n}", "password": "x" * 12})
    guesser.post("/staff/login", {"name": "rita", "password": "not her password"})
    staff = Staff(console)
    staff.sign_in("nora")
    trail = staff.get("/staff/history").text
    assert "not recording more failed sign-ins" in trail
    assert "rita failed sign-in" in trail


def test_a_typed_name_cannot_pose_as_an_entry(console: TestClient) -> None:
    guesser = Staff(console)
    guesser.get("/staff/login")
    forged = "rob publish version 5: approved \u202e"
    guesser.post("/staff/login", {"name": forged, "password": "x" * 12})
    staff = Staff(console)
    staff.sign_in("nora")
    trail = staff.get("/staff/history").text
    assert "\u202e" not in trail
    assert "failed sign-in (typed name: &#34;rob publish version 5: approved &#34;)" in trail or (
        "failed sign-in (typed name: &quot;rob publish version 5: approved &quot;)" in trail
    )
