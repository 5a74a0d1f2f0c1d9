"""Protections of the sign-up form: CSRF token and cookie, Origin, honeypot, fill time, rate limit."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from starlette.testclient import TestClient

from digest.config import Settings
from digest.store.db import Database
from digest.web.protection import FORM_MAX_AGE, RateLimiter

from .conftest import NOW
from .web_support import (
    Clock,
    FormState,
    check_accessible,
    context,
    count_subscribers,
    find,
    h1,
    open_form,
    sign_up,
    submit,
)

pytest_plugins = ["tests.web_support"]


def outbox_files(settings: Settings) -> list[Path]:
    folder = settings.outbox_dir / "messages"
    return sorted(folder.glob("*.eml")) if folder.is_dir() else []


def test_csrf_protection(client: TestClient, db: Database, clock: Clock) -> None:
    form = open_form(client)
    cookie = client.cookies.get("digest_form")
    assert cookie
    refused = []
    refused.append(submit(client, FormState("", "de"), "a@example.com", clock=clock))
    refused.append(submit(client, FormState(form.token[:-2] + "xx", "de"), "a@example.com"))
    # Another browser's token (its nonce is not this browser's cookie).
    client.cookies.set("digest_form", "x" * 24, domain="news.example.com", path="/subscribe")
    refused.append(submit(client, form, "a@example.com"))
    client.cookies.set("digest_form", cookie, domain="news.example.com", path="/subscribe")
    # No cookie at all: a cross-site POST does not carry it.
    client.cookies.clear()
    refused.append(submit(client, form, "a@example.com"))
    client.cookies.set("digest_form", cookie, domain="news.example.com", path="/subscribe")
    for response in refused:
        assert response.status_code == 403
        assert 'href="/subscribe?lang=de"' in response.text
    assert count_subscribers(db) == 0
    # The real thing still works.
    assert submit(client, form, "a@example.com").status_code == 200
    assert count_subscribers(db) == 1


def test_expired_form_is_refused(client: TestClient, db: Database, clock: Clock) -> None:
    form = open_form(client)
    clock.advance(seconds=FORM_MAX_AGE.total_seconds() + 1)
    assert submit(client, form, "a@example.com").status_code == 403
    assert count_subscribers(db) == 0


def test_foreign_origin_is_refused(client: TestClient, db: Database, clock: Clock) -> None:
    form = open_form(client)
    clock.advance(seconds=5)
    data = {"form_token": form.token, "form_lang": "de", "email": "a@example.com", "language": "de"}
    for origin in ("https://evil.example.net", "null"):
        response = client.post("/subscribe", data=data, headers={"Origin": origin})
        assert response.status_code == 403
    assert count_subscribers(db) == 0
    ok = client.post("/subscribe", data=data, headers={"Origin": "https://news.example.com"})
    assert ok.status_code == 200
    assert count_subscribers(db) == 1


def test_honeypot_gets_the_normal_page_and_nothing_is_stored(
    client: TestClient, web_settings: Settings, db: Database, clock: Clock
) -> None:
    human = sign_up(client, clock, "ida@example.com")
    bot = sign_up(client, clock, "ida@example.com", website="https://spam.example")
    assert (bot.status_code, bot.text) == (human.status_code, human.text)
    other = sign_up(client, clock, "jan@example.com", website="x")
    assert other.status_code == 200 and h1(other.text) == h1(human.text)
    assert find(db, "jan@example.com") is None
    assert len(outbox_files(web_settings)) == 1


def test_too_fast_is_treated_as_a_bot(
    client: TestClient, web_settings: Settings, db: Database, clock: Clock
) -> None:
    form = open_form(client)
    clock.advance(seconds=1)
    response = submit(client, form, "kai@example.com")
    assert response.status_code == 200
    assert h1(response.text) == "Bitte sehen Sie in Ihr Postfach"
    assert count_subscribers(db) == 0
    assert outbox_files(web_settings) == []


def test_rate_limit_per_client_ip(
    client: TestClient, web_settings: Settings, db: Database, clock: Clock
) -> None:
    limit = context(client).limiter.limit
    form = open_form(client)
    clock.advance(seconds=5)
    for n in range(limit):
        assert submit(client, form, f"user{n}@example.com").status_code == 200
    blocked = submit(client, form, "one-too-many@example.com")
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    check_accessible(blocked.text)
    assert find(db, "one-too-many@example.com") is None
    # Another address is not affected...
    other = TestClient(client.app, base_url="https://news.example.com", client=("203.0.113.9", 1))
    other_form = open_form(other)
    clock.advance(seconds=5)
    assert submit(other, other_form, "elsewhere@example.com").status_code == 200
    # ...and the window slides.
    clock.advance(hours=1)
    assert submit(client, open_form(client), "later@example.com", clock=clock).status_code == 200


def test_rate_limiter_slides_and_forgets_idle_clients() -> None:
    limiter = RateLimiter(2, timedelta(hours=1))
    assert limiter.hit("a", NOW) and limiter.hit("a", NOW + timedelta(minutes=10))
    assert not limiter.hit("a", NOW + timedelta(minutes=20))
    assert limiter.retry_after("a", NOW + timedelta(minutes=20)) == 40 * 60 + 1
    # A refused hit is not counted: the first one expires on time.
    assert limiter.hit("a", NOW + timedelta(hours=1))
    limiter.SWEEP_AT = 1  # type: ignore[misc]
    limiter.hit("b", NOW)
    limiter.hit("c", NOW + timedelta(hours=3))
    assert set(limiter._hits) == {"c"}
