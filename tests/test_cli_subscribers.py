"""`digest subscribers export/import/show/list`, in-process through the real entry point."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import delete

from digest import subscribers
from digest.store.db import Database
from digest.store.models import (
    Delivery,
    Edition,
    ProviderEvent,
    Subscriber,
    SubscriberEvent,
    SubscriberStatus,
)

from .conftest import NOW, Result

Run = Callable[..., Result]


def _signed_up(db: Database) -> None:
    """Anna signed up on the web (consent record, confirmation) and got one edition."""
    with db.session() as session:
        anna = Subscriber(
            email="anna@example.com",
            name="Anna [Admin]",
            language="de",
            status=SubscriberStatus.ACTIVE,
            source="web",
            topics=["KI", "Chips"],
            delivery_time="06:30",
            created_at=NOW - timedelta(days=3),
            updated_at=NOW,
            consent_at=NOW - timedelta(days=3),
            consent_ip="203.0.113.7",
            consent_source="web:signup",
            consent_text="Ja, ich möchte die KI-Morgenpost erhalten.",
            confirmed_at=NOW - timedelta(days=3, minutes=-2),
            confirmed_ip="203.0.113.7",
        )
        session.add(anna)
        session.flush()
        subscribers.record(
            session, anna, "signed_up", now=NOW - timedelta(days=3), ip="203.0.113.7"
        )
        subscribers.record(session, anna, "confirmed", now=NOW - timedelta(days=3, minutes=-2))
        edition = Edition(newsletter_date=date(2026, 11, 25), status="sent", created_at=NOW)
        session.add(edition)
        session.flush()
        session.add(
            Delivery(
                edition_id=edition.id,
                subscriber_id=anna.id,
                status="sent",
                backend="sendgrid",
                provider_message_id="sg-msg-1",
                attempts=1,
                created_at=NOW,
                updated_at=NOW,
            )
        )
        session.add(
            ProviderEvent(
                provider="sendgrid",
                provider_event_id="ev-1",
                event="clicked",
                provider_event="click",
                occurred_at=NOW + timedelta(hours=1),
                received_at=NOW + timedelta(hours=1),
                email=anna.email,
                edition_id=edition.id,
                subscriber_id=anna.id,
                url="https://news.example.com/a",
            )
        )
        paused = subscribers.add(session, "paul@example.org", now=NOW)[0]
        subscribers.pause(session, paused, now=NOW)
        subscribers.add(session, "ben@example.org", now=NOW)
        subscribers.remove(session, "ben@example.org", now=NOW)


def test_export_to_stdout_and_to_a_file(db: Database, run_on_db: Run, tmp_path: Path) -> None:
    _signed_up(db)
    result = run_on_db("subscribers", "export")
    assert result.code == 0, result.err
    rows = list(csv.DictReader(io.StringIO(result.out)))
    assert [r["email"] for r in rows] == ["anna@example.com", "ben@example.org", "paul@example.org"]
    anna = rows[0]
    assert (anna["topics"], anna["consent_ip"], anna["consent_at"]) == (
        "KI|Chips",
        "203.0.113.7",
        "2026-11-22T05:00:00+00:00",
    )
    assert rows[1]["status"] == "unsubscribed" and rows[2]["status"] == "paused"

    target = tmp_path / "active.csv"
    to_file = run_on_db("subscribers", "export", str(target), "--status", "active")
    assert to_file.code == 0
    assert to_file.out.strip() == f"1 subscriber(s) written to {target}"
    assert target.read_text(encoding="utf-8").splitlines()[1].startswith("anna@example.com,")
    assert not target.with_name("active.csv.part").exists()

    bad = run_on_db("subscribers", "export", "--status", "gone")
    assert (bad.code, bad.out) == (1, "")
    assert bad.err.startswith("Error: status 'gone' is unknown (use one of: pending, active,")

    unwritable = run_on_db("subscribers", "export", str(tmp_path / "no" / "such" / "dir.csv"))
    assert unwritable.code == 1 and "Error: cannot write" in unwritable.err


def test_export_then_import_into_an_empty_database(
    db: Database, run_on_db: Run, tmp_path: Path
) -> None:
    _signed_up(db)
    exported = tmp_path / "subscribers.csv"
    assert run_on_db("subscribers", "export", str(exported)).code == 0
    with db.session() as session:
        session.execute(delete(Delivery))
        session.execute(delete(SubscriberEvent))
        session.execute(delete(Subscriber))

    imported = run_on_db("subscribers", "import", str(exported))
    assert imported.code == 0, imported.err
    assert imported.out.strip() == (
        "3 added (2 not active), 0 updated, 0 unchanged, 0 left suppressed, 0 problem(s)"
    )
    again = run_on_db("subscribers", "export")
    assert again.out == exported.read_text(encoding="utf-8")

    # Importing it once more touches nobody: the consent records stay, nobody comes back.
    twice = json.loads(run_on_db("subscribers", "import", str(exported), "--json").out)
    assert (twice["added"], twice["unchanged"], twice["suppressed"]) == (0, 1, 2)


def test_import_checks_topics_against_the_newsletter(run_on_db: Run, tmp_path: Path) -> None:
    csv_file = tmp_path / "topics.csv"
    csv_file.write_text(
        "email,topics\nok@example.com,KI|Robotik\nbad@example.com,KI|Kochen\n", encoding="utf-8"
    )
    result = run_on_db("subscribers", "import", str(csv_file))
    assert result.code == 1
    assert "topics.csv line 3: unknown topic(s): Kochen (choose from: KI, Robotik," in result.err
    listed = json.loads(run_on_db("subscribers", "list", "--json").out)
    assert [(s["email"], s["topics"], s["source"]) for s in listed] == [
        ("ok@example.com", ["KI", "Robotik"], "import:topics.csv")
    ]


def test_show(db: Database, run_on_db: Run) -> None:
    _signed_up(db)
    data = json.loads(run_on_db("subscribers", "show", "anna@example.com", "--json").out)
    assert (data["status"], data["status_since"]) == ("active", "2026-11-22T05:02:00+00:00")
    assert (data["topics"], data["delivery_time"]) == (["KI", "Chips"], "06:30")
    assert data["consent"] == {
        "consent_at": "2026-11-22T05:00:00+00:00",
        "consent_ip": "203.0.113.7",
        "consent_source": "web:signup",
        "consent_text": "Ja, ich möchte die KI-Morgenpost erhalten.",
        "confirmed_at": "2026-11-22T05:02:00+00:00",
        "confirmed_ip": "203.0.113.7",
        "confirmation_sent_at": None,
    }
    assert [h["kind"] for h in data["history"]] == ["signed_up", "confirmed"]
    assert data["deliveries"] == [
        {
            "edition_id": data["deliveries"][0]["edition_id"],
            "newsletter_date": "2026-11-25",
            "status": "sent",
            "provider_message_id": "sg-msg-1",
            "error": None,
            "attempts": 1,
            "updated_at": "2026-11-25T05:00:00+00:00",
        }
    ]
    assert [(e["event"], e["url"]) for e in data["events"]] == [
        ("clicked", "https://news.example.com/a")
    ]

    table = run_on_db("subscribers", "show", "anna@example.com")
    assert table.code == 0, table.err
    for text in (
        "anna@example.com: active since 2026-11-22 05:02:00 UTC",
        "Anna [Admin]",  # user data is printed as is, not as Rich markup
        "web:signup",
        "signed_up",
        "ip=203.0.113.7",
        "sg-msg-1",
        "https://news.example.com/a",
    ):
        assert text in table.out

    gone = run_on_db("subscribers", "show", "ben@example.org")
    assert (
        "ben@example.org: unsubscribed since 2026-11-25 05:00:00 UTC (removed by operator)"
        in gone.out
    )

    unknown = run_on_db("subscribers", "show", "nobody@example.com")
    assert unknown.code == 1
    assert unknown.err.strip() == "Error: nobody@example.com is not a subscriber"


def test_list_with_every_status(db: Database, run_on_db: Run) -> None:
    _signed_up(db)
    listed = json.loads(run_on_db("subscribers", "list", "--json").out)
    assert [(s["email"], s["status"], s["topics"], s["delivery_time"]) for s in listed] == [
        ("anna@example.com", "active", ["KI", "Chips"], "06:30"),
        ("ben@example.org", "unsubscribed", [], None),
        ("paul@example.org", "paused", [], None),
    ]
    paused = json.loads(run_on_db("subscribers", "list", "--status", "paused", "--json").out)
    assert [s["email"] for s in paused] == ["paul@example.org"]
    assert (
        json.loads(run_on_db("subscribers", "list", "--status", "complained", "--json").out) == []
    )
    table = run_on_db("subscribers", "list")
    assert table.code == 0 and "3 subscriber(s)" in table.out and "Anna [Admin]" in table.out
    bad = run_on_db("subscribers", "list", "--status", "weg")
    assert bad.code == 1 and "status 'weg' is unknown" in bad.err
