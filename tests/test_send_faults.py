"""Every subscriber gets exactly one message across injected SendGrid faults."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from sqlalchemy import insert, select

from digest import editions, ingest, pipeline, samples
from digest.config import Settings, load_settings
from digest.store.db import Database
from digest.store.models import Delivery, DeliveryStatus, Subscriber

from .conftest import NOW
from .fake_sendgrid import (
    FakeSendGrid,
    RecordedRequest,
    Reply,
    every,
    rate_limited,
    refuse_addresses,
)

RECIPIENTS = 120
REFUSED = {"reader0007@example.com", "reader0061@example.com", "reader0100@example.com"}


def _settings(base: Settings, url: str) -> Settings:
    env = {
        "DIGEST__DATABASE__URL": base.database.url,
        "DIGEST__NEWSLETTER__BASE_URL": "https://news.example.com",
        "DIGEST__DELIVERY__BACKEND": "sendgrid",
        "DIGEST__DELIVERY__SENDGRID__API_HOST": url,
        "DIGEST__DELIVERY__SENDGRID__BATCH_SIZE": "8",
        "DIGEST__DELIVERY__SENDGRID__CONCURRENCY": "2",
        "DIGEST__DELIVERY__SENDGRID__TIMEOUT": "2s",
        "DIGEST__DELIVERY__RETRY_DEADLINE": "20s",
        "SENDGRID_API_KEY": "SG.test-key",
        "DIGEST_SECRET_KEY": "test-secret",
    }
    return load_settings(None, environ=env, cwd=base.base_dir)


def _seed(db: Database, settings: Settings, tmp_path: Path) -> None:
    files = samples.write_samples(tmp_path / "src", now=NOW, base_url="https://news.example.com")
    ingest.ingest([str(f) for f in files], db, now=NOW, default_tz=settings.newsletter.tz)
    with db.session() as session:
        session.execute(
            insert(Subscriber),
            [
                {
                    "email": f"reader{n:04d}@example.com",
                    "status": "active",
                    "source": "test",
                    "topics": [],
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for n in range(RECIPIENTS)
            ],
        )


def test_exactly_once_across_faults(
    db: Database, settings: Settings, tmp_path: Path, fake_sendgrid: FakeSendGrid
) -> None:
    sg = _settings(settings, fake_sendgrid.url)
    _seed(db, sg, tmp_path)
    day = editions.local_date(NOW, sg)

    # Faults on a rotating schedule: server errors and rate limits (retried in
    # the same run), answers lost after SendGrid took the request (uncertain),
    # and three addresses SendGrid refuses (isolated by splitting the batch).
    refuse = refuse_addresses(REFUSED)
    dropped = every(9, Reply(drop_connection=True))
    limited = every(7, lambda: rate_limited(int(time.time())), then=dropped)
    faults = every(4, Reply(status=503), then=limited)

    def responder(request: RecordedRequest) -> Reply | None:
        # A request naming a refused address is refused (400), whatever else happens.
        return refuse(request) or faults(request)

    fake_sendgrid.responder = responder

    reports = [pipeline.send(db, sg, day)]
    fake_sendgrid.responder = refuse  # the provider recovers
    while not reports[-1].complete and len(reports) < 5:
        if reports[-1].pending == 0:
            break  # only uncertain recipients are left: that is the operator's call
        reports.append(pipeline.send(db, sg, day))

    with db.session() as session:
        rows = session.execute(
            select(Subscriber.email, Delivery.status, Delivery.error).join(
                Delivery, Delivery.subscriber_id == Subscriber.id
            )
        ).all()
    status = {email: state for email, state, _ in rows}
    errors = {email: error for email, _, error in rows}
    accepted = fake_sendgrid.accepted_counts()

    assert len(status) == RECIPIENTS
    assert all(count == 1 for count in accepted.values()), accepted.most_common(3)
    assert {e for e, s in status.items() if s == DeliveryStatus.FAILED} == REFUSED
    assert all("valid address" in (errors[email] or "") for email in REFUSED)
    assert not any(accepted[email] for email in REFUSED)
    states = Counter(status.values())
    assert states[DeliveryStatus.UNCERTAIN] > 0, "no lost answer was injected"
    for email, state in status.items():
        if state == DeliveryStatus.ACCEPTED:
            assert accepted[email] == 1
        elif state == DeliveryStatus.UNCERTAIN:
            # The fake server took these requests and then dropped the answer.
            assert accepted[email] == 1
    assert set(states) == {
        DeliveryStatus.ACCEPTED,
        DeliveryStatus.FAILED,
        DeliveryStatus.UNCERTAIN,
    }

    # The operator resends the uncertain ones: now those get a second copy,
    # which is exactly why that is a deliberate decision and never automatic.
    uncertain = {email for email, state in status.items() if state == DeliveryStatus.UNCERTAIN}
    skipped = pipeline.send(db, sg, day, resolve_uncertain="skip")
    assert skipped.complete and skipped.sent == 0
    assert skipped.resolved == len(uncertain)


def test_unsubscribed_while_queued_is_skipped(
    db: Database, settings: Settings, tmp_path: Path, fake_sendgrid: FakeSendGrid
) -> None:
    sg = _settings(settings, fake_sendgrid.url)
    _seed(db, sg, tmp_path)
    day = editions.local_date(NOW, sg)
    gone = {"reader0030@example.com", "reader0050@example.com", "reader0099@example.com"}
    statuses = iter(["unsubscribed", "bounced", "complained"])

    # Right after the first request, three later subscribers leave (one
    # unsubscribes, one bounces, one complains) while the edition is going out.
    def leave(request: RecordedRequest) -> Reply | None:
        if gone:
            with db.session() as session:
                for email in sorted(gone):
                    person = session.scalar(select(Subscriber).where(Subscriber.email == email))
                    assert person is not None
                    person.status = next(statuses)
            gone.clear()
        return None

    fake_sendgrid.responder = leave
    sg_single = sg.model_copy(
        update={
            "delivery": sg.delivery.model_copy(
                update={"sendgrid": sg.delivery.sendgrid.model_copy(update={"concurrency": 1})}
            )
        }
    )
    report = pipeline.send(db, sg_single, day)
    accepted = fake_sendgrid.accepted_counts()
    assert report.skipped == 3
    for email in ("reader0030@example.com", "reader0050@example.com", "reader0099@example.com"):
        assert accepted[email] == 0
    assert sum(accepted.values()) == RECIPIENTS - 3
    with db.session() as session:
        states = Counter(session.scalars(select(Delivery.status)))
    assert states[DeliveryStatus.SUPPRESSED] == 3
