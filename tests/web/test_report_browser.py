"""The public report form in real headless Chromium (Debian's /usr/bin/chromium)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from bastion.api.app import create_app
from bastion.guard import Guard

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium (make install adds it as root)"
)


@pytest.fixture
def server(guard: Guard) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        create_app(guard=guard), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not instance.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(timeout=10)


def test_report_form_in_chromium(server: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            page = browser.new_page()
            page.goto(f"{server}/report")
            assert page.title().startswith("Report content")
            page.select_option("#type", "take_it_down")
            page.click("button[type=submit]")
            errors = page.locator("#errors li")
            assert errors.count() >= 8
            assert page.locator("#errors").is_visible()

            page.select_option("#category", "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN")
            page.select_option("#keyword", "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN")
            page.fill("#locations", "https://pics.example/i/img-1")
            page.fill(
                "#explanation", "An AI-generated intimate image of me, posted without my consent."
            )
            page.select_option("#jurisdiction", "US")
            page.fill("#notifier_name", "Rae Requester")
            page.fill("#notifier_email", "rae@example.org")
            page.select_option("#requester_role", "individual")
            page.fill("#non_consent_statement", "I never consented to this.")
            page.fill("#signature", "Rae Requester")
            page.check("#bona_fide")
            page.click("button[type=submit]")
            assert "we received your report" in page.inner_text("h1")
            assert page.inner_text("#reference")
            assert "at the latest" in page.inner_text("#deadline")
        finally:
            browser.close()
