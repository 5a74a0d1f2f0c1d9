"""The personalized email in a real browser: desktop width and a phone.

These catch what string checks cannot: horizontal scrolling on a phone, an
image wider than the screen, text too small to read, links hidden or too
small to tap. Screenshots land in pytest's tmp_path for a human to look at.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from digest.config import load_settings
from digest.render import DigestItem, Personalization, Renderer, personalize
from tests.browser import launch_chromium, open_html

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

DATA = Path(__file__).parent / "data"
PHONE = (375, 812)
DESKTOP = (600, 900)

# Everything the assertions need, measured in one round trip.
MEASURE = """() => {
  const visible = (el) => {
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && style.visibility !== 'hidden'
      && style.display !== 'none' && parseFloat(style.opacity) > 0;
  };
  const hidden = (el) => el.closest('[style*="display:none"]') !== null;
  const box = (el) => {
    const b = el.getBoundingClientRect();
    return {left: b.left, right: b.right, width: b.width, height: b.height};
  };
  const texts = [];
  for (const el of document.body.querySelectorAll('*')) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (own && !hidden(el) && visible(el)) {
      const size = parseFloat(getComputedStyle(el).fontSize);
      texts.push({text: el.textContent.trim().slice(0, 40), size});
    }
  }
  const images = [...document.images].map((img) => ({
    alt: img.alt, loaded: img.complete && img.naturalWidth > 0, ...box(img),
  }));
  const links = [...document.querySelectorAll('a[href]')].map((a) => ({
    href: a.getAttribute('href'), text: a.textContent.trim(), visible: visible(a), ...box(a),
  }));
  return {
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    images, links, texts,
  };
}"""


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with launch_chromium() as browser:
        yield browser


# The same six items without sections, and grouped into sections with
# "also reported by" links.
FIXTURES = ["items", "sections"]


@pytest.fixture(scope="module", params=FIXTURES)
def email_html(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    settings = load_settings(
        None, environ={"DIGEST_SECRET_KEY": "x"}, cwd=tmp_path_factory.mktemp("settings")
    )
    path = DATA / "render" / f"{request.param}.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    edition = Renderer(settings).render(
        date(2026, 11, 25), [DigestItem.from_snapshot(entry) for entry in data]
    )
    who = Personalization(
        email="anna@example.com",
        name="Anna",
        unsubscribe_url="https://news.example.com/unsubscribe?token=abc&list=ki",
        preferences_url="https://news.example.com/preferences?token=abc",
    )
    return personalize(edition, who).html


def measure(page: Page) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(MEASURE)
    return result


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop-600", "phone-375"])
def test_layout_fits_and_reads(
    chromium: Browser, email_html: str, tmp_path: Path, viewport: tuple[int, int]
) -> None:
    width, height = viewport
    with open_html(chromium, email_html, width, height) as page:
        page.screenshot(path=str(tmp_path / f"digest-{width}.png"), full_page=True)
        found = measure(page)

    assert found["innerWidth"] == width
    assert found["scrollWidth"] <= found["innerWidth"], "horizontal scrolling"

    assert len(found["images"]) == 4
    for image in found["images"]:
        assert image["loaded"], image
        assert image["alt"], image
        assert image["left"] >= 0 and image["right"] <= width + 0.5, image
        if width == PHONE[0]:
            assert image["width"] >= width - 2 * 24 - 1, "images fill the phone's width"

    links = found["links"]
    hrefs = {link["href"] for link in links}
    assert "https://news.example.com/unsubscribe?token=abc&list=ki" in hrefs
    assert "https://news.example.com/preferences?token=abc" in hrefs
    for link in links:
        assert link["visible"], link
        assert link["left"] >= 0 and link["right"] <= width + 0.5, link
    # Text links are tall enough to hit with a thumb.
    for link in links:
        if link["text"]:
            assert link["height"] >= 24, link
    footer = [
        link
        for link in links
        if "example.com/unsubscribe" in link["href"] or "preferences" in link["href"]
    ]
    assert all(link["height"] >= 40 for link in footer), footer

    assert found["texts"], "no visible text"
    small = [text for text in found["texts"] if text["size"] < 14]
    assert not small, f"text below 14px: {small}"
    if width == PHONE[0]:
        teaser_sizes = [t["size"] for t in found["texts"] if t["text"].startswith("Nach mehr als")]
        assert teaser_sizes and min(teaser_sizes) >= 16

    if "Auch berichtet von:" in email_html:
        # The links checked above include the "also reported by" ones.
        assert any(link["text"] == "Zeit Online" for link in links)
        shown = [t["text"] for t in found["texts"]]
        for heading in ("Top-Themen", "Wirtschaft & Finanzen", "Weitere Meldungen"):
            assert heading in shown, heading


def test_screenshots_are_written(chromium: Browser, email_html: str, tmp_path: Path) -> None:
    for width, height in (DESKTOP, PHONE):
        with open_html(chromium, email_html, width, height) as page:
            path = tmp_path / f"viewport-{width}.png"
            page.screenshot(path=str(path))
        assert path.stat().st_size > 1000
