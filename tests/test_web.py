from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from starlette.testclient import TestClient

from digest import pipeline, subscribers
from digest.config import Settings, load_settings
from digest.store.articles import ArticleData, upsert_article
from digest.store.db import Database
from digest.store.models import Subscriber, SubscriberStatus

from .conftest import NOW


@pytest.fixture
def web_settings(settings: Settings) -> Settings:
    env = {
        "DIGEST__DATABASE__URL": settings.database.url,
        "DIGEST__NEWSLETTER__BASE_URL": "https://news.example.com",
        "DIGEST_SECRET_KEY": "test-secret",
    }
    return load_settings(None, environ=env, cwd=settings.base_dir)


@pytest.fixture
def client(web_settings: Settings, db: Database) -> Iterator[TestClient]:
    from digest.web import create_app

    app = create_app(web_settings, db=db, clock=lambda: NOW)
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def subscriber_id(db: Database) -> int:
    with db.session() as session:
        sub, _ = subscribers.add(session, "anna@example.com", now=NOW, name="Anna")
        return sub.id


def status_of(db: Database, subscriber_id: int) -> str:
    with db.session() as session:
        sub = session.get(Subscriber, subscriber_id)
        assert sub is not None
        return sub.status


def unsubscribe_path(settings: Settings, subscriber_id: int) -> str:
    return f"/unsubscribe/{pipeline.signer_for(settings).sign(subscriber_id, 'unsubscribe')}"


def test_one_click_post_form_encoded(
    client: TestClient, web_settings: Settings, db: Database, subscriber_id: int
) -> None:
    path = unsubscribe_path(web_settings, subscriber_id)
    # Exactly what Gmail sends: no cookies, form-encoded body.
    response = client.post(
        path,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200
    assert "location" not in response.headers
    assert status_of(db, subscriber_id) == SubscriberStatus.UNSUBSCRIBED
    # Repeating it is harmless.
    again = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert again.status_code == 200


def test_one_click_post_multipart(
    client: TestClient, web_settings: Settings, db: Database, subscriber_id: int
) -> None:
    path = unsubscribe_path(web_settings, subscriber_id)
    response = client.post(path, files={"List-Unsubscribe": (None, "One-Click")})
    assert response.status_code == 200
    assert status_of(db, subscriber_id) == SubscriberStatus.UNSUBSCRIBED


def test_get_shows_a_page_with_one_button_and_changes_nothing(
    client: TestClient, web_settings: Settings, db: Database, subscriber_id: int
) -> None:
    path = unsubscribe_path(web_settings, subscriber_id)
    page = client.get(path)
    assert page.status_code == 200
    assert "anna@example.com" in page.text
    assert page.text.count("<button") == 1
    assert 'lang="de"' in page.text and "Abmelden" in page.text
    # Link scanners fetch with GET: that must not unsubscribe anyone.
    assert status_of(db, subscriber_id) == SubscriberStatus.ACTIVE
    done = client.post(path, data={"List-Unsubscribe": "One-Click", "from_page": "1"})
    assert done.status_code == 200
    assert "anna@example.com" in done.text
    assert status_of(db, subscriber_id) == SubscriberStatus.UNSUBSCRIBED


def test_forged_and_foreign_tokens_reveal_nothing(
    client: TestClient, web_settings: Settings, db: Database, subscriber_id: int
) -> None:
    good = unsubscribe_path(web_settings, subscriber_id)
    forged = good[:-3] + ("abc" if not good.endswith("abc") else "xyz")
    preferences_token = pipeline.signer_for(web_settings).sign(subscriber_id, "preferences")
    for path in (forged, f"/unsubscribe/{preferences_token}", "/unsubscribe/nonsense"):
        assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 400
        page = client.get(path)
        assert page.status_code == 400
        assert "anna@example.com" not in page.text
    assert status_of(db, subscriber_id) == SubscriberStatus.ACTIVE
    # A valid token for a purged subscriber looks exactly like a forged one.
    with db.session() as session:
        subscribers.remove(session, "anna@example.com", now=NOW, purge=True)
    purged = client.get(good)
    assert purged.status_code == 400
    assert purged.text == client.get(forged).text


def test_post_without_the_one_click_body_is_refused(
    client: TestClient, web_settings: Settings, db: Database, subscriber_id: int
) -> None:
    response = client.post(unsubscribe_path(web_settings, subscriber_id), data={"other": "x"})
    assert response.status_code == 400
    assert status_of(db, subscriber_id) == SubscriberStatus.ACTIVE


def test_preferences_page(client: TestClient, web_settings: Settings, subscriber_id: int) -> None:
    token = pipeline.signer_for(web_settings).sign(subscriber_id, "preferences")
    page = client.get(f"/preferences/{token}")
    assert page.status_code == 200
    assert "anna@example.com" in page.text
    assert "/unsubscribe/" in page.text


def _store_articles(db: Database, count: int) -> None:
    with db.session() as session:
        for i in range(count):
            upsert_article(
                session,
                ArticleData(
                    canonical_url=f"https://news.example.com/a{i}",
                    url=f"https://news.example.com/a{i}",
                    title=f"Schlagzeile Nummer {i}",
                    teaser=f"Anriss zum Artikel {i}.",
                    body_html=f"<p>Text {i}</p>",
                    body_text=f"Text {i}",
                    published_at=NOW - timedelta(hours=i + 1),
                    content_hash=str(i),
                    source="Techblick",
                ),
                now=NOW,
            )


def test_preview_shows_subject_preheader_text_and_html(client: TestClient, db: Database) -> None:
    _store_articles(db, 3)
    page = client.get("/")
    assert page.status_code == 200
    assert (
        'id="subject"' in page.text and 'id="preheader"' in page.text and 'id="text"' in page.text
    )
    assert "Schlagzeile Nummer 0" in page.text
    assert "draft" in page.text
    html = client.get("/preview/html")
    assert html.status_code == 200 and "<html" in html.text and "Schlagzeile Nummer 2" in html.text
    text = client.get("/preview/text")
    assert text.headers["content-type"].startswith("text/plain")
    assert "Anriss zum Artikel 1." in text.text
    phone = client.get("/?width=375")
    assert 'style="width: 375px"' in phone.text
    assert client.get("/preview/other").status_code == 404


def test_bad_preview_date_is_a_400_that_says_why(client: TestClient) -> None:
    response = client.get("/?date=25.11.2026")
    assert response.status_code == 400
    assert "YYYY-MM-DD" in response.text


def test_health(client: TestClient) -> None:
    assert client.get("/healthz").text == "ok"
