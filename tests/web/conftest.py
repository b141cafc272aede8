"""Headless Chromium (Debian's, driven by Playwright) against a live server; skipped when it is absent."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def chromium_path() -> str | None:
    path = os.environ.get("OPSGRAPH_TEST_CHROMIUM") or "/usr/bin/chromium"
    return path if Path(path).exists() else None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module, closed when the module ends.

    Playwright's sync API marks the main thread's event loop as running for as long as it is open, so a
    browser kept for the whole session made every later `asyncio.run()` (the async client's tests) and
    every other `sync_playwright()` fail with "cannot be called from a running event loop".
    """
    path = chromium_path()
    if path is None:
        reason = "web page test: Chromium not found (install Debian's chromium or set OPSGRAPH_TEST_CHROMIUM)"
        print(f"SKIP {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()
