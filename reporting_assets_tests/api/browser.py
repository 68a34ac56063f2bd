"""Helpers of the browser tests: where the system Chromium is, how Playwright starts it on a
machine without network, signing in, and where screenshots go."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM_ENV = "REPORTING_CHROMIUM"
SCREENSHOTS_ENV = "REPORTING_SCREENSHOTS_DIR"
LAUNCH_ARGS = [
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
"""The system Chromium headless, with nothing reaching out to the internet by itself."""
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def chromium_path() -> str:
    """The system Chromium (Debian's ``chromium``; ``REPORTING_CHROMIUM`` to use another).
    Outside CI a machine without it skips the browser tests; in CI (``CI`` set) they must run,
    so a missing browser fails them."""
    path = os.environ.get(CHROMIUM_ENV) or shutil.which("chromium") or shutil.which("chromium-browser")
    if path and Path(path).is_file():
        return path
    message = (
        "the browser tests need the system Chromium: `apt-get install chromium` (Debian/Ubuntu), or set "
        f"{CHROMIUM_ENV} to a Chromium or Chrome binary"
    )
    if os.environ.get("CI"):
        pytest.fail(f"CI: {message}")
    pytest.skip(message)


def screenshots_dir(basetemp: Path) -> Path:
    """``REPORTING_SCREENSHOTS_DIR`` when set, else ``screenshots/`` under pytest's basetemp."""
    folder = Path(os.environ.get(SCREENSHOTS_ENV) or basetemp / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextmanager
def signed_in(client: httpx.Client, token: str) -> Iterator[httpx.Client]:
    """``client``, opened and signed in to the pages with ``token`` (the sign-in form, with its
    CSRF cookie); closed afterwards."""
    with client:
        client.get("/sign-in")
        response = client.post("/sign-in", data={"csrf": csrf_of(client), "token": token, "next": "/"})
        assert response.status_code == 303, response.text
        yield client


def csrf_of(client: httpx.Client) -> str:
    return str(client.cookies["ra_csrf"])


def sign_in_page(page: Any, base_url: str, token: str) -> None:
    """Sign in in the browser by pasting ``token``, as a person does."""
    page.goto(f"{base_url}/sign-in")
    page.get_by_label("Token").fill(token)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(f"{base_url}/")


UNLABELLED_JS = """() => [...document.querySelectorAll("input:not([type=hidden]), select, textarea, button")]
  .filter((el) => el.offsetParent !== null)
  .filter((el) => !(el.labels && el.labels.length))
  .filter((el) => !el.getAttribute("aria-label") && !el.textContent.trim())
  .map((el) => el.id || el.name || el.outerHTML.slice(0, 80))"""


def unlabelled_controls(page: Any) -> list[str]:
    """The visible controls of ``page`` that have no label, aria-label or text (none should)."""
    return list(page.evaluate(UNLABELLED_JS))
