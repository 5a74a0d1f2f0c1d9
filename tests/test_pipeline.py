"""End to end: sample sources in, emails out, on SQLite and PostgreSQL."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from digest import editions, ingest, pipeline, samples, subscribers
from digest.config import Settings, load_settings
from digest.delivery.base import Backend, OutgoingMessage, SendResult
from digest.errors import DeliveryAuthError, DeliveryError, EditionError
from digest.store.db import Database
from digest.store.models import Delivery, DeliveryStatus, Edition, EditionStatus

from .conftest import NOW
from .fake_sendgrid import FakeSendGrid
from .fake_smtp import Recorder, smtp_server

__all__ = ["smtp_server"]  # fixture

# Phrases of the boilerplate the shipped samples carry: none may reach an inbox.
BOILERPLATE = [
    "Top-Stories",
    "Sponsored",
    "Bezahlte Produktplatzierung",
    "gratis abonnieren",
    "Foto:",
    "Folgen Sie",
    "Hinweis: Teile dieses Textes",
    "Finanzberatung",
    "Buchtipp",
    "Nächster Artikel",
    "Vorheriger Artikel",
    "redaktion[at]",
    "Follow us on",
    # ("Read more" is not listed: the English email's own top-story link says it.)
    "appeared first on",
    "Cookie",
    "Anzeige",
    "Advertisement",
]


def make_settings(base: Settings, **overrides: str) -> Settings:
    env = {
        "DIGEST__DATABASE__URL": base.database.url,
        "DIGEST__NEWSLETTER__BASE_URL": "https://news.example.com",
        "DIGEST__DELIVERY__UNSUBSCRIBE_MAILTO": "unsubscribe@news.example.com",
        "DIGEST_SECRET_KEY": "test-secret",
        **overrides,
    }
    return load_settings(None, environ=env, cwd=base.base_dir)


@pytest.fixture
def e2e_settings(settings: Settings) -> Settings:
    return make_settings(settings)


def fixed_clock(start: datetime = NOW) -> Callable[[], datetime]:
    return lambda: start


def load_samples(db: Database, settings: Settings, tmp_path: Path) -> ingest.IngestReport:
    files = samples.write_samples(
        tmp_path / "sources", now=NOW, base_url=settings.newsletter.base_url
    )
    report = ingest.ingest([str(f) for f in files], db, now=NOW, default_tz=settings.newsletter.tz)
    with db.session() as session:
        subscribers.import_csv(session, samples.subscribers_csv(), now=NOW)
    return report


def read_outbox(settings: Settings) -> dict[str, EmailMessage]:
    folder = settings.outbox_dir / editions.local_date(NOW, settings).isoformat()
    messages = {}
    for path in sorted(folder.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        messages[str(message["To"])] = message
    return messages


def test_samples_to_outbox(db: Database, e2e_settings: Settings, tmp_path: Path) -> None:
    report = load_samples(db, e2e_settings, tmp_path)
    assert report.problems == []
    assert report.added >= 20
    today = editions.local_date(NOW, e2e_settings)

    result = pipeline.send(db, e2e_settings, today, clock=fixed_clock())
    assert (result.sent, result.failed, result.uncertain) == (3, 0, 0)
    assert result.complete

    messages = read_outbox(e2e_settings)
    assert len(messages) == 3
    with db.session() as session:
        edition = editions.get(session, today)
        assert edition is not None and edition.status == EditionStatus.SENT
        titles = [item.snapshot["title"] for item in edition.items]
        assert len(titles) == e2e_settings.ranking.max_items
        subjects = {variant.key: variant.subject for variant in edition.variants}
    assert all(subject.startswith("KI-Morgenpost") for subject in subjects.values())

    for to, message in messages.items():
        assert message["Subject"] in subjects.values()
        assert message.get_content_type() == "multipart/alternative"
        parts = list(message.iter_parts())
        assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
        text = parts[0].get_content()
        html = parts[1].get_content()
        for title in titles:
            assert title in text
        assert all(title.replace("&", "&amp;") in html or title in html for title in titles)
        # Signed, per-subscriber one-click unsubscribe, also visible in the footer.
        list_unsubscribe = str(message["List-Unsubscribe"])
        urls = re.findall(r"<([^>]+)>", list_unsubscribe)
        assert urls[0].startswith("https://news.example.com/unsubscribe/")
        assert urls[1].startswith("mailto:unsubscribe@news.example.com")
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert urls[0] in text
        assert urls[0] in html.replace("&amp;", "&")
        assert "https://news.example.com/preferences/" in html
        assert e2e_settings.newsletter.postal_address in text
        assert to.split("<")[-1].rstrip(">") in text  # why they get it: their address
        assert message["Message-ID"].startswith(f"<digest.{today.isoformat()}.")
        for phrase in BOILERPLATE:
            assert phrase not in text, f"{phrase!r} in the text part to {to}"
            assert phrase not in html, f"{phrase!r} in the HTML part to {to}"
    tokens = {str(m["List-Unsubscribe"]) for m in messages.values()}
    assert len(tokens) == 3  # one token per subscriber


def test_second_send_sends_nothing_and_the_edition_is_frozen(
    db: Database, e2e_settings: Settings, tmp_path: Path
) -> None:
    load_samples(db, e2e_settings, tmp_path)
    today = editions.local_date(NOW, e2e_settings)
    first = pipeline.send(db, e2e_settings, today, clock=fixed_clock())
    first_files = {
        p.name: p.read_bytes() for p in (e2e_settings.outbox_dir / today.isoformat()).iterdir()
    }

    # A new article arriving after the edition froze does not change it.
    later = NOW + timedelta(minutes=10)
    extra = tmp_path / "late.jsonl"
    extra.write_text(
        '{"url": "https://www.techblick.example/spaet", "title": "Späte Eilmeldung", '
        f'"published_at": "{(NOW - timedelta(minutes=5)).isoformat()}", "body": "Neu.", "priority": 10}}\n',
        encoding="utf-8",
    )
    assert (
        ingest.ingest([str(extra)], db, now=later, default_tz=e2e_settings.newsletter.tz).added == 1
    )

    second = pipeline.send(db, e2e_settings, today, clock=fixed_clock(later))
    assert (second.sent, second.already_sent, second.failed) == (0, 3, 0)
    assert second.subject == first.subject
    files = {
        p.name: p.read_bytes() for p in (e2e_settings.outbox_dir / today.isoformat()).iterdir()
    }
    assert files == first_files

    draft = pipeline.draft(db, e2e_settings, today, later)
    assert draft.plan.frozen
    assert "Späte Eilmeldung" not in [i.title for i in draft.plan.digest_items]
    with db.session() as session:
        edition = editions.get(session, today)
        assert edition is not None
        stored = editions.variants_of(edition)["de"]
    # Re-rendering the frozen snapshot gives exactly what was stored and sent.
    from digest.render import Renderer

    again = Renderer(e2e_settings).render(today, draft.plan.digest_items)
    assert again == stored


def test_each_subscriber_reads_their_own_language(
    db: Database, e2e_settings: Settings, tmp_path: Path
) -> None:
    load_samples(db, e2e_settings, tmp_path)
    today = editions.local_date(NOW, e2e_settings)
    pipeline.send(db, e2e_settings, today, clock=fixed_clock())
    messages = read_outbox(e2e_settings)
    german = messages["Anna Beispiel <anna.beispiel@example.com>"]
    english = messages["Ben Sample <ben@example.org>"]
    german_text = german.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    english_text = english.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Abmelden" in german_text and "Unsubscribe" not in german_text
    assert "Unsubscribe" in english_text and "Abmelden" not in english_text
    assert "Mittwoch, 25. November 2026" in german_text
    assert "Wednesday, November 25, 2026" in english_text
    # The articles are the same; only the email's own words differ.
    with db.session() as session:
        edition = editions.get(session, today)
        assert edition is not None
        assert sorted(variant.key for variant in edition.variants) == ["de", "en"]
        titles = [item.snapshot["title"] for item in edition.items]
    assert all(title in german_text and title in english_text for title in titles)


def test_a_later_delivery_time_waits_for_its_moment(
    db: Database, e2e_settings: Settings, tmp_path: Path
) -> None:
    load_samples(db, e2e_settings, tmp_path)
    with db.session() as session:
        ben = subscribers.find(session, "ben@example.org")
        assert ben is not None
        ben.delivery_time = "08:00"  # Europe/London: 08:00 GMT = 09:00 in Berlin
    today = editions.local_date(NOW, e2e_settings)
    send_moment = NOW + timedelta(minutes=30)  # 06:30 Berlin, the send time
    first = pipeline.send(db, e2e_settings, today, clock=fixed_clock(send_moment))
    assert (first.sent, first.waiting) == (2, 1)
    assert first.complete
    with db.session() as session:
        edition = editions.get(session, today)
        assert edition is not None and edition.status == EditionStatus.SENDING
    early = pipeline.send(
        db, e2e_settings, today, clock=fixed_clock(NOW + timedelta(hours=2, minutes=59))
    )
    assert (early.sent, early.waiting) == (0, 1)
    due = pipeline.send(db, e2e_settings, today, clock=fixed_clock(NOW + timedelta(hours=3)))
    assert (due.sent, due.waiting, due.already_sent) == (1, 0, 2)
    with db.session() as session:
        edition = editions.get(session, today)
        assert edition is not None and edition.status == EditionStatus.SENT


def test_unsubscribed_and_bounced_get_nothing(
    db: Database, e2e_settings: Settings, tmp_path: Path
) -> None:
    load_samples(db, e2e_settings, tmp_path)
    with db.session() as session:
        subscribers.remove(session, "ben@example.org", now=NOW)
        bounced = subscribers.find(session, "karl.muster@example.net")
        assert bounced is not None
        bounced.status = "bounced"
    today = editions.local_date(NOW, e2e_settings)
    result = pipeline.send(db, e2e_settings, today, clock=fixed_clock())
    assert result.sent == 1
    assert list(read_outbox(e2e_settings)) == ["Anna Beispiel <anna.beispiel@example.com>"]


class FlakyBackend(Backend):
    """Refuses chosen addresses, as a provider would; records everything it accepts."""

    name = "flaky"

    def __init__(self, refuse: dict[str, DeliveryError]) -> None:
        self.refuse = refuse
        self.accepted: list[OutgoingMessage] = []

    def send(self, message: OutgoingMessage) -> SendResult:
        if message.to_email in self.refuse:
            raise self.refuse[message.to_email]
        self.accepted.append(message)
        return SendResult(provider_message_id=f"id-{len(self.accepted)}")


def test_failures_are_retried_and_uncertain_ones_never_resent(
    db: Database, e2e_settings: Settings, tmp_path: Path
) -> None:
    load_samples(db, e2e_settings, tmp_path)
    today = editions.local_date(NOW, e2e_settings)
    backend = FlakyBackend(
        {
            "ben@example.org": DeliveryError("connection refused"),
            "karl.muster@example.net": DeliveryError("timed out", uncertain=True),
        }
    )
    first = pipeline.send(db, e2e_settings, today, clock=fixed_clock(), backend=backend)
    assert (first.sent, first.failed, first.pending, first.uncertain) == (1, 0, 1, 1)
    assert not first.complete
    with db.session() as session:
        edition = editions.get(session, today)
        assert edition is not None and edition.status == EditionStatus.SENDING
        rows = {
            row.subscriber_id: row.status
            for row in session.query(Delivery).filter(Delivery.edition_id == edition.id)
        }
    assert sorted(rows.values()) == [
        DeliveryStatus.ACCEPTED,
        DeliveryStatus.PENDING,
        DeliveryStatus.UNCERTAIN,
    ]

    healed = FlakyBackend({})
    second = pipeline.send(db, e2e_settings, today, clock=fixed_clock(), backend=healed)
    assert [m.to_email for m in healed.accepted] == ["ben@example.org"]
    assert (second.sent, second.already_sent, second.uncertain) == (1, 1, 1)
    assert not second.complete

    # The operator decides about the uncertain one: resend it.
    third = pipeline.send(
        db, e2e_settings, today, clock=fixed_clock(), backend=healed, resolve_uncertain="resend"
    )
    assert [m.to_email for m in healed.accepted] == ["ben@example.org", "karl.muster@example.net"]
    assert (third.sent, third.resolved, third.uncertain) == (1, 1, 0)
    assert third.complete


def test_permanent_refusals_are_final_and_skip_resolves_uncertain(
    db: Database, e2e_settings: Settings, tmp_path: Path
) -> None:
    load_samples(db, e2e_settings, tmp_path)
    today = editions.local_date(NOW, e2e_settings)
    backend = FlakyBackend(
        {
            "ben@example.org": DeliveryError("550 no such mailbox", permanent=True),
            "karl.muster@example.net": DeliveryError("timed out", uncertain=True),
        }
    )
    first = pipeline.send(db, e2e_settings, today, clock=fixed_clock(), backend=backend)
    assert (first.sent, first.failed, first.uncertain) == (1, 1, 1)
    assert any("550 no such mailbox" in error for error in first.errors)
    skipped = pipeline.send(
        db,
        e2e_settings,
        today,
        clock=fixed_clock(),
        backend=FlakyBackend({}),
        resolve_uncertain="skip",
    )
    assert (skipped.sent, skipped.resolved) == (0, 1)
    assert skipped.complete
    with db.session() as session:
        edition = editions.get(session, today)
        assert edition is not None and edition.status == EditionStatus.SENT


def test_refused_credentials_stop_the_send(
    db: Database, e2e_settings: Settings, tmp_path: Path
) -> None:
    load_samples(db, e2e_settings, tmp_path)
    today = editions.local_date(NOW, e2e_settings)

    class Refusing(FlakyBackend):
        def send(self, message: OutgoingMessage) -> SendResult:
            raise DeliveryAuthError("SendGrid refused the request (HTTP 401)")

    backend = Refusing({})
    with pytest.raises(DeliveryAuthError):
        pipeline.send(db, e2e_settings, today, clock=fixed_clock(), backend=backend)
    with db.session() as session:
        statuses = [row.status for row in session.query(Delivery)]
    # Stopped at the first refusal: everyone still pending for the next run.
    assert statuses == [DeliveryStatus.PENDING] * 3


def test_empty_window_is_a_clear_error(db: Database, e2e_settings: Settings) -> None:
    today = editions.local_date(NOW, e2e_settings)
    with pytest.raises(EditionError, match="has no articles"):
        pipeline.send(db, e2e_settings, today, clock=fixed_clock())


def test_dry_run_records_nothing(db: Database, e2e_settings: Settings, tmp_path: Path) -> None:
    load_samples(db, e2e_settings, tmp_path)
    today = editions.local_date(NOW, e2e_settings)
    report = pipeline.send(db, e2e_settings, today, clock=fixed_clock(), dry_run=True)
    assert report.dry_run and report.audience == 3 and report.sent == 0
    with db.session() as session:
        assert session.query(Edition).count() == 0
        assert session.query(Delivery).count() == 0
    assert not e2e_settings.outbox_dir.exists()


def test_window_ends_at_the_send_time_or_now(e2e_settings: Settings) -> None:
    today = editions.local_date(NOW, e2e_settings)
    # NOW is 06:00 Berlin, before the 06:30 send time: sent by hand, the window ends now.
    start, cutoff = editions.window(today, e2e_settings, NOW)
    assert cutoff == NOW and start == NOW - timedelta(hours=24)
    later = NOW + timedelta(hours=3)
    start, cutoff = editions.window(today, e2e_settings, later)
    assert cutoff == editions.send_time(today, e2e_settings)
    assert cutoff.astimezone(e2e_settings.newsletter.tz).strftime("%H:%M") == "06:30"


def test_sendgrid_end_to_end(
    db: Database, settings: Settings, tmp_path: Path, fake_sendgrid: FakeSendGrid
) -> None:
    sg_settings = make_settings(
        settings,
        DIGEST__DELIVERY__BACKEND="sendgrid",
        DIGEST__DELIVERY__SENDGRID__API_HOST=fake_sendgrid.url,
        SENDGRID_API_KEY="SG.test-key",
    )
    load_samples(db, sg_settings, tmp_path)
    today = editions.local_date(NOW, sg_settings)
    result = pipeline.send(db, sg_settings, today, clock=fixed_clock())
    assert result.sent == 3
    sends = [r for r in fake_sendgrid.requests if r.path == "/v3/mail/send"]
    # One request per language variant (German and English readers), not per reader.
    assert len(sends) == 2
    recipients = set()
    for request in sends:
        assert request.headers["Authorization"] == "Bearer SG.test-key"
        body = request.json
        assert isinstance(body, dict)
        assert [c["type"] for c in body["content"]] == ["text/plain", "text/html"]
        for personalization in body["personalizations"]:
            recipients.add(personalization["to"][0]["email"])
            headers = personalization["headers"]
            assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
            assert headers["List-Unsubscribe"].startswith("<https://news.example.com/unsubscribe/")
            assert personalization["custom_args"]["edition_date"] == today.isoformat()
            assert personalization["substitutions"]
    assert recipients == {"anna.beispiel@example.com", "karl.muster@example.net", "ben@example.org"}
    with db.session() as session:
        ids = {row.provider_message_id for row in session.query(Delivery)}
    assert all(i and i.startswith("fake-") for i in ids)
    # Again: nothing more reaches SendGrid.
    again = pipeline.send(db, sg_settings, today, clock=fixed_clock())
    assert again.sent == 0
    assert len([r for r in fake_sendgrid.requests if r.path == "/v3/mail/send"]) == 2


def test_smtp_end_to_end(
    db: Database, settings: Settings, tmp_path: Path, smtp_server: tuple[Recorder, int]
) -> None:
    recorder, port = smtp_server
    smtp_settings = make_settings(
        settings,
        DIGEST__DELIVERY__BACKEND="smtp",
        DIGEST__DELIVERY__SMTP__PORT=str(port),
    )
    load_samples(db, smtp_settings, tmp_path)
    today = editions.local_date(NOW, smtp_settings)
    result = pipeline.send(db, smtp_settings, today, clock=fixed_clock())
    assert result.sent == 3
    assert recorder.sessions == 1  # one connection for the whole edition
    assert sorted(r for m in recorder.messages for r in m.rcpt_tos) == [
        "anna.beispiel@example.com",
        "ben@example.org",
        "karl.muster@example.net",
    ]
    again = pipeline.send(db, smtp_settings, today, clock=fixed_clock())
    assert again.sent == 0 and len(recorder.messages) == 3
