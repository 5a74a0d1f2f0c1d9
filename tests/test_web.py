"""Unsubscribe (RFC 8058 one-click, the page, undo), the preview and the health check."""

from __future__ import annotations

from datetime import timedelta

from starlette.testclient import TestClient

from digest import pipeline, subscribers
from digest.config import Settings
from digest.store.articles import ArticleData, upsert_article
from digest.store.db import Database
from digest.store.models import Subscriber, SubscriberStatus

from .conftest import NOW
from .web_support import check_accessible, events, h1, load, token_path

pytest_plugins = ["tests.web_support"]


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


def test_one_click_needs_no_cookie_and_sets_none(
    client: TestClient, web_settings: Settings, db: Database, subscriber_id: int
) -> None:
    client.cookies.clear()
    response = client.post(
        unsubscribe_path(web_settings, subscriber_id),
        data={"List-Unsubscribe": "One-Click"},
        headers={"Origin": "https://mail.google.com"},
    )
    assert response.status_code == 200
    assert "set-cookie" not in response.headers
    assert status_of(db, subscriber_id) == SubscriberStatus.UNSUBSCRIBED
    assert load(db, subscriber_id).status_reason == "one-click (List-Unsubscribe-Post)"


def test_page_unsubscribes_with_one_click_and_offers_undo(
    client: TestClient, web_settings: Settings, db: Database, subscriber_id: int
) -> None:
    path = unsubscribe_path(web_settings, subscriber_id)
    page = client.get(path)
    check_accessible(page.text)
    assert h1(page.text) == "KI-Morgenpost abbestellen?"
    preferences = token_path(web_settings, subscriber_id, "preferences")
    assert f'href="{preferences}"' in page.text and "Stattdessen Einstellungen" in page.text
    assert client.get(preferences).status_code == 200

    done = client.post(path, data={"List-Unsubscribe": "One-Click", "from_page": "1"})
    assert done.status_code == 200
    check_accessible(done.text)
    assert h1(done.text) == "Sie sind abgemeldet"
    assert f'action="{path}/undo"' in done.text
    assert f'href="{preferences}"' in done.text
    assert load(db, subscriber_id).status_reason == "unsubscribe page"
    # Coming back to the link later shows the same, with the undo button.
    assert f'action="{path}/undo"' in client.get(path).text

    undone = client.post(f"{path}/undo")
    assert undone.status_code == 200
    check_accessible(undone.text)
    assert h1(undone.text) == "Sie sind wieder angemeldet"
    assert f'href="{preferences}"' in undone.text
    assert status_of(db, subscriber_id) == SubscriberStatus.ACTIVE
    assert events(db, subscriber_id)[-2:] == ["unsubscribed", "resubscribed"]
    # Harmless to repeat; a GET changes nothing.
    assert client.post(f"{path}/undo").status_code == 200
    assert events(db, subscriber_id).count("resubscribed") == 1
    assert client.get(f"{path}/undo").status_code == 405


def test_undo_with_a_forged_token(
    client: TestClient, web_settings: Settings, db: Database, subscriber_id: int
) -> None:
    path = unsubscribe_path(web_settings, subscriber_id)
    client.post(path, data={"List-Unsubscribe": "One-Click"})
    forged = path[:-3] + ("abc" if not path.endswith("abc") else "xyz")
    response = client.post(f"{forged}/undo")
    assert response.status_code == 400
    assert "anna@example.com" not in response.text
    assert status_of(db, subscriber_id) == SubscriberStatus.UNSUBSCRIBED


def test_bounced_address_cannot_be_undone(
    client: TestClient, web_settings: Settings, db: Database, subscriber_id: int
) -> None:
    with db.session() as session:
        sub = session.get(Subscriber, subscriber_id)
        assert sub is not None
        subscribers.suppress(session, sub, SubscriberStatus.BOUNCED, now=NOW, reason="550")
    path = unsubscribe_path(web_settings, subscriber_id)
    page = client.get(path).text
    assert h1(page) == "Sie sind abgemeldet"
    assert "/undo" not in page and "<button" not in page
    client.post(f"{path}/undo")
    assert status_of(db, subscriber_id) == SubscriberStatus.BOUNCED


def test_pages_follow_the_subscribers_language(
    client: TestClient, web_settings: Settings, db: Database
) -> None:
    with db.session() as session:
        sub, _ = subscribers.add(session, "ben@example.com", now=NOW, language="en")
        ben = sub.id
    path = unsubscribe_path(web_settings, ben)
    page = client.get(path).text
    assert '<html lang="en">' in page
    assert h1(page) == "Unsubscribe from KI-Morgenpost?"
    assert "Change your preferences instead" in page
    # ...even when the URL asks for another one.
    assert '<html lang="en">' in client.get(f"{path}?lang=de").text
    done = client.post(path, data={"List-Unsubscribe": "One-Click", "from_page": "1"}).text
    assert h1(done) == "You are unsubscribed" and "Undo: subscribe me again" in done
    # A forged link knows no subscriber: the newsletter's language, or ?lang=.
    assert '<html lang="de">' in client.get("/unsubscribe/forged").text
    assert '<html lang="en">' in client.get("/unsubscribe/forged?lang=en").text


def test_subscriber_pages_are_not_indexed_framed_or_cached(
    client: TestClient, web_settings: Settings, subscriber_id: int
) -> None:
    for path in (
        "/subscribe",
        unsubscribe_path(web_settings, subscriber_id),
        token_path(web_settings, subscriber_id, "preferences"),
        "/unsubscribe/forged",
    ):
        response = client.get(path)
        assert '<meta name="robots" content="noindex">' in response.text
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "same-origin"
        assert response.headers["cache-control"] == "no-store"


_SUBJECTS = (
    "Hafenroboter laden Container in Hamburg",
    "Gericht stoppt Windpark vor Rügen",
    "Quantenrechner rechnet Wetter für Alpen",
    "Chipfabrik eröffnet Reinraum in Magdeburg",
)


def _store_articles(db: Database, count: int) -> None:
    with db.session() as session:
        for i in range(count):
            upsert_article(
                session,
                ArticleData(
                    canonical_url=f"https://news.example.com/a{i}",
                    url=f"https://news.example.com/a{i}",
                    # Distinct words, or the ranking would take them for one story.
                    title=f"Schlagzeile Nummer {i}: {_SUBJECTS[i % len(_SUBJECTS)]}",
                    teaser=f"Anriss zum Artikel {i}.",
                    body_html=f"<p>{_SUBJECTS[i % len(_SUBJECTS)]} {i}</p>",
                    body_text=f"{_SUBJECTS[i % len(_SUBJECTS)]} {i}",
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


def test_preview_shows_a_subscribers_variant(client: TestClient, db: Database) -> None:
    from digest import subscribers

    _store_articles(db, 4)
    with db.session() as session:
        subscriber, _ = subscribers.add(session, "anna@example.com", now=NOW)
        subscriber.muted_sources = ["Techblick"]
    page = client.get("/", params={"subscriber": "anna@example.com"})
    assert page.status_code == 200
    # Every stored article is from the muted source: Anna's variant falls back
    # to the full edition, and the page lists her variant and says so.
    assert "muted=Techblick" in page.text and "full edition" in page.text
    unknown = client.get("/", params={"subscriber": "nobody@example.com"})
    assert unknown.status_code == 200
    assert "no subscriber with the address nobody@example.com" in unknown.text
