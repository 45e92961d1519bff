"""Headless Chromium for the dashboard's tests, driven by Playwright. Playwright's own browser download cannot
be reached from these machines, so it drives Debian's `chromium` (make test installs it when missing)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = os.environ.get("C360_CHROMIUM", "/usr/bin/chromium")


def chromium_path() -> str:
    found = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if found is None:
        pytest.fail(f"no Chromium at {CHROMIUM} or on PATH: the browser tests drive Debian's chromium package "
                    "(apt-get install chromium; make test installs it), or set C360_CHROMIUM")  # fmt: skip
    return found


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        yield browser
        browser.close()


@dataclass
class Tab:
    """A browser tab that keeps every console error and uncaught exception it sees."""

    page: Page
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))


def screenshots() -> Path | None:
    """Where the browser tests save each page's picture: C360_SCREENSHOTS (make screenshots: docs/img)."""
    folder = os.environ.get("C360_SCREENSHOTS")
    return Path(folder) if folder else None
