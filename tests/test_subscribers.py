from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, text

from digest import subscribers
from digest.errors import InputError
from digest.store.db import Database
from digest.store.models import (
    Delivery,
    Edition,
    ProviderEvent,
    Subscriber,
    SubscriberEvent,
    SubscriberStatus,
)

from .conftest import NOW


def test_add_normalizes_and_updates(db: Database) -> None:
    with db.session() as session:
        sub, outcome = subscribers.add(
            session, "  Anna@Example.COM ", now=NOW, name="Anna", language="DE"
        )
        assert outcome == "added"
        assert sub.email == "Anna@example.com"
        assert sub.language == "de"
    with db.session() as session:
        sub, outcome = subscribers.add(
            session, "anna@example.com", now=NOW, timezone="Europe/Berlin"
        )
        # Local parts are case-sensitive by the RFC; the domain is not.
        assert outcome == "added"
        sub, outcome = subscribers.add(
            session, "Anna@EXAMPLE.com", now=NOW, timezone="Europe/Berlin"
        )
        assert outcome == "updated"
        assert sub.timezone == "Europe/Berlin"
        sub, outcome = subscribers.add(session, "Anna@example.com", now=NOW)
        assert outcome == "unchanged"


@pytest.mark.parametrize(
    ("email", "kwargs", "message"),
    [
        ("not-an-address", {}, "'not-an-address' is not a valid email address"),
        ("a@b", {}, "is not a valid email address"),
        ("x@example.com", {"language": "fr"}, "language 'fr' is not supported"),
        ("x@example.com", {"timezone": "Mars/Olympus"}, "time zone 'Mars/Olympus' is unknown"),
    ],
)
def test_bad_input_is_a_clear_error(
    db: Database, email: str, kwargs: dict[str, str], message: str
) -> None:
    with db.session() as session, pytest.raises(InputError, match=message):
        subscribers.add(session, email, now=NOW, **kwargs)


def test_remove_unsubscribes_and_readding_needs_resubscribe(db: Database) -> None:
    with db.session() as session:
        subscribers.add(session, "ben@example.org", now=NOW)
    with db.session() as session:
        subscribers.remove(session, "ben@example.org", now=NOW)
    with db.session() as session:
        sub = subscribers.find(session, "ben@example.org")
        assert sub is not None and sub.status == SubscriberStatus.UNSUBSCRIBED
        with pytest.raises(InputError, match="--resubscribe"):
            subscribers.add(session, "ben@example.org", now=NOW)
        sub, outcome = subscribers.add(session, "ben@example.org", now=NOW, resubscribe=True)
        assert outcome == "updated" and sub.status == SubscriberStatus.ACTIVE


def test_purge_erases_everything_kept_about_the_address(db: Database) -> None:
    from sqlalchemy import func, select

    from digest.store.models import ProviderEvent, SubscriberEvent

    with db.session() as session:
        sub, _ = subscribers.add(session, "c@example.net", now=NOW)
        for i, owner in enumerate((sub.id, None)):
            session.add(
                ProviderEvent(
                    provider="sendgrid",
                    provider_event_id=f"ev{i}",
                    event="opened",
                    provider_event="open",
                    occurred_at=NOW,
                    received_at=NOW,
                    email="c@example.net",
                    subscriber_id=owner,
                    payload={},
                )
            )
    with db.session() as session:
        subscribers.remove(session, "c@example.net", now=NOW, purge=True)
    with db.session() as session:
        assert subscribers.find(session, "c@example.net") is None
        assert session.scalar(select(func.count()).select_from(SubscriberEvent)) == 0
        assert session.scalar(select(func.count()).select_from(ProviderEvent)) == 0
        with pytest.raises(InputError, match="is not a subscriber"):
            subscribers.remove(session, "c@example.net", now=NOW)


def test_import_reports_bad_rows_and_keeps_suppressions(db: Database, tmp_path: Path) -> None:
    with db.session() as session:
        subscribers.add(session, "gone@example.com", now=NOW)
        subscribers.remove(session, "gone@example.com", now=NOW)
    csv_file = tmp_path / "subs.csv"
    csv_file.write_text(
        "Email,Name,Language,Timezone\n"
        "anna@example.com,Anna,de,Europe/Berlin\n"
        "broken-address,Nobody,,\n"
        "ben@example.org,Ben,en,Europe/London\n"
        ",,,\n"
        "gone@example.com,Gone,,\n"
        "carla@example.net,Carla,xx,\n",
        encoding="utf-8",
    )
    with db.session() as session:
        report = subscribers.import_csv(session, csv_file, now=NOW)
    assert (report.added, report.suppressed) == (2, 1)
    assert [str(p) for p in report.problems] == [
        "line 3: 'broken-address' is not a valid email address: "
        "An email address must have an @-sign.",
        "line 7: language 'xx' is not supported (use one of: de, en)",
    ]
    with db.session() as session:
        active = subscribers.list_all(session, status="active")
        assert [s.email for s in active] == ["anna@example.com", "ben@example.org"]
        gone = subscribers.find(session, "gone@example.com")
        assert gone is not None and gone.status == SubscriberStatus.UNSUBSCRIBED
    # Importing the same file again changes nothing.
    with db.session() as session:
        again = subscribers.import_csv(session, csv_file, now=NOW)
    assert (again.added, again.unchanged) == (0, 2)


def test_import_needs_an_email_column(db: Database, tmp_path: Path) -> None:
    csv_file = tmp_path / "subs.csv"
    csv_file.write_text("mail,name\na@example.com,A\n")
    with db.session() as session, pytest.raises(InputError, match="'email' column"):
        subscribers.import_csv(session, csv_file, now=NOW)


# --------------------------------------------------------------------------- export

TOPICS = ("KI", "Robotik", "Chips")
EARLIER = NOW - timedelta(days=30)


def _subscriber(
    email: str, status: SubscriberStatus = SubscriberStatus.ACTIVE, **extra: Any
) -> Subscriber:
    fields: dict[str, Any] = {
        "email": email,
        "status": status,
        "source": "web",
        "topics": [],
        "created_at": EARLIER,
        "updated_at": EARLIER,
        "consent_at": EARLIER,
        "consent_ip": "203.0.113.7",
        "consent_source": "web:signup",
        "consent_text": "Ja, ich möchte die KI-Morgenpost täglich per E-Mail erhalten.",
        "confirmed_at": EARLIER + timedelta(minutes=5),
        "confirmed_ip": "203.0.113.8",
    }
    return Subscriber(**(fields | extra))


def _population(db: Database) -> None:
    """One subscriber in every status, with full consent records (as the web app leaves them)."""
    with db.session() as session:
        session.add_all(
            [
                _subscriber(
                    "anna@example.com",
                    name='Anna, "die Erste"',
                    language="de",
                    timezone="Europe/Berlin",
                    topics=["KI", "Chips"],
                    delivery_time="06:30",
                    consent_text="Ja, bitte.\nZweite Zeile der Einwilligung.",
                ),
                _subscriber(
                    "pending@example.com",
                    SubscriberStatus.PENDING,
                    confirmed_at=None,
                    confirmed_ip=None,
                ),
                _subscriber("paused@example.com", SubscriberStatus.PAUSED),
                _subscriber(
                    "gone@example.com",
                    SubscriberStatus.UNSUBSCRIBED,
                    status_reason="unsubscribe link",
                    unsubscribed_at=NOW - timedelta(days=2),
                ),
                _subscriber(
                    "bounced@example.com",
                    SubscriberStatus.BOUNCED,
                    status_reason="SendGrid bounce: 550 no such user",
                    unsubscribed_at=NOW - timedelta(days=1),
                ),
                _subscriber(
                    "spam@example.com",
                    SubscriberStatus.COMPLAINED,
                    status_reason="SendGrid spam report",
                    unsubscribed_at=NOW - timedelta(hours=3),
                ),
            ]
        )


def _export(db: Database, **kwargs: Any) -> str:
    handle = io.StringIO()
    with db.session() as session:
        subscribers.export_csv(session, handle, **kwargs)
    return handle.getvalue()


def test_export_has_every_column_and_the_consent_record(db: Database) -> None:
    _population(db)
    text = _export(db)
    reader = csv.DictReader(io.StringIO(text))
    assert tuple(reader.fieldnames or ()) == subscribers.EXPORT_COLUMNS
    rows = {row["email"]: row for row in reader}
    assert sorted(rows) == [
        "anna@example.com",
        "bounced@example.com",
        "gone@example.com",
        "paused@example.com",
        "pending@example.com",
        "spam@example.com",
    ]
    assert rows["anna@example.com"] == {
        "email": "anna@example.com",
        "name": 'Anna, "die Erste"',
        "language": "de",
        "timezone": "Europe/Berlin",
        "topics": "KI|Chips",
        "muted_sources": "",
        "delivery_time": "06:30",
        "status": "active",
        "status_reason": "",
        "source": "web",
        "created_at": "2026-10-26T05:00:00+00:00",
        "unsubscribed_at": "",
        "consent_at": "2026-10-26T05:00:00+00:00",
        "consent_ip": "203.0.113.7",
        "consent_source": "web:signup",
        "consent_text": "Ja, bitte.\nZweite Zeile der Einwilligung.",
        "confirmed_at": "2026-10-26T05:05:00+00:00",
        "confirmed_ip": "203.0.113.8",
    }
    bounced = rows["bounced@example.com"]
    assert (bounced["status"], bounced["status_reason"], bounced["unsubscribed_at"]) == (
        "bounced",
        "SendGrid bounce: 550 no such user",
        "2026-11-24T05:00:00+00:00",
    )
    assert rows["pending@example.com"]["confirmed_at"] == ""


def test_export_by_status(db: Database) -> None:
    _population(db)
    lines = _export(db, status="Complained").splitlines()
    assert len(lines) == 2 and lines[1].startswith("spam@example.com,")
    with pytest.raises(InputError, match="status 'gone' is unknown"):
        _export(db, status="gone")


def test_export_streams_many_rows(db: Database) -> None:
    with db.session() as session:
        session.execute(
            insert(Subscriber),
            [
                {
                    "email": f"reader{n:05d}@example.com",
                    "status": SubscriberStatus.ACTIVE,
                    "source": "bulk",
                    "topics": ["KI"],
                    "created_at": NOW,
                    "updated_at": NOW,
                    "consent_at": NOW,
                }
                for n in range(2000)
            ],
        )
    with db.session() as session:
        rows = subscribers.export_rows(session, batch=100)
        first = next(rows)
        assert first[0] == "reader00000@example.com"
        if db.engine.dialect.name == "postgresql":
            # A server-side cursor is open: the rows stay on the server until fetched.
            assert session.scalar(text("SELECT count(*) FROM pg_cursors")) == 1
        rest = list(rows)
        # Plain rows, not ORM objects: nothing piles up in the session.
        assert len(session.identity_map) == 0
    assert len(rest) == 1999
    assert rest[-1][0] == "reader01999@example.com"
    assert [row[4] for row in rest[:3]] == ["KI", "KI", "KI"]


# --------------------------------------------------------------------------- import


def _forget_everyone(db: Database) -> None:
    with db.session() as session:
        session.execute(delete(SubscriberEvent))
        session.execute(delete(Subscriber))


def test_import_round_trip_keeps_consent_records_and_statuses(db: Database, tmp_path: Path) -> None:
    _population(db)
    exported = tmp_path / "export.csv"
    exported.write_text(_export(db), encoding="utf-8")
    _forget_everyone(db)

    with db.session() as session:
        report = subscribers.import_csv(session, exported, now=NOW, allowed_topics=TOPICS)
    assert (report.added, report.inactive, report.problems) == (6, 5, [])
    # The new database holds exactly what the old one exported.
    assert _export(db) == exported.read_text(encoding="utf-8")
    with db.session() as session:
        spam = subscribers.find(session, "spam@example.com")
        assert spam is not None and spam.status == SubscriberStatus.COMPLAINED
        assert [s.email for s in subscribers.list_all(session, status="active")] == [
            "anna@example.com"
        ]
        history = session.scalars(
            select(SubscriberEvent).where(SubscriberEvent.subscriber_id == spam.id)
        ).all()
        assert [(e.kind, e.detail) for e in history] == [
            ("imported", {"file": "export.csv", "status": "complained", "consent": "from file"})
        ]


def test_import_keeps_existing_consent_records_and_suppressions(
    db: Database, tmp_path: Path
) -> None:
    _population(db)
    csv_file = tmp_path / "other-system.csv"
    csv_file.write_text(
        "email,name,status,consent_at,consent_ip,consent_source,consent_text,confirmed_at\n"
        "anna@example.com,Anna Neu,active,2020-01-01T00:00:00+00:00,198.51.100.1,other,Other text,2020-01-01T00:01:00+00:00\n"
        "bounced@example.com,,active,2020-01-01T00:00:00+00:00,198.51.100.1,other,Other text,\n"
        "gone@example.com,,,2020-01-01T00:00:00+00:00,198.51.100.1,other,Other text,\n"
        "paused@example.com,,unsubscribed,2020-01-01T00:00:00+00:00,198.51.100.1,other,Other text,\n"
        "new@example.com,Neu,,2020-01-01T00:00:00+00:00,198.51.100.1,other,Other text,2020-01-01T00:01:00+00:00\n",
        encoding="utf-8",
    )
    with db.session() as session:
        report = subscribers.import_csv(session, csv_file, now=NOW)
    assert (report.added, report.updated, report.suppressed, report.problems) == (1, 2, 2, [])
    with db.session() as session:
        anna = subscribers.find(session, "anna@example.com")
        assert anna is not None
        # Details follow the file; the consent record does not.
        assert anna.name == "Anna Neu"
        assert (anna.consent_at, anna.consent_ip, anna.consent_source) == (
            EARLIER,
            "203.0.113.7",
            "web:signup",
        )
        bounced = subscribers.find(session, "bounced@example.com")
        assert bounced is not None and bounced.status == SubscriberStatus.BOUNCED
        assert bounced.consent_source == "web:signup"
        gone = subscribers.find(session, "gone@example.com")
        assert gone is not None and gone.status == SubscriberStatus.UNSUBSCRIBED
        # An opt-out in the file is never lost, whatever the address's status here.
        paused = subscribers.find(session, "paused@example.com")
        assert paused is not None and paused.status == SubscriberStatus.UNSUBSCRIBED
        assert paused.status_reason == "unsubscribed in other-system.csv"
        new = subscribers.find(session, "new@example.com")
        assert new is not None
        assert (new.status, new.consent_at, new.consent_source, new.source) == (
            SubscriberStatus.ACTIVE,
            datetime(2020, 1, 1, tzinfo=UTC),
            "other",
            "import:other-system.csv",
        )


def test_import_without_consent_columns_records_the_import(db: Database, tmp_path: Path) -> None:
    csv_file = tmp_path / "list.csv"
    csv_file.write_text(
        "email,name,topics,delivery_time,status\n"
        "a@example.com,A,KI|Chips,07:15,\n"
        "b@example.com,B,KI|Kochen,,\n"
        "c@example.com,C,,,unsubscribed\n"
        "d@example.com,D,,25:00,\n",
        encoding="utf-8",
    )
    with db.session() as session:
        report = subscribers.import_csv(session, csv_file, now=NOW, allowed_topics=TOPICS)
    assert (report.added, report.inactive) == (2, 1)
    assert [str(p) for p in report.problems] == [
        "line 3: unknown topic(s): Kochen (choose from: KI, Robotik, Chips)",
        "line 5: delivery time '25:00' is not a time like 07:30",
    ]
    with db.session() as session:
        a = subscribers.find(session, "a@example.com")
        assert a is not None
        assert (a.topics, a.delivery_time, a.source) == (
            ["KI", "Chips"],
            "07:15",
            "import:list.csv",
        )
        assert (a.consent_at, a.consent_source, a.confirmed_at) == (NOW, "import:list.csv", NOW)
        c = subscribers.find(session, "c@example.com")
        assert c is not None
        assert (c.status, c.unsubscribed_at, c.confirmed_at) == (
            SubscriberStatus.UNSUBSCRIBED,
            NOW,
            None,
        )


def test_import_reports_bad_export_values_by_the_line_they_start_on(
    db: Database, tmp_path: Path
) -> None:
    csv_file = tmp_path / "bad.csv"
    csv_file.write_text(
        "email,status,consent_at,consent_text,consent_ip\n"
        'a@example.com,active,2026-01-01T00:00:00+00:00,"Zeile eins\nZeile zwei",\n'
        "b@example.com,gone,2026-01-01T00:00:00+00:00,,\n"
        "c@example.com,active,gestern,,\n"
        f"d@example.com,active,2026-01-01T00:00:00+00:00,,{'1' * 65}\n"
        "e@example.com,active,2026-01-01 08:00:00,,\n",
        encoding="utf-8",
    )
    with db.session() as session:
        report = subscribers.import_csv(session, csv_file, now=NOW)
    assert report.added == 2
    assert [str(p) for p in report.problems] == [
        "line 4: status 'gone' is unknown "
        "(use one of: pending, active, paused, unsubscribed, bounced, complained)",
        "line 5: consent_at 'gestern' is not an ISO 8601 time like 2026-11-25T05:00:00+00:00",
        "line 6: consent_ip is longer than 64 characters",
    ]
    with db.session() as session:
        a = subscribers.find(session, "a@example.com")
        assert a is not None and a.consent_text == "Zeile eins\nZeile zwei"
        e = subscribers.find(session, "e@example.com")
        # A time without an offset is UTC, as the export writes it.
        assert e is not None and e.consent_at == datetime(2026, 1, 1, 8, tzinfo=UTC)


# --------------------------------------------------------------------------- show


def test_profile_has_history_deliveries_and_provider_events(db: Database) -> None:
    with db.session() as session:
        anna, _ = subscribers.add(session, "anna@example.com", now=EARLIER, name="Anna")
        other, _ = subscribers.add(session, "other@example.com", now=EARLIER)
        editions = [
            Edition(newsletter_date=date(2026, 11, day), status="sent", created_at=NOW)
            for day in (23, 24, 25)
        ]
        session.add_all(editions)
        session.flush()
        for edition, status, error in zip(
            editions, ["sent", "failed", "sent"], [None, "503 from provider", None], strict=True
        ):
            session.add(
                Delivery(
                    edition_id=edition.id,
                    subscriber_id=anna.id,
                    status=status,
                    backend="sendgrid",
                    provider_message_id=f"msg-{edition.newsletter_date.day}"
                    if status == "sent"
                    else None,
                    error=error,
                    attempts=1,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
        for n, (event, sub, url, reason) in enumerate(
            [
                ("delivered", anna, None, None),
                ("clicked", anna, "https://news.example.com/a", None),
                ("delivered", other, None, None),
                ("bounced", anna, None, "550 mailbox full"),
            ]
        ):
            session.add(
                ProviderEvent(
                    provider="sendgrid",
                    provider_event_id=f"ev-{n}",
                    event=event,
                    provider_event=event,
                    occurred_at=NOW - timedelta(hours=4 - n),
                    received_at=NOW,
                    email=sub.email,
                    edition_id=editions[2].id,
                    subscriber_id=sub.id,
                    url=url,
                    reason=reason,
                )
            )
        subscribers.suppress(
            session, anna, SubscriberStatus.BOUNCED, now=NOW, reason="SendGrid bounce: 550"
        )

    with db.session() as session:
        profile = subscribers.profile(session, "anna@EXAMPLE.com")
    assert (profile.email, profile.name, profile.status) == ("anna@example.com", "Anna", "bounced")
    assert (profile.status_reason, profile.status_since) == ("SendGrid bounce: 550", NOW)
    assert profile.consent.consent_source == "cli"
    assert [(h.kind, h.occurred_at) for h in profile.history] == [
        ("subscribed", EARLIER),
        ("suppressed", NOW),
    ]
    assert profile.history[1].detail["reason"] == "SendGrid bounce: 550"
    assert [
        (d.newsletter_date.day, d.status, d.provider_message_id, d.error)
        for d in profile.deliveries
    ] == [
        (23, "sent", "msg-23", None),
        (24, "failed", None, "503 from provider"),
        (25, "sent", "msg-25", None),
    ]
    assert [(e.event, e.url or e.reason) for e in profile.events] == [
        ("delivered", None),
        ("clicked", "https://news.example.com/a"),
        ("bounced", "550 mailbox full"),
    ]

    with db.session() as session:
        latest = subscribers.profile(session, "anna@example.com", limit=2)
        assert [d.newsletter_date.day for d in latest.deliveries] == [24, 25]
        assert (latest.deliveries_total, latest.events_total) == (3, 3)
        assert [e.event for e in latest.events] == ["clicked", "bounced"]
        with pytest.raises(InputError, match="is not a subscriber"):
            subscribers.profile(session, "nobody@example.com")


def test_status_since_follows_the_history(db: Database) -> None:
    with db.session() as session:
        sub, _ = subscribers.add(session, "b@example.com", now=EARLIER)
        subscribers.pause(session, sub, now=EARLIER + timedelta(days=1))
        subscribers.resume(session, sub, now=EARLIER + timedelta(days=2))
    with db.session() as session:
        assert subscribers.profile(session, "b@example.com").status_since == EARLIER + timedelta(
            days=2
        )
    with db.session() as session:
        subscribers.add(session, "c@example.com", now=EARLIER)
        session.execute(delete(SubscriberEvent))
    with db.session() as session:
        # No history (rows from before it was kept): the confirmation time.
        assert subscribers.profile(session, "c@example.com").status_since == EARLIER


def test_list_filters_by_every_status(db: Database) -> None:
    _population(db)
    with db.session() as session:
        for status in SubscriberStatus:
            listed = subscribers.list_all(session, status=status.upper())
            assert [s.status for s in listed] == [status]
        with pytest.raises(InputError, match="status 'activ' is unknown"):
            subscribers.list_all(session, status="activ")


def test_import_reports_unreadable_files_and_ragged_rows(db: Database, tmp_path: Path) -> None:
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("email,name\na@example.com,A,surplus\nb@example.com,B\n", encoding="utf-8")
    with db.session() as session:
        report = subscribers.import_csv(session, ragged, now=NOW)
    assert report.added == 1
    assert [str(p) for p in report.problems] == ["line 2: more values than the header has columns"]

    latin1 = tmp_path / "excel.csv"
    latin1.write_bytes("email,name\nj@example.com,Jürgen\n".encode("latin-1"))
    with db.session() as session, pytest.raises(InputError, match="is not UTF-8 text") as info:
        subscribers.import_csv(session, latin1, now=NOW)
    assert info.value.hint == "save it as CSV in UTF-8 and import it again"
