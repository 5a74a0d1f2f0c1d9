"""Fixtures and helpers shared by the web tests.

tests/test_web*.py load it with ``pytest_plugins`` and import its helpers too;
the helpers are imported before pytest sees it as a plugin, hence
PYTEST_DONT_REWRITE (plain asserts here; the tests' own asserts are rewritten).
"""

from __future__ import annotations

import email
import email.policy
import html
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from starlette.testclient import TestClient

from digest import pipeline, subscribers
from digest.config import Settings, load_settings
from digest.store.db import Database
from digest.store.models import Subscriber, SubscriberEvent
from digest.web.pages import WebContext
from tests.conftest import NOW

TOPICS = ("Politik", "Wirtschaft", "KI & Forschung")


class Clock:
    """The app's clock, moved by the test."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def with_topics(settings: Settings, topics: Sequence[str]) -> Settings:
    """``settings`` with its newsletter.topics replaced."""
    newsletter = settings.newsletter.model_copy(update={"topics": list(topics)})
    return settings.model_copy(update={"newsletter": newsletter})


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def web_settings(settings: Settings) -> Settings:
    env = {
        "DIGEST__DATABASE__URL": settings.database.url,
        "DIGEST__NEWSLETTER__BASE_URL": "https://news.example.com",
        "DIGEST_SECRET_KEY": "test-secret",
    }
    return with_topics(load_settings(None, environ=env, cwd=settings.base_dir), TOPICS)


@pytest.fixture
def client(web_settings: Settings, db: Database, clock: Clock) -> Iterator[TestClient]:
    from digest.web import create_app

    app = create_app(web_settings, db=db, clock=clock)
    with TestClient(app, base_url="https://news.example.com", follow_redirects=False) as test:
        yield test


def context(client: TestClient) -> WebContext:
    ctx: WebContext = client.app.state.context  # type: ignore[attr-defined]
    return ctx


@pytest.fixture
def subscriber_id(db: Database) -> int:
    with db.session() as session:
        sub, _ = subscribers.add(session, "anna@example.com", now=NOW, name="Anna")
        return sub.id


def load(db: Database, subscriber_id: int) -> Subscriber:
    with db.session() as session:
        sub = session.get(Subscriber, subscriber_id)
        assert sub is not None
        return sub


def find(db: Database, address: str) -> Subscriber | None:
    with db.session() as session:
        return subscribers.find(session, address)


def count_subscribers(db: Database) -> int:
    with db.session() as session:
        return len(subscribers.list_all(session))


def events(db: Database, subscriber_id: int) -> list[str]:
    with db.session() as session:
        rows = session.query(SubscriberEvent).filter_by(subscriber_id=subscriber_id)
        return [row.kind for row in rows.order_by(SubscriberEvent.id)]


def token_path(settings: Settings, subscriber_id: int, purpose: Any) -> str:
    return f"/{purpose}/{pipeline.signer_for(settings).sign(subscriber_id, purpose)}"


# --------------------------------------------------------------------------- HTML


def hidden_value(page: str, name: str) -> str:
    match = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', page)
    assert match, f"no hidden field {name}"
    return html.unescape(match.group(1))


def element_text(page: str, element_id: str) -> str:
    match = re.search(rf'id="{re.escape(element_id)}"[^>]*>(.*?)</', page, re.S)
    assert match, f"no element #{element_id}"
    return html.unescape(match.group(1))


def h1(page: str) -> str:
    headings = re.findall(r"<h1[^>]*>(.*?)</h1>", page, re.S)
    assert len(headings) == 1, headings
    return html.unescape(headings[0])


def check_accessible(page: str) -> None:
    """What every subscriber page promises: lang, noindex, one h1, labelled inputs."""
    assert re.search(r'<html lang="(de|en)">', page)
    assert '<meta name="robots" content="noindex">' in page
    h1(page)
    ids = set(re.findall(r'<label[^>]* for="([^"]+)"', page))
    for tag in re.findall(r"<(?:input|select)\b[^>]*>", page):
        if 'type="hidden"' in tag or 'type="checkbox"' in tag:
            continue
        input_id = re.search(r'id="([^"]+)"', tag)
        assert input_id and input_id.group(1) in ids, f"unlabelled: {tag}"
    for described in re.findall(r'aria-describedby="([^"]+)"', page):
        for target in described.split():
            assert f'id="{target}"' in page, f"aria-describedby points at nothing: {target}"


# --------------------------------------------------------------------------- sign-up


@dataclass
class FormState:
    token: str
    language: str


def open_form(client: TestClient, lang: str | None = None) -> FormState:
    response = client.get("/subscribe", params={"lang": lang} if lang else None)
    assert response.status_code == 200
    return FormState(
        hidden_value(response.text, "form_token"), hidden_value(response.text, "form_lang")
    )


def submit(
    client: TestClient,
    form: FormState,
    address: str,
    *,
    clock: Clock | None = None,
    **fields: Any,
) -> Any:
    """Post the sign-up form like a person would (after a few seconds, unless no clock)."""
    if clock is not None:
        clock.advance(seconds=5)
    data: dict[str, Any] = {
        "form_token": form.token,
        "form_lang": form.language,
        "email": address,
        "name": "",
        "language": form.language,
        "website": "",
    }
    data.update(fields)
    return client.post("/subscribe", data=data)


def sign_up(client: TestClient, clock: Clock, address: str, **fields: Any) -> Any:
    return submit(client, open_form(client), address, clock=clock, **fields)


# --------------------------------------------------------------------------- outbox


def confirmation_path(settings: Settings, subscriber_id: int, address: str) -> Path:
    return settings.outbox_dir / "messages" / f"{subscriber_id}-{address}.eml"


def read_eml(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def parts(message: EmailMessage) -> tuple[str, str]:
    """(text, html) of a multipart/alternative message."""
    text_part = message.get_body(("plain",))
    html_part = message.get_body(("html",))
    assert text_part is not None and html_part is not None
    return str(text_part.get_content()), str(html_part.get_content())


def confirm_link(message: EmailMessage) -> str:
    text, _ = parts(message)
    links = re.findall(r"https?://\S+/confirm/\S+", text)
    assert len(set(links)) == 1, links
    return str(links[0])


def path_of(url: str) -> str:
    return urlsplit(url).path
