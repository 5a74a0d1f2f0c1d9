"""A reader's whole journey in a real browser, against the real server.

uvicorn serves the app on 127.0.0.1 (outbox delivery, SQLite in tmp_path);
Debian's chromium, at phone width, fills in the sign-up form, opens the link
from the confirmation email and confirms; then an edition built from the
shipped samples is sent, and the unsubscribe link in that email's footer is
clicked. Screenshots of every page land in tmp_path.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from digest import editions, ingest, pipeline, samples
from digest.config import Settings, load_settings
from digest.store.db import Database
from digest.store.models import SubscriberStatus
from digest.web.protection import MIN_FILL_TIME
from tests.browser import launch_chromium, open_html
from tests.conftest import NOW
from tests.web_support import confirm_link, find, parts, read_eml, with_topics

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, ViewportSize

pytestmark = pytest.mark.browser

PHONE: ViewportSize = {"width": 375, "height": 812}
TOPICS = ("KI", "Chips", "Politik")


class RunningClock:
    """The test's date, with real seconds passing (the form's fill time is real)."""

    def __init__(self, start: datetime) -> None:
        self._start = start
        self._t0 = time.monotonic()

    def __call__(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._t0)


@dataclass
class Site:
    url: str
    settings: Settings
    db: Database
    clock: RunningClock


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    import uvicorn

    from digest.web import create_app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    env = {
        "DIGEST__DATABASE__URL": f"sqlite:///{tmp_path / 'digest.db'}",
        "DIGEST__NEWSLETTER__BASE_URL": url,
        "DIGEST__DELIVERY__BACKEND": "outbox",
        "DIGEST_SECRET_KEY": "browser-secret",
    }
    settings = with_topics(load_settings(None, environ=env, cwd=tmp_path), TOPICS)
    db = Database(settings.database_url)
    clock = RunningClock(NOW)
    app = create_app(settings, db=db, clock=clock)
    config = uvicorn.Config(app, log_level="warning", lifespan="off", ws="none", http="h11")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield Site(url, settings, db, clock)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        db.dispose()


@pytest.fixture
def browser() -> Iterator[Browser]:
    with launch_chromium() as chromium:
        yield chromium


def layout(page: Page) -> dict[str, Any]:
    found: dict[str, Any] = page.evaluate(
        """() => ({
        scrollWidth: document.documentElement.scrollWidth,
        innerWidth: window.innerWidth,
        h1: [...document.querySelectorAll('h1')].map((h) => h.textContent.trim()),
        lang: document.documentElement.lang,
        smallText: [...document.querySelectorAll('p, label, button, a, legend')]
          .filter((el) => el.offsetWidth > 0 && parseFloat(getComputedStyle(el).fontSize) < 14)
          .map((el) => el.textContent.trim().slice(0, 40)),
        smallTargets: [...document.querySelectorAll('button, input:not([type=hidden]), select')]
          .filter((el) => el.offsetWidth > 0 && !el.closest('.hp'))
          .filter((el) => el.getBoundingClientRect().height < 22)
          .map((el) => el.name || el.id),
      })"""
    )
    return found


def check_page(page: Page, shots: Path, name: str, *, lang: str) -> dict[str, Any]:
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    found = layout(page)
    assert found["scrollWidth"] <= found["innerWidth"], f"{name}: horizontal scrolling"
    assert len(found["h1"]) == 1, found["h1"]
    assert found["lang"] == lang
    assert not found["smallText"], found["smallText"]
    assert not found["smallTargets"], found["smallTargets"]
    return found


def test_sign_up_confirm_receive_and_unsubscribe(
    site: Site, browser: Browser, tmp_path: Path
) -> None:
    shots = tmp_path / "screenshots"
    shots.mkdir()
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()

    # 1. The form, in German (the newsletter's language).
    page.goto(f"{site.url}/subscribe")
    opened = time.monotonic()
    found = check_page(page, shots, "1-subscribe", lang="de")
    assert found["h1"] == ["KI-Morgenpost abonnieren"]
    # The honeypot is off-screen (and aria-hidden); the focus ring is visible.
    trap = page.locator("#website").bounding_box()
    assert trap is not None and trap["x"] + trap["width"] <= 0
    page.locator("#email").focus()
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"

    # 2. Fill it in like a person, by the labels.
    page.get_by_label("E-Mail-Adresse").fill("lena@example.com")
    page.get_by_label("Name").fill("Lena")
    page.get_by_label("Sprache des Newsletters").select_option("en")
    page.get_by_label("KI", exact=True).check()
    page.screenshot(path=str(shots / "2-filled.png"), full_page=True)
    time.sleep(max(0.0, MIN_FILL_TIME.total_seconds() + 0.5 - (time.monotonic() - opened)))
    page.get_by_role("button", name="Abonnieren").click()
    page.wait_for_load_state()
    found = check_page(page, shots, "3-check-inbox", lang="de")
    assert found["h1"] == ["Bitte sehen Sie in Ihr Postfach"]
    subscriber = find(site.db, "lena@example.com")
    assert subscriber is not None and subscriber.status == SubscriberStatus.PENDING
    assert subscriber.language == "en" and subscriber.topics == ["KI"]
    assert subscriber.consent_ip == "127.0.0.1"

    # 3. The confirmation email (English, as chosen), its link, the button.
    emails = sorted((site.settings.outbox_dir / "messages").glob("*.eml"))
    assert len(emails) == 1
    confirmation = read_eml(emails[0])
    link = confirm_link(confirmation)
    assert link.startswith(f"{site.url}/confirm/")
    with open_html(browser, parts(confirmation)[1], PHONE["width"], PHONE["height"]) as mail:
        mail.screenshot(path=str(shots / "3b-confirmation-email.png"), full_page=True)
        width = mail.evaluate("() => document.documentElement.scrollWidth")
        assert width <= PHONE["width"], "the email scrolls sideways on a phone"
        assert mail.get_by_role("link", name="Confirm subscription").first.is_visible()
    page.goto(link)
    found = check_page(page, shots, "4-confirm", lang="en")
    assert found["h1"] == ["Confirm your subscription"]
    assert find(site.db, "lena@example.com").status == SubscriberStatus.PENDING  # type: ignore[union-attr]
    page.get_by_role("button", name="Confirm subscription").click()
    page.wait_for_load_state()
    found = check_page(page, shots, "5-subscribed", lang="en")
    assert found["h1"] == ["You're subscribed"]
    subscriber = find(site.db, "lena@example.com")
    assert subscriber is not None and subscriber.status == SubscriberStatus.ACTIVE
    assert subscriber.confirmed_ip == "127.0.0.1"
    page.get_by_role("link", name="Choose topics, time zone and delivery time").click()
    page.wait_for_load_state()
    check_page(page, shots, "5b-preferences", lang="en")
    assert page.get_by_label("KI", exact=True).is_checked()
    page.get_by_label("Time zone").select_option("Europe/Vienna")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    assert page.get_by_role("status").inner_text() == "Your preferences have been saved."
    assert find(site.db, "lena@example.com").timezone == "Europe/Vienna"  # type: ignore[union-attr]

    # 4. An edition from the shipped samples goes out.
    now = site.clock()
    files = samples.write_samples(tmp_path / "samples", now=now, base_url=site.url)
    ingest.ingest([str(f) for f in files], site.db, now=now, default_tz=site.settings.newsletter.tz)
    newsletter_date = editions.local_date(now, site.settings)
    report = pipeline.send(site.db, site.settings, newsletter_date, clock=site.clock)
    assert report.sent == 1
    digest_email = read_eml(
        site.settings.outbox_dir
        / newsletter_date.isoformat()
        / f"{subscriber.id}-lena@example.com.eml"
    )
    _, html_body = parts(digest_email)
    footer = re.findall(r'<a href="([^"]+)"[^>]*>Unsubscribe</a>', html_body)
    assert len(footer) == 1
    assert footer[0].startswith(f"{site.url}/unsubscribe/")
    assert f"<{footer[0]}>" in digest_email["List-Unsubscribe"]

    # 5. The footer link: one button, and done.
    page.goto(footer[0])
    found = check_page(page, shots, "6-unsubscribe", lang="en")
    assert found["h1"] == ["Unsubscribe from KI-Morgenpost?"]
    assert page.get_by_role("button").count() == 1
    page.get_by_role("button", name="Unsubscribe").click()
    page.wait_for_load_state()
    found = check_page(page, shots, "7-unsubscribed", lang="en")
    assert found["h1"] == ["You are unsubscribed"]
    assert page.get_by_role("button", name="Undo: subscribe me again").is_visible()
    gone = find(site.db, "lena@example.com")
    assert gone is not None and gone.status == SubscriberStatus.UNSUBSCRIBED
    assert gone.status_reason == "unsubscribe page"

    # 6. The preferences page at phone width, too.
    page.get_by_role("link", name="Manage preferences").click()
    page.wait_for_load_state()
    check_page(page, shots, "8-preferences", lang="en")
    context.close()
