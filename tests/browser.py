"""Headless Chromium (Debian's, driven by Playwright) with the network off: every request that is
not a local file is refused and recorded, so a test can assert that a page needs nothing from outside."""
from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
needs_chromium = pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")


@dataclass
class Offline:
    page: object
    refused: list[str] = field(default_factory=list)   # requests to the network
    errors: list[str] = field(default_factory=list)    # uncaught page errors and console errors


@contextmanager
def offline_page(width: int = 1400, height: int = 1000) -> Iterator[Offline]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            context = browser.new_context(viewport={"width": width, "height": height})
            page = context.new_page()
            offline = Offline(page)

            def route(r) -> None:
                if r.request.url.startswith(("file:", "data:", "blob:")):
                    r.continue_()
                else:
                    offline.refused.append(r.request.url)
                    r.abort()

            context.route("**/*", route)
            page.on("pageerror", lambda error: offline.errors.append(str(error)))
            page.on("console", lambda message: offline.errors.append(message.text) if message.type == "error" else None)
            yield offline
        finally:
            browser.close()
