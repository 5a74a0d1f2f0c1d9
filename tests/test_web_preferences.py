"""The preferences page: each field, validation, pause and resume, unsubscribe and back."""

from __future__ import annotations

import re
from typing import Any

import pytest
from starlette.testclient import TestClient

from digest import subscribers
from digest.config import Settings
from digest.store.db import Database
from digest.store.models import Subscriber, SubscriberStatus

from .conftest import NOW
from .web_support import check_accessible, element_text, events, h1, load, token_path

pytest_plugins = ["tests.web_support"]

FULL_FORM = {
    "action": "save",
    "name": "Anna",
    "language": "de",
    "timezone": "",
    "delivery_time": "",
}


def preferences_path(settings: Settings, subscriber_id: int) -> str:
    return token_path(settings, subscriber_id, "preferences")


def save(client: TestClient, path: str, **changes: Any) -> Any:
    return client.post(path, data={**FULL_FORM, **changes})


def selected(page: str, select_id: str) -> list[str]:
    match = re.search(rf'<select id="{select_id}".*?</select>', page, re.S)
    assert match, select_id
    return re.findall(r'<option value="([^"]*)"[^>]* selected', match.group(0))


def test_page_shows_the_current_preferences(
    client: TestClient, web_settings: Settings, subscriber_id: int
) -> None:
    page = client.get(preferences_path(web_settings, subscriber_id))
    assert page.status_code == 200
    check_accessible(page.text)
    text = page.text
    assert h1(text) == "Ihr Abonnement"
    assert "anna@example.com erhält KI-Morgenpost." in text
    assert 'id="name" name="name"' in text and 'value="Anna"' in text
    assert selected(text, "language") == ["de"]
    assert "<legend>Themen</legend>" in text
    assert selected(text, "timezone") == [""]
    assert "Die des Newsletters (Europe/Berlin)" in text
    # Common European zones first, then all of them.
    zones = re.findall(r'<option value="([A-Z][^"]+/[^"]+)"', text)
    assert zones[0] == "Europe/Berlin"
    assert "America/New_York" in zones and "US/Eastern" not in zones
    assert selected(text, "delivery_time") == [""]
    assert "Mit dem Newsletter (06:30)" in text
    times = re.findall(r'<option value="(\d\d:\d\d)"', text)
    assert times[:3] == ["00:00", "00:30", "01:00"] and len(times) == 48
    for action in ("save", "pause", "unsubscribe"):
        assert f'name="action" value="{action}"' in text
    assert 'value="resume"' not in text


@pytest.mark.parametrize(
    ("field", "value", "stored"),
    [
        ("name", "Anna Beispiel", "Anna Beispiel"),
        ("name", "", None),
        ("language", "en", "en"),
        ("topics", ["Wirtschaft", "Politik"], ["Politik", "Wirtschaft"]),
        ("timezone", "Europe/Vienna", "Europe/Vienna"),
        ("timezone", "America/New_York", "America/New_York"),
        ("delivery_time", "07:30", "07:30"),
    ],
)
def test_save_each_field(
    client: TestClient,
    web_settings: Settings,
    db: Database,
    subscriber_id: int,
    field: str,
    value: Any,
    stored: Any,
) -> None:
    path = preferences_path(web_settings, subscriber_id)
    response = save(client, path, **{field: value})
    assert response.status_code == 303
    assert response.headers["location"] == f"{path}?done=saved"
    assert getattr(load(db, subscriber_id), field) == stored
    assert events(db, subscriber_id)[-1] == "preferences_changed"
    page = client.get(response.headers["location"]).text
    expected = "Your preferences" if stored == "en" else "Ihre Einstellungen wurden gespeichert."
    assert f'<p class="notice" role="status">{expected}' in page
    if field in ("timezone", "delivery_time", "language"):
        assert selected(page, field) == [value]


def test_saving_unchanged_records_nothing(
    client: TestClient, web_settings: Settings, db: Database, subscriber_id: int
) -> None:
    before = events(db, subscriber_id)
    save(client, preferences_path(web_settings, subscriber_id))
    assert events(db, subscriber_id) == before


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("delivery_time", "25:00", "Bitte wählen Sie eine Zustellzeit aus der Liste."),
        ("delivery_time", "7 Uhr", "Bitte wählen Sie eine Zustellzeit aus der Liste."),
        ("topics", ["Sport"], "Bitte wählen Sie aus den Themen in der Liste."),
        ("timezone", "Mars/Olympus", "Bitte wählen Sie eine Zeitzone aus der Liste."),
        ("language", "fr", "Bitte wählen Sie eine der Sprachen aus der Liste."),
        ("name", "x" * 201, "Bitte geben Sie einen kürzeren Namen ein."),
    ],
)
def test_invalid_values_show_the_error_and_save_nothing(
    client: TestClient,
    web_settings: Settings,
    db: Database,
    subscriber_id: int,
    field: str,
    value: Any,
    message: str,
) -> None:
    path = preferences_path(web_settings, subscriber_id)
    before = events(db, subscriber_id)
    # Another field changed at the same time is not saved either.
    other = "language" if field != "language" else "name"
    response = save(client, path, **{field: value, other: "en" if other == "language" else "Bob"})
    assert response.status_code == 400
    check_accessible(response.text)
    assert element_text(response.text, f"{field}-error") == message
    assert re.search(rf'aria-describedby="[^"]*{field}-error', response.text)
    assert "Es wurde nichts gespeichert" in response.text
    assert events(db, subscriber_id) == before
    sub = load(db, subscriber_id)
    assert (sub.language, sub.name) == (None, "Anna")


def test_pause_and_resume(
    client: TestClient, web_settings: Settings, db: Database, subscriber_id: int
) -> None:
    path = preferences_path(web_settings, subscriber_id)
    paused = client.post(path, data={"action": "pause"})
    assert paused.status_code == 303
    assert load(db, subscriber_id).status == SubscriberStatus.PAUSED
    page = client.get(paused.headers["location"]).text
    assert "Der Newsletter ist pausiert" in page
    assert "Ihr Abonnement ruht" in page
    assert 'name="action" value="resume"' in page and 'value="pause"' not in page
    # The form still works while paused.
    save(client, path, delivery_time="08:00")
    assert load(db, subscriber_id).delivery_time == "08:00"
    resumed = client.post(path, data={"action": "resume"})
    assert load(db, subscriber_id).status == SubscriberStatus.ACTIVE
    assert "Willkommen zurück" in client.get(resumed.headers["location"]).text
    assert events(db, subscriber_id)[-3:] == ["paused", "preferences_changed", "resumed"]


def test_unsubscribe_and_come_back(
    client: TestClient, web_settings: Settings, db: Database, subscriber_id: int
) -> None:
    path = preferences_path(web_settings, subscriber_id)
    gone = client.post(path, data={"action": "unsubscribe"})
    assert gone.status_code == 303
    sub = load(db, subscriber_id)
    assert (sub.status, sub.status_reason) == (SubscriberStatus.UNSUBSCRIBED, "preferences page")
    page = client.get(gone.headers["location"]).text
    check_accessible(page)
    assert "anna@example.com ist abgemeldet" in page
    assert 'value="resubscribe"' in page
    assert 'name="delivery_time"' not in page  # no form for someone who left
    # Saving is not possible while unsubscribed.
    save(client, path, name="Mallory")
    assert load(db, subscriber_id).name == "Anna"
    back = client.post(path, data={"action": "resubscribe"})
    assert load(db, subscriber_id).status == SubscriberStatus.ACTIVE
    assert "Sie sind wieder angemeldet." in client.get(back.headers["location"]).text


def test_bounced_subscriber_is_told_why(
    client: TestClient, web_settings: Settings, db: Database, subscriber_id: int
) -> None:
    with db.session() as session:
        sub = session.get(Subscriber, subscriber_id)
        assert sub is not None
        subscribers.suppress(session, sub, SubscriberStatus.COMPLAINED, now=NOW, reason="spam")
    path = preferences_path(web_settings, subscriber_id)
    page = client.get(path).text
    assert "als Spam gemeldet" in page and 'href="/subscribe?lang=de"' in page
    client.post(path, data={"action": "resubscribe"})
    assert load(db, subscriber_id).status == SubscriberStatus.COMPLAINED


def test_unknown_action_changes_nothing(
    client: TestClient, web_settings: Settings, db: Database, subscriber_id: int
) -> None:
    before = events(db, subscriber_id)
    response = client.post(preferences_path(web_settings, subscriber_id), data={"action": "drop"})
    assert response.status_code == 200
    assert events(db, subscriber_id) == before


def test_forged_and_pending_tokens_reveal_nothing(
    client: TestClient, web_settings: Settings, db: Database, subscriber_id: int
) -> None:
    good = preferences_path(web_settings, subscriber_id)
    forged = good[:-3] + ("abc" if not good.endswith("abc") else "xyz")
    unsubscribe_token = token_path(web_settings, subscriber_id, "unsubscribe").split("/")[-1]
    reference = client.get(forged)
    assert reference.status_code == 400
    for path in (forged, f"/preferences/{unsubscribe_token}", "/preferences/nonsense"):
        for response in (client.get(path), client.post(path, data={"action": "unsubscribe"})):
            assert response.status_code == 400
            assert response.text == reference.text
            assert "anna@example.com" not in response.text
    assert load(db, subscriber_id).status == SubscriberStatus.ACTIVE
    with db.session() as session:
        pending = Subscriber(
            email="p@example.com",
            status=SubscriberStatus.PENDING,
            source="web form",
            topics=[],
            created_at=NOW,
            updated_at=NOW,
        )
        session.add(pending)
        session.flush()
        pending_id = pending.id
    assert client.get(preferences_path(web_settings, pending_id)).text == reference.text


def test_page_in_the_subscribers_language(
    client: TestClient, web_settings: Settings, db: Database
) -> None:
    with db.session() as session:
        sub, _ = subscribers.add(
            session, "ben@example.com", now=NOW, language="en", timezone="Europe/London"
        )
        ben = sub.id
    page = client.get(preferences_path(web_settings, ben)).text
    check_accessible(page)
    assert '<html lang="en">' in page and h1(page) == "Your subscription"
    assert selected(page, "timezone") == ["Europe/London"]
    assert "With the newsletter (06:30)" in page
    # Switching to German: the next page is German.
    response = save(
        client, preferences_path(web_settings, ben), language="de", timezone="Europe/London"
    )
    page = client.get(response.headers["location"]).text
    assert '<html lang="de">' in page and "Ihre Einstellungen wurden gespeichert." in page
    assert (load(db, ben).language, load(db, ben).timezone) == ("de", "Europe/London")


def test_mute_sources_offered_from_recent_articles(
    client: TestClient, web_settings: Settings, db: Database, subscriber_id: int
) -> None:
    from datetime import timedelta

    from digest.store.articles import ArticleData, upsert_article

    with db.session() as session:
        for n, (source, age) in enumerate([("Netzpuls", 2), ("Chipwelt", 5), ("Altblatt", 90)]):
            upsert_article(
                session,
                ArticleData(
                    canonical_url=f"https://example.com/{n}",
                    url=f"https://example.com/{n}",
                    title=f"Artikel {n}",
                    teaser="",
                    body_html="",
                    body_text="",
                    published_at=NOW - timedelta(days=age),
                    content_hash=str(n),
                    source=source,
                ),
                now=NOW,
            )
    path = preferences_path(web_settings, subscriber_id)
    page = client.get(path).text
    assert "<legend>Quellen, die Sie nicht lesen möchten</legend>" in page
    offered = re.findall(r'name="muted_sources" value="([^"]+)"', page)
    # Sources of the last 30 days only.
    assert offered == ["Chipwelt", "Netzpuls"]

    assert save(client, path, muted_sources=["Netzpuls"]).status_code == 303
    assert load(db, subscriber_id).muted_sources == ["Netzpuls"]
    assert 'value="Netzpuls" checked' in client.get(path).text

    refused = save(client, path, muted_sources=["Erfunden"])
    assert refused.status_code == 400
    assert "Bitte wählen Sie Quellen aus der Liste." in refused.text
    assert load(db, subscriber_id).muted_sources == ["Netzpuls"]

    # Unticking them all clears the mutes.
    assert save(client, path).status_code == 303
    assert load(db, subscriber_id).muted_sources == []
