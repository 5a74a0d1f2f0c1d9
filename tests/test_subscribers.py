from __future__ import annotations

from pathlib import Path

import pytest

from digest import subscribers
from digest.errors import InputError
from digest.store.db import Database
from digest.store.models import SubscriberStatus

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


def test_purge_deletes(db: Database) -> None:
    with db.session() as session:
        subscribers.add(session, "c@example.net", now=NOW)
    with db.session() as session:
        subscribers.remove(session, "c@example.net", now=NOW, purge=True)
    with db.session() as session:
        assert subscribers.find(session, "c@example.net") is None
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
