"""Drive Debian's chromium through Playwright, offline.

Playwright's own browser downloads are not available here (nor wanted in CI),
so tests launch the distribution's chromium via ``executable_path``. Where it
is missing the browser tests skip, unless ``DIGEST_REQUIRE_BROWSER=1`` (set in
CI) turns the skip into a failure, so a broken CI image cannot go unnoticed.

Pages are loaded with ``set_content`` and every request leaves the machine
only in the test's imagination: images are answered with a generated PNG (so
layout is realistic), anything else to a non-loopback host is aborted.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn
from urllib.parse import urlsplit

import pytest

CHROMIUM_ENV = "DIGEST_CHROMIUM"
REQUIRE_ENV = "DIGEST_REQUIRE_BROWSER"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOOPBACK = {"localhost", "127.0.0.1", "::1"}

if TYPE_CHECKING:  # playwright is imported lazily, so a missing package skips
    from playwright.sync_api import Browser, Page, Route


def chromium_path() -> Path:
    return Path(os.environ.get(CHROMIUM_ENV) or DEFAULT_CHROMIUM)


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason} and {REQUIRE_ENV}=1", pytrace=False)
    pytest.skip(reason)


def placeholder_png(
    width: int = 1200, height: int = 675, rgb: tuple[int, int, int] = (0x9A, 0xA8, 0xB8)
) -> bytes:
    """A solid-colour PNG, built by hand so tests need no imaging library."""
    row = b"\x00" + bytes(rgb) * width
    raw = zlib.compress(row * height, 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


_PNG = placeholder_png()


def _offline(route: Route) -> None:
    request = route.request
    host = urlsplit(request.url).hostname or ""
    if request.resource_type == "image":
        route.fulfill(status=200, content_type="image/png", body=_PNG)
    elif host in LOOPBACK or request.url.startswith(("data:", "about:")):
        route.continue_()
    else:
        route.abort()


@contextmanager
def launch_chromium() -> Iterator[Browser]:
    """Headless Debian chromium; skips the test (fails under CI) if it is missing.

    Use it from a fixture, e.g. ``with launch_chromium() as browser: yield browser``.
    """
    path = chromium_path()
    if not path.is_file():
        _unavailable(f"chromium not found at {path} (set {CHROMIUM_ENV})")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(path), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def open_html(browser: Browser, html: str, width: int, height: int) -> Iterator[Page]:
    """A page of ``width`` x ``height`` showing ``html``, with the network cut off."""
    context = browser.new_context(viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        page.route("**/*", _offline)
        page.set_content(html, wait_until="load")
        yield page
    finally:
        context.close()
