"""Scheduled sends at SendGrid (send_at under a batch id) and `digest cancel`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from digest import editions, pipeline
from digest.config import Settings
from digest.errors import InputError
from digest.store.db import Database
from digest.store.models import Delivery, DeliveryStatus, EditionStatus

from .conftest import NOW
from .fake_sendgrid import FakeSendGrid
from .test_pipeline import fixed_clock, load_samples, make_settings


def test_scheduled_send_and_cancel(
    db: Database, settings: Settings, tmp_path: Path, fake_sendgrid: FakeSendGrid
) -> None:
    sg = make_settings(
        settings,
        DIGEST__DELIVERY__BACKEND="sendgrid",
        DIGEST__DELIVERY__SENDGRID__API_HOST=fake_sendgrid.url,
        SENDGRID_API_KEY="SG.test-key",
    )
    load_samples(db, sg, tmp_path)
    today = editions.local_date(NOW, sg)
    at = NOW + timedelta(hours=20)
    report = pipeline.send(db, sg, today, clock=fixed_clock(), send_at=at)
    assert report.sent == 3
    sends = [r for r in fake_sendgrid.requests if r.path == "/v3/mail/send"]
    batch_ids = {r.json["batch_id"] for r in sends if isinstance(r.json, dict)}
    assert len(batch_ids) == 1
    assert all(isinstance(r.json, dict) and r.json["send_at"] == int(at.timestamp()) for r in sends)
    with db.session() as session:
        edition = editions.get(session, today)
        assert edition is not None and edition.provider_batch_id in batch_ids
        edition_id = edition.id

    held = pipeline.cancel(db, sg, edition_id, now=NOW)
    assert held == 3
    cancels = [r for r in fake_sendgrid.requests if r.path == "/v3/user/scheduled_sends"]
    assert len(cancels) == 1 and isinstance(cancels[0].json, dict)
    assert cancels[0].json == {"batch_id": next(iter(batch_ids)), "status": "cancel"}
    with db.session() as session:
        edition = editions.get(session, today)
        assert edition is not None and edition.status == EditionStatus.CANCELLED
        assert set(session.scalars(select(Delivery.status))) == {DeliveryStatus.FAILED}


def test_schedule_needs_sendgrid_and_the_72_hour_window(
    db: Database, settings: Settings, tmp_path: Path, fake_sendgrid: FakeSendGrid
) -> None:
    outbox = make_settings(settings)
    load_samples(db, outbox, tmp_path)
    today = editions.local_date(NOW, outbox)
    with pytest.raises(InputError, match=r"needs delivery\.backend sendgrid"):
        pipeline.send(db, outbox, today, clock=fixed_clock(), send_at=NOW + timedelta(hours=1))
    sg = make_settings(
        settings,
        DIGEST__DELIVERY__BACKEND="sendgrid",
        DIGEST__DELIVERY__SENDGRID__API_HOST=fake_sendgrid.url,
        SENDGRID_API_KEY="SG.test-key",
    )
    with pytest.raises(InputError, match="next 72 hours"):
        pipeline.send(db, sg, today, clock=fixed_clock(), send_at=NOW + timedelta(hours=80))
    assert not [r for r in fake_sendgrid.requests if r.path == "/v3/mail/send"]
    with db.session() as session:
        assert editions.get(session, today) is None  # nothing was frozen
