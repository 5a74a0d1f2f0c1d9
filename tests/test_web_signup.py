"""Sign-up form, confirmation email and double opt-in (protections: test_web_protection.py)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from starlette.testclient import TestClient

from digest.config import Settings
from digest.delivery.base import Backend, OutgoingMessage, SendResult
from digest.errors import DeliveryError
from digest.render.confirmation import Confirmation, ConfirmationRenderer
from digest.store.db import Database
from digest.store.models import SubscriberStatus
from digest.web.subscribe import consent_sentence

from .web_support import (
    TOPICS,
    Clock,
    FormState,
    check_accessible,
    confirm_link,
    confirmation_path,
    count_subscribers,
    element_text,
    events,
    find,
    h1,
    hidden_value,
    load,
    open_form,
    parts,
    path_of,
    read_eml,
    sign_up,
    submit,
    token_path,
)

pytest_plugins = ["tests.web_support"]


# --------------------------------------------------------------------------- the form


def test_form_in_german_by_default(client: TestClient) -> None:
    response = client.get("/subscribe")
    page = response.text
    assert response.status_code == 200
    check_accessible(page)
    assert '<html lang="de">' in page
    assert h1(page) == "KI-Morgenpost abonnieren"
    for label in ('for="email"', 'for="name"', 'for="language"'):
        assert label in page
    assert "<fieldset" in page and "<legend>Themen" in page
    for topic in TOPICS:
        assert f'value="{topic}"'.replace("&", "&amp;") in page
    assert '<option value="de" lang="de" selected>Deutsch</option>' in page
    # The consent sentence sits next to the button and is tied to it.
    consent = element_text(page, "consent")
    assert consent == consent_sentence("de", "KI-Morgenpost")
    assert "KI-Morgenpost" in consent and "jederzeit" in consent
    assert 'aria-describedby="consent"' in page
    # The honeypot is hidden from people and from screen readers.
    assert re.search(r'<div class="hp" aria-hidden="true">', page)
    assert 'name="website"' in page and 'tabindex="-1"' in page
    cookie = response.headers["set-cookie"]
    assert "digest_form=" in cookie
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" in cookie
    assert response.headers["x-frame-options"] == "DENY"


def test_form_in_english_on_request(client: TestClient) -> None:
    page = client.get("/subscribe?lang=en").text
    check_accessible(page)
    assert '<html lang="en">' in page
    assert h1(page) == "Subscribe to KI-Morgenpost"
    assert element_text(page, "consent") == consent_sentence("en", "KI-Morgenpost")
    assert '<option value="en" lang="en" selected>English</option>' in page
    assert 'href="/subscribe?lang=de"' in page  # the switch back
    assert client.get("/subscribe?lang=fr").text.startswith('<!doctype html>\n<html lang="de">')


def test_pages_link_to_the_form(
    client: TestClient, web_settings: Settings, subscriber_id: int
) -> None:
    page = client.get(token_path(web_settings, subscriber_id, "unsubscribe")).text
    assert 'href="/subscribe?lang=de"' in page


def test_two_tabs_share_the_cookie(client: TestClient, clock: Clock, db: Database) -> None:
    first = open_form(client)
    second = open_form(client)  # another tab: must not break the first
    assert submit(client, first, "a@example.com", clock=clock).status_code == 200
    assert submit(client, second, "b@example.com", clock=clock).status_code == 200
    assert count_subscribers(db) == 2


# --------------------------------------------------------------------------- sign-up and confirm


def test_sign_up_confirm_end_to_end(
    client: TestClient, web_settings: Settings, db: Database, clock: Clock
) -> None:
    form_page = client.get("/subscribe").text
    shown_consent = element_text(form_page, "consent")
    form = FormState(hidden_value(form_page, "form_token"), "de")
    response = submit(
        client, form, " Anna@Example.com ", clock=clock, name="Anna", topics=["Politik"]
    )
    assert response.status_code == 200
    check_accessible(response.text)
    assert h1(response.text) == "Bitte sehen Sie in Ihr Postfach"
    assert "Anna@example.com" in response.text

    sub = find(db, "Anna@example.com")  # the domain is lower-cased, the local part kept
    assert sub is not None
    assert sub.status == SubscriberStatus.PENDING
    assert (sub.name, sub.language, sub.topics, sub.source) == (
        "Anna",
        "de",
        ["Politik"],
        "web form",
    )
    # The consent record: when, from where, how, and the exact sentence shown.
    assert sub.consent_at == clock.now
    assert sub.consent_ip == "testclient"
    assert sub.consent_source == "web form"
    assert sub.consent_text == shown_consent
    assert sub.confirmation_sent_at == clock.now
    assert sub.confirmed_at is None
    assert events(db, sub.id) == ["signed_up", "confirmation_sent"]

    # The confirmation email, in the outbox.
    message = read_eml(confirmation_path(web_settings, sub.id, "Anna@example.com"))
    assert message["To"] == "Anna <Anna@example.com>"
    assert message["Subject"] == "Bitte bestätigen Sie Ihr Abonnement von KI-Morgenpost"
    assert message["List-Unsubscribe"] is None
    assert message["Message-ID"].startswith(f"<confirm.{sub.id}.")
    text, html_body = parts(message)
    link = confirm_link(message)
    assert link.startswith("https://news.example.com/confirm/")
    assert link in text and link in html_body
    assert "Abonnement bestätigen" in html_body
    assert "7 Tage" in text
    assert "ignorieren Sie diese E-Mail" in text
    assert web_settings.newsletter.postal_address in text

    # Opening the link only shows a button (link scanners open every link).
    page = client.get(path_of(link))
    assert page.status_code == 200
    check_accessible(page.text)
    assert page.text.count("<button") == 1 and "Abonnement bestätigen" in page.text
    assert load(db, sub.id).status == SubscriberStatus.PENDING

    clock.advance(minutes=3)
    confirmed = client.post(path_of(link))
    assert confirmed.status_code == 200
    check_accessible(confirmed.text)
    assert h1(confirmed.text) == "Sie sind angemeldet"
    after = load(db, sub.id)
    assert after.status == SubscriberStatus.ACTIVE
    assert after.confirmed_at == clock.now
    assert after.confirmed_ip == "testclient"
    assert events(db, sub.id)[-1] == "confirmed"

    # The page links to the preferences, which work.
    preferences = re.search(r'href="(/preferences/[^"]+)"', confirmed.text)
    assert preferences
    assert client.get(preferences.group(1)).status_code == 200

    # Again: harmless, the same page, no second event.
    again = client.post(path_of(link))
    assert again.status_code == 200
    assert events(db, sub.id).count("confirmed") == 1
    assert client.get(path_of(link)).status_code == 200


def test_sign_up_in_english(
    client: TestClient, web_settings: Settings, db: Database, clock: Clock
) -> None:
    form = open_form(client, "en")
    response = submit(client, form, "ben@example.com", clock=clock, language="en")
    assert h1(response.text) == "Please check your inbox"
    sub = find(db, "ben@example.com")
    assert sub is not None and sub.language == "en"
    assert sub.consent_text == consent_sentence("en", "KI-Morgenpost")
    message = read_eml(confirmation_path(web_settings, sub.id, "ben@example.com"))
    assert message["Subject"] == "Please confirm your subscription to KI-Morgenpost"
    text, _ = parts(message)
    assert "valid for 7 days" in text
    page = client.get(path_of(confirm_link(message)))
    assert '<html lang="en">' in page.text and "Confirm subscription" in page.text


def test_email_follows_the_chosen_language_not_the_page(
    client: TestClient, web_settings: Settings, db: Database, clock: Clock
) -> None:
    # A German form, English newsletter: the email is in English; the consent
    # text stays the German sentence the person actually read.
    sign_up(client, clock, "cem@example.com", language="en")
    sub = find(db, "cem@example.com")
    assert sub is not None
    assert sub.consent_text == consent_sentence("de", "KI-Morgenpost")
    message = read_eml(confirmation_path(web_settings, sub.id, "cem@example.com"))
    assert message["Subject"].startswith("Please confirm")


def test_expired_and_forged_confirmation_links(
    client: TestClient, web_settings: Settings, db: Database, clock: Clock
) -> None:
    sign_up(client, clock, "dora@example.com")
    sub = find(db, "dora@example.com")
    assert sub is not None
    link = path_of(
        confirm_link(read_eml(confirmation_path(web_settings, sub.id, "dora@example.com")))
    )
    forged = link[:-4] + ("AAAA" if not link.endswith("AAAA") else "BBBB")
    invalid = client.get(forged)
    assert invalid.status_code == 400
    assert 'href="/subscribe"' in invalid.text
    assert "dora@example.com" not in invalid.text
    assert client.post(forged).status_code == 400

    clock.advance(days=7, minutes=1)
    expired = client.get(link)
    assert expired.status_code == 400
    assert expired.text == invalid.text
    assert client.post(link).status_code == 400
    assert load(db, sub.id).status == SubscriberStatus.PENDING
    # An unsubscribe token is no confirmation token.
    foreign = token_path(web_settings, sub.id, "unsubscribe").replace("/unsubscribe/", "/confirm/")
    assert client.post(foreign).status_code == 400


def test_old_confirmation_link_does_not_undo_an_unsubscribe(
    client: TestClient, web_settings: Settings, db: Database, clock: Clock
) -> None:
    sign_up(client, clock, "eva@example.com")
    sub = find(db, "eva@example.com")
    assert sub is not None
    link = path_of(
        confirm_link(read_eml(confirmation_path(web_settings, sub.id, "eva@example.com")))
    )
    client.post(link)
    client.post(
        token_path(web_settings, sub.id, "unsubscribe"), data={"List-Unsubscribe": "One-Click"}
    )
    assert client.post(link).status_code == 400
    assert load(db, sub.id).status == SubscriberStatus.UNSUBSCRIBED


def test_repeated_sign_up_looks_the_same_and_mails_once_an_hour(
    client: TestClient, web_settings: Settings, db: Database, clock: Clock
) -> None:
    first = sign_up(client, clock, "finn@example.com")
    sub = find(db, "finn@example.com")
    assert sub is not None
    path = confirmation_path(web_settings, sub.id, "finn@example.com")
    first_id = read_eml(path)["Message-ID"]

    clock.advance(minutes=20)
    pending_again = sign_up(client, clock, "finn@example.com")
    assert (pending_again.status_code, pending_again.text) == (first.status_code, first.text)
    assert read_eml(path)["Message-ID"] == first_id  # no second email within the hour
    assert events(db, sub.id).count("confirmation_sent") == 1

    clock.advance(minutes=45)
    sign_up(client, clock, "finn@example.com")
    second_id = read_eml(path)["Message-ID"]
    assert second_id != first_id
    assert events(db, sub.id).count("confirmation_sent") == 2

    client.post(path_of(confirm_link(read_eml(path))))
    assert load(db, sub.id).status == SubscriberStatus.ACTIVE
    clock.advance(hours=2)
    active_again = sign_up(client, clock, "finn@example.com")
    assert (active_again.status_code, active_again.text) == (first.status_code, first.text)
    assert read_eml(path)["Message-ID"] == second_id  # subscribers get no email
    assert load(db, sub.id).status == SubscriberStatus.ACTIVE
    assert events(db, sub.id)[-1] == "signup_repeated"


def test_unsubscribed_address_can_sign_up_again(
    client: TestClient, web_settings: Settings, db: Database, clock: Clock, subscriber_id: int
) -> None:
    client.post(
        token_path(web_settings, subscriber_id, "unsubscribe"),
        data={"List-Unsubscribe": "One-Click"},
    )
    sign_up(client, clock, "anna@example.com")
    assert load(db, subscriber_id).status == SubscriberStatus.PENDING
    message = read_eml(confirmation_path(web_settings, subscriber_id, "anna@example.com"))
    client.post(path_of(confirm_link(message)))
    assert load(db, subscriber_id).status == SubscriberStatus.ACTIVE


def test_failed_confirmation_email_can_be_retried_at_once(
    client: TestClient, db: Database, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[OutgoingMessage] = []

    class Refusing(Backend):
        name = "refusing"

        def send(self, message: OutgoingMessage) -> SendResult:
            raise DeliveryError("connection refused")

    class Collecting(Backend):
        name = "collecting"

        def send(self, message: OutgoingMessage) -> SendResult:
            sent.append(message)
            return SendResult()

    monkeypatch.setattr("digest.web.subscribe.get_backend", lambda settings: Refusing())
    first = sign_up(client, clock, "gero@example.com")
    assert first.status_code == 200  # the visitor sees nothing of it
    sub = find(db, "gero@example.com")
    assert sub is not None and sub.confirmation_sent_at is None
    assert events(db, sub.id)[-1] == "confirmation_failed"

    monkeypatch.setattr("digest.web.subscribe.get_backend", lambda settings: Collecting())
    sign_up(client, clock, "gero@example.com")
    assert len(sent) == 1
    message = sent[0]
    assert message.custom_args == {"kind": "confirmation", "subscriber_id": str(sub.id)}
    assert "List-Unsubscribe" not in message.headers
    assert message.date == clock.now


# --------------------------------------------------------------------------- validation


def test_invalid_address_reshows_the_form_with_the_error(
    client: TestClient, db: Database, clock: Clock
) -> None:
    form = open_form(client)
    response = submit(client, form, "anna@", clock=clock, name="Anna", topics=["Wirtschaft"])
    assert response.status_code == 400
    page = response.text
    check_accessible(page)
    assert 'aria-invalid="true" aria-describedby="email-error"' in page
    assert "keine gültige E-Mail-Adresse" in element_text(page, "email-error")
    assert 'value="anna@"' in page and 'value="Anna"' in page
    assert 'value="Wirtschaft" checked' in page
    assert count_subscribers(db) == 0
    # Fixed at once: the form keeps its original token, so it is not "too fast".
    fixed = FormState(hidden_value(page, "form_token"), "de")
    assert submit(client, fixed, "anna@example.com").status_code == 200
    assert count_subscribers(db) == 1


def test_invalid_address_in_english(client: TestClient, clock: Clock) -> None:
    response = submit(client, open_form(client, "en"), "not an address", clock=clock)
    assert response.status_code == 400
    assert "not a valid email address" in element_text(response.text, "email-error")


@pytest.mark.parametrize(
    ("field", "value", "error_id"),
    [("topics", ["Sport"], "topics-error"), ("language", "fr", "language-error")],
)
def test_unknown_choices_are_refused(
    client: TestClient, db: Database, clock: Clock, field: str, value: object, error_id: str
) -> None:
    response = sign_up(client, clock, "hana@example.com", **{field: value})
    assert response.status_code == 400
    assert element_text(response.text, error_id)
    assert count_subscribers(db) == 0


# --------------------------------------------------------------------------- the email itself


@pytest.mark.parametrize("language", ["de", "en"])
def test_confirmation_email_parts(web_settings: Settings, language: str) -> None:
    url = "https://news.example.com/confirm/abc.def_ghi"
    rendered = ConfirmationRenderer(web_settings, language).render_confirmation(
        Confirmation(email="a&b@example.com", confirm_url=url, valid_for=timedelta(hours=48))
    )
    assert rendered.html.count(f'href="{url}"') == 2  # the button and the visible link
    assert f'lang="{language}"' in rendered.html
    assert "a&amp;b@example.com" in rendered.html and "a&b@example.com" in rendered.text
    assert url in rendered.text.splitlines()
    assert max(len(line) for line in rendered.text.splitlines()) <= 72
    assert ("2 Tage" if language == "de" else "2 days") in rendered.text
    assert "%%DIGEST" not in rendered.html
