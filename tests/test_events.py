"""digest.events: parsing (pure), storing once, acting once, and the stats queries."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from digest import events, subscribers
from digest.events import EventType, InvalidPayload, normalize, parse_batch, parse_event
from digest.store.db import Database
from digest.store.models import Edition, ProviderEvent, Subscriber, SubscriberEvent

from .conftest import NOW

WHEN = int((NOW - timedelta(minutes=1)).timestamp())


def raw(kind: str, event_id: str | None = "e-1", **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"event": kind, "email": "anna@example.com", "timestamp": WHEN}
    if event_id is not None:
        data["sg_event_id"] = event_id
    return data | fields


# --- normalization -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("sendgrid", "normalized"),
    [
        ("processed", "queued"),
        ("deferred", "deferred"),
        ("delivered", "delivered"),
        ("bounce", "bounced"),
        ("dropped", "rejected"),
        ("open", "opened"),
        ("click", "clicked"),
        ("spamreport", "complained"),
        ("unsubscribe", "unsubscribed"),
        ("group_unsubscribe", "unsubscribed"),
        ("group_resubscribe", "resubscribed"),
        ("something_new", "unknown"),
        ("", "unknown"),
    ],
)
def test_normalize(sendgrid: str, normalized: str) -> None:
    assert normalize(sendgrid) == normalized


def test_blocked_bounce_is_its_own_type() -> None:
    assert normalize("bounce", "blocked") is EventType.BLOCKED
    assert normalize("bounce", "Blocked ") is EventType.BLOCKED
    assert normalize("bounce", "bounce") is EventType.BOUNCED
    # "type" only refines bounces.
    assert normalize("dropped", "blocked") is EventType.REJECTED


def test_every_normalized_type_fits_the_column() -> None:
    assert max(len(kind) for kind in EventType) <= 20


# --- parsing -----------------------------------------------------------------------


def test_parse_event_fields() -> None:
    event = parse_event(
        raw(
            "click",
            url="https://example.org/story",
            edition_id="12",
            edition_date="2026-11-25",
            subscriber_id="34",
        ),
        now=NOW,
    )
    assert event is not None
    assert event.provider_event_id == "e-1"
    assert event.event is EventType.CLICKED
    assert event.occurred_at == NOW - timedelta(minutes=1)
    assert event.occurred_at.tzinfo is UTC
    assert (event.edition_id, event.edition_date, event.subscriber_id) == (
        12,
        date(2026, 11, 25),
        34,
    )
    assert event.url == "https://example.org/story"
    assert event.payload["subscriber_id"] == "34"


def test_reason_comes_from_reason_or_response() -> None:
    bounce = parse_event(raw("bounce", reason="550 no such user", response="ignored"), now=NOW)
    delivered = parse_event(raw("delivered", response="250 OK"), now=NOW)
    assert bounce is not None and bounce.reason == "550 no such user"
    assert delivered is not None and delivered.reason == "250 OK"


def test_url_is_kept_for_clicks_only() -> None:
    event = parse_event(raw("open", url="https://example.org/"), now=NOW)
    assert event is not None and event.url is None


@pytest.mark.parametrize(
    "value", ["abc", "", " ", "-3", "0", "1.5", "1e3", "٣", "99999999999", True, None, [1], 2.0]
)
def test_garbage_ids_are_ignored(value: Any) -> None:
    event = parse_event(raw("open", edition_id=value, subscriber_id=value), now=NOW)
    assert event is not None
    assert (event.edition_id, event.subscriber_id) == (None, None)


def test_numeric_ids_are_accepted() -> None:
    event = parse_event(raw("open", edition_id=" 7 ", subscriber_id=8), now=NOW)
    assert event is not None
    assert (event.edition_id, event.subscriber_id) == (7, 8)


@pytest.mark.parametrize("value", [None, "soon", "nan", 1e300, True, [1]])
def test_bad_timestamps_fall_back_to_the_receive_time(value: Any) -> None:
    event = parse_event(raw("open", timestamp=value), now=NOW)
    assert event is not None and event.occurred_at == NOW


@pytest.mark.parametrize("event_id", [None, "", "   ", 17, "x" * 201])
def test_events_without_a_usable_id_are_skipped(event_id: Any) -> None:
    assert parse_event(raw("open", event_id=None, sg_event_id=event_id), now=NOW) is None


def test_nul_characters_are_dropped() -> None:
    event = parse_event(raw("bounce", reason="550\x00 gone", email="anna@example.com\x00"), now=NOW)
    assert event is not None
    assert (event.reason, event.email) == ("550 gone", "anna@example.com")


def test_parse_batch_skips_what_it_cannot_use() -> None:
    body = json.dumps([raw("open", "e-1"), 42, raw("open", None), raw("click", "e-2")]).encode()
    assert [e.provider_event_id for e in parse_batch(body, now=NOW)] == ["e-1", "e-2"]
    assert parse_batch(b"[]", now=NOW) == []


@pytest.mark.parametrize("body", [b"", b"[", b"{}", b'"open"', b"null", b"\xff"])
def test_parse_batch_refuses_what_is_not_an_array(body: bytes) -> None:
    with pytest.raises(InvalidPayload):
        parse_batch(body, now=NOW)


# --- storing and acting ------------------------------------------------------------


@pytest.fixture
def anna(db: Database) -> int:
    with db.session() as session:
        subscriber, _ = subscribers.add(session, "anna@example.com", now=NOW)
        return subscriber.id


@pytest.fixture
def edition(db: Database) -> int:
    with db.session() as session:
        row = Edition(newsletter_date=date(2026, 11, 25), created_at=NOW)
        session.add(row)
        session.flush()
        return row.id


def parsed(*items: dict[str, Any]) -> list[events.ParsedEvent]:
    return parse_batch(json.dumps(list(items)).encode(), now=NOW)


def history(db: Database, subscriber_id: int) -> list[str]:
    with db.session() as session:
        return list(
            session.scalars(
                select(SubscriberEvent.kind)
                .where(SubscriberEvent.subscriber_id == subscriber_id)
                .order_by(SubscriberEvent.id)
            )
        )


def test_record_events_is_idempotent(db: Database, anna: int) -> None:
    batch = parsed(raw("spamreport", "e-1"), raw("open", "e-2"), raw("spamreport", "e-1"))
    with db.session() as session:
        report = events.record_events(session, batch, now=NOW)
    assert (report.stored, report.duplicates, report.suppressed) == (2, 1, 1)
    with db.session() as session:
        again = events.record_events(session, batch, now=NOW + timedelta(hours=1))
    assert (again.stored, again.duplicates, again.suppressed) == (0, 3, 0)
    assert history(db, anna) == ["subscribed", "suppressed"]


def test_stored_and_acted_on_together(db: Database, anna: int) -> None:
    """A batch that fails part-way leaves no event stored without its action."""
    batch = parsed(raw("spamreport", "e-1"))
    with pytest.raises(RuntimeError), db.session() as session:
        events.record_events(session, batch, now=NOW)
        raise RuntimeError("the request died after the events were recorded")
    with db.session() as session:
        stored = session.scalars(select(ProviderEvent.provider_event_id)).all()
        status = session.get(Subscriber, anna)
        assert status is not None
        # Either both happened or neither did; never an event without its action.
        assert (list(stored), status.status) in ((["e-1"], "complained"), ([], "active"))
    with db.session() as session:
        events.record_events(session, batch, now=NOW)
    with db.session() as session:
        subscriber = session.get(Subscriber, anna)
        assert subscriber is not None and subscriber.status == "complained"


def test_edition_date_must_agree(db: Database, anna: int, edition: int) -> None:
    batch = parsed(
        raw("open", "e-1", edition_id=str(edition), edition_date="2026-11-25"),
        raw("open", "e-2", edition_id=str(edition), edition_date="2026-11-24"),
        raw("open", "e-3", edition_id=str(edition)),
    )
    with db.session() as session:
        events.record_events(session, batch, now=NOW)
        rows = session.execute(select(ProviderEvent.provider_event_id, ProviderEvent.edition_id))
        assert {event_id: edition_id for event_id, edition_id in rows} == {
            "e-1": edition,
            "e-2": None,
            "e-3": edition,
        }


def test_stats_queries(db: Database, edition: int) -> None:
    ids = {}
    with db.session() as session:
        for name in ("anna", "bert", "cleo"):
            subscriber, _ = subscribers.add(session, f"{name}@example.com", now=NOW)
            ids[name] = subscriber.id

    def ev(kind: str, event_id: str, who: str, **fields: Any) -> dict[str, Any]:
        args = {"edition_id": str(edition), "subscriber_id": str(ids[who])}
        return raw(kind, event_id, email=f"{who}@example.com", **args, **fields)

    batch = parsed(
        ev("delivered", "d-1", "anna"),
        ev("delivered", "d-2", "bert"),
        ev("delivered", "d-3", "cleo"),
        ev("open", "o-1", "anna"),
        ev("open", "o-2", "anna"),
        ev("open", "o-3", "bert"),
        ev("click", "c-1", "anna", url="https://example.org/a"),
        ev("click", "c-2", "anna", url="https://example.org/a"),
        ev("click", "c-3", "bert", url="https://example.org/b"),
        ev("click", "c-4", "cleo", url="https://example.org/b"),
        # Not ours: counted nowhere.
        raw("open", "o-x", email="ghost@example.com", edition_id=str(edition)),
    )
    with db.session() as session:
        events.record_events(session, batch, now=NOW)
    with db.session() as session:
        assert events.event_counts(session, edition) == {
            "delivered": 3,
            "opened": 2,
            "clicked": 3,
        }
        assert events.clicks_by_url(session, edition) == [
            events.UrlClicks("https://example.org/b", subscribers=2, clicks=2),
            events.UrlClicks("https://example.org/a", subscribers=1, clicks=2),
        ]
        assert events.event_counts(session, edition + 1) == {}


def test_concurrent_deliveries_of_one_event_act_once(db: Database, anna: int) -> None:
    """Two requests carrying the same event at once: the unique key lets one in."""
    batch = parsed(raw("spamreport", "e-1"))
    first_inserted = threading.Event()
    release_first = threading.Event()
    reports: dict[str, events.RecordReport] = {}
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with db.session() as session:
                reports["first"] = events.record_events(session, batch, now=NOW)
                first_inserted.set()
                # Hold the transaction open while the second request arrives.
                release_first.wait(timeout=10)
        except BaseException as err:
            errors.append(err)
            first_inserted.set()

    def second() -> None:
        try:
            with db.session() as session:
                reports["second"] = events.record_events(session, batch, now=NOW)
        except BaseException as err:
            errors.append(err)

    one = threading.Thread(target=first)
    one.start()
    assert first_inserted.wait(timeout=10)
    two = threading.Thread(target=second)
    two.start()
    # The second insert blocks on the first transaction (or finds it committed).
    two.join(timeout=0.3)
    release_first.set()
    one.join(timeout=10)
    two.join(timeout=15)
    assert not errors
    assert (reports["first"].stored, reports["second"].stored) == (1, 0)
    assert reports["second"].duplicates == 1
    assert history(db, anna) == ["subscribed", "suppressed"]


def test_epoch_timestamp_is_aware_utc() -> None:
    # The store refuses naive datetimes; parse_event never produces one.
    event = parse_event(raw("open", timestamp=0), now=NOW)
    assert event is not None
    assert event.occurred_at == datetime(1970, 1, 1, tzinfo=UTC)


def test_an_event_resolves_an_uncertain_delivery(db: Database) -> None:
    from digest.store.models import Delivery, DeliveryStatus

    with db.session() as session:
        anna, _ = subscribers.add(session, "anna@example.com", now=NOW)
        ben, _ = subscribers.add(session, "ben@example.com", now=NOW)
        edition = Edition(newsletter_date=date(2026, 11, 25), status="sending", created_at=NOW)
        session.add(edition)
        session.flush()
        for person in (anna, ben):
            session.add(
                Delivery(
                    edition_id=edition.id,
                    subscriber_id=person.id,
                    status=DeliveryStatus.UNCERTAIN,
                    backend="sendgrid",
                    attempts=1,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
        ids = {"edition_id": str(edition.id), "edition_date": "2026-11-25"}
    processed = raw("processed", "e-77", subscriber_id=str(anna.id), **ids)
    with db.session() as session:
        events.record_events(session, [parse_event(processed, now=NOW)], now=NOW)  # type: ignore[list-item]
    with db.session() as session:
        states = {row.subscriber_id: row.status for row in session.scalars(select(Delivery))}
    # Anna's request reached SendGrid; nothing is known about Ben's.
    assert states == {anna.id: DeliveryStatus.ACCEPTED, ben.id: DeliveryStatus.UNCERTAIN}
