"""Edition statistics: the ledger and provider events of a hand-built edition."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta

import pytest

from digest import stats, subscribers
from digest.errors import EditionError, InputError
from digest.store.db import Database
from digest.store.models import Delivery, Edition, ProviderEvent

from .conftest import NOW, Result

LINK_A = "https://news.example.com/a"
LINK_B = "https://news.example.com/b"


def _edition(db: Database) -> tuple[int, int]:
    """Edition 2026-11-25 to five subscribers (3 sent, 1 failed, 1 uncertain), and one before."""
    with db.session() as session:
        people = [subscribers.add(session, f"s{n}@example.com", now=NOW)[0] for n in range(1, 6)]
        older = Edition(newsletter_date=date(2026, 11, 24), status="sent", created_at=NOW)
        edition = Edition(
            newsletter_date=date(2026, 11, 25), status="sent", sent_at=NOW, created_at=NOW
        )
        session.add_all([older, edition])
        session.flush()
        for person, status in zip(
            people, ["accepted", "accepted", "accepted", "failed", "uncertain"], strict=True
        ):
            session.add(
                Delivery(
                    edition_id=edition.id,
                    subscriber_id=person.id,
                    status=status,
                    backend="sendgrid",
                    attempts=1,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
        session.add(
            Delivery(
                edition_id=older.id,
                subscriber_id=people[0].id,
                status="accepted",
                backend="sendgrid",
                attempts=1,
                created_at=NOW,
                updated_at=NOW,
            )
        )
        s1, s2, s3 = (p.id for p in people[:3])
        events: list[tuple[str, int | None, str | None, int]] = [
            # Reported twice (a webhook retry with a new id, or SendGrid being SendGrid).
            ("delivered", s1, None, edition.id),
            ("delivered", s1, None, edition.id),
            ("delivered", s2, None, edition.id),
            ("opened", s1, None, edition.id),
            ("opened", s1, None, edition.id),
            ("opened", s1, None, edition.id),
            ("opened", s2, None, edition.id),
            ("clicked", s1, LINK_A, edition.id),
            ("clicked", s1, LINK_A, edition.id),
            ("clicked", s1, LINK_B, edition.id),
            ("clicked", s2, LINK_B, edition.id),
            ("clicked", s2, LINK_A, edition.id),
            ("clicked", s2, LINK_A, edition.id),
            ("bounced", s3, None, edition.id),
            ("complained", s2, None, edition.id),
            ("unsubscribed", s2, None, edition.id),
            ("unsubscribed", s2, None, edition.id),
            ("deferred", s3, None, edition.id),
            # Matched no subscriber: stored, not counted per subscriber.
            ("opened", None, None, edition.id),
            # Another edition's.
            ("opened", s3, None, older.id),
            ("clicked", s3, LINK_B, older.id),
        ]
        for n, (event, who, url, edition_id) in enumerate(events):
            session.add(
                ProviderEvent(
                    provider="sendgrid",
                    provider_event_id=f"ev-{n}",
                    event=event,
                    provider_event=event,
                    occurred_at=NOW + timedelta(minutes=n),
                    received_at=NOW,
                    email=None,
                    edition_id=edition_id,
                    subscriber_id=who,
                    url=url,
                )
            )
        return edition.id, older.id


def test_stats_count_each_subscriber_once(db: Database) -> None:
    edition_id, _ = _edition(db)
    with db.session() as session:
        result = stats.edition_stats(session)
    assert result is not None
    assert (result.edition_id, result.newsletter_date) == (edition_id, date(2026, 11, 25))
    assert (result.sent, result.failed, result.uncertain) == (3, 1, 1)
    assert (
        result.delivered,
        result.opened,
        result.clicked,
        result.bounced,
        result.complained,
        result.unsubscribed,
    ) == (2, 2, 2, 1, 1, 1)
    assert result.rates == {
        "delivered": 2 / 3,
        "opened": 2 / 3,
        "clicked": 2 / 3,
        "bounced": 1 / 3,
        "complained": 1 / 3,
        "unsubscribed": 1 / 3,
    }
    # Ranked by subscribers, then clicks.
    assert result.top_links == [
        stats.LinkClicks(LINK_A, subscribers=2, clicks=4),
        stats.LinkClicks(LINK_B, subscribers=2, clicks=2),
    ]


def test_stats_by_date_or_id(db: Database) -> None:
    edition_id, older_id = _edition(db)
    with db.session() as session:
        by_date = stats.edition_stats(session, "2026-11-24", top=1)
        by_id = stats.edition_stats(session, str(edition_id))
    assert by_date is not None and by_id is not None
    assert (by_date.edition_id, by_date.sent, by_date.opened, by_date.clicked) == (
        older_id,
        1,
        1,
        1,
    )
    assert by_date.top_links == [stats.LinkClicks(LINK_B, 1, 1)]
    assert by_id.newsletter_date == date(2026, 11, 25)


def test_stats_without_editions(db: Database) -> None:
    with db.session() as session:
        assert stats.edition_stats(session) is None
        with pytest.raises(EditionError, match="there is no edition for 2026-11-25") as info:
            stats.edition_stats(session, "2026-11-25")
        assert info.value.hint == "no edition has been sent yet"


def test_unknown_or_malformed_edition(db: Database) -> None:
    _edition(db)
    with db.session() as session:
        with pytest.raises(EditionError, match="no edition for 2026-11-01") as info:
            stats.edition_stats(session, "2026-11-01")
        assert info.value.hint is not None and "the latest is 2026-11-25" in info.value.hint
        with pytest.raises(EditionError, match="no edition with id 99999999999"):
            stats.edition_stats(session, "99999999999")
        with pytest.raises(InputError, match="neither a date like 2026-11-25 nor an edition id"):
            stats.edition_stats(session, "25.11.2026")


def test_rates_before_anything_was_sent(db: Database) -> None:
    with db.session() as session:
        session.add(Edition(newsletter_date=date(2026, 11, 25), status="sending", created_at=NOW))
    with db.session() as session:
        result = stats.edition_stats(session)
    assert result is not None and result.sent == 0
    assert result.rates["opened"] is None


# --------------------------------------------------------------------------- CLI


def test_stats_command(db: Database, run_on_db: Callable[..., Result]) -> None:
    none = run_on_db("stats")
    assert none.code == 0
    assert "No editions yet" in none.out and "digest send" in none.out
    assert json.loads(run_on_db("stats", "--json").out) is None

    edition_id, _ = _edition(db)
    table = run_on_db("stats")
    assert table.code == 0, table.err
    assert f"Edition 2026-11-25 (id {edition_id}" in table.out
    assert "66.7%" in table.out and LINK_A in table.out

    data = json.loads(run_on_db("stats", str(edition_id), "--json").out)
    assert data["newsletter_date"] == "2026-11-25"
    assert (data["sent"], data["failed"], data["uncertain"], data["clicked"]) == (3, 1, 1, 2)
    assert data["rates"]["bounced"] == pytest.approx(1 / 3)
    assert data["top_links"][0] == {"url": LINK_A, "subscribers": 2, "clicks": 4}

    unknown = run_on_db("stats", "2026-01-01")
    assert unknown.code == 1
    assert unknown.err.splitlines() == [
        "Error: there is no edition for 2026-01-01",
        "Hint: the latest is 2026-11-25 (id " + str(edition_id) + ")",
    ]
    assert unknown.out == ""
