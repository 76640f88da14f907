"""A page on the same site cannot frame the signed-in console (security review F-9: H04).

SameSite=Strict keeps the cookie out of cross-site frames, but another port or a sibling host
of the same site is same-site: the console must refuse to be framed at all."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chromium import CHROMIUM
from tests.helpers.console import PASSWORD
from tests.helpers.processes import ServerProcess
from tests.helpers.redis_server import free_port

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium"),
]


@pytest.fixture
def framing_site(
    tmp_path: Path, servers: tuple[ServerProcess, ServerProcess]
) -> Iterator[tuple[str, str]]:
    console = servers[0].base
    (tmp_path / "index.html").write_text(
        f'<!doctype html><iframe id="f" src="{console}/staff/" width="900" height="600"></iframe>'
    )
    port = free_port()
    site = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)
    yield console, f"http://127.0.0.1:{port}/"
    site.terminate()
    site.wait(timeout=10)


def test_the_signed_in_console_will_not_show_in_a_same_site_frame(
    framing_site: tuple[str, str],
) -> None:
    from playwright.sync_api import sync_playwright

    console, attacker = framing_site
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(f"{console}/staff/")
            page.fill("#name", "rita")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_selector("text=Sign out")  # signed in, in this browser

            page.goto(attacker)
            page.wait_for_timeout(1500)
            framed = [frame for frame in page.frames if frame != page.main_frame]
            assert framed, "the frame was not even created"
            for frame in framed:
                assert "/staff" not in frame.url or frame.locator("text=Sign out").count() == 0
        finally:
            browser.close()
