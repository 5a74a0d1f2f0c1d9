"""`digest send` killed with SIGKILL at random moments, restarted until done.

The fake SendGrid API runs as its own process and logs every request it
accepted, so the test can count, per address, how many times SendGrid took a
message: never twice, and never zero unless the ledger reports it uncertain.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from digest import editions, ingest, samples
from digest.config import Settings
from digest.store.db import Database
from digest.store.models import Delivery, DeliveryStatus, Subscriber

from .conftest import NOW

ROOT = Path(__file__).resolve().parent.parent
RECIPIENTS = 240


@pytest.fixture
def fake_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    log = tmp_path / "sendgrid.log"
    # Every request answers after 0.1 s, so kills land while requests are under way.
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fake_sendgrid", "--log", str(log), "--fault", "slow=0.1@1"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        yield url, log
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


def _environment(settings: Settings, url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    return env | {
        "DIGEST__DATABASE__URL": settings.database.url,
        "DIGEST__NEWSLETTER__BASE_URL": "https://news.example.com",
        "DIGEST__DELIVERY__BACKEND": "sendgrid",
        "DIGEST__DELIVERY__SENDGRID__API_HOST": url,
        "DIGEST__DELIVERY__SENDGRID__BATCH_SIZE": "15",
        "DIGEST__DELIVERY__SENDGRID__CONCURRENCY": "2",
        "DIGEST__DELIVERY__RETRY_DEADLINE": "5s",
        "SENDGRID_API_KEY": "SG.test-key",
        "DIGEST_SECRET_KEY": "test-secret",
    }


def _seed(settings: Settings, tmp_path: Path) -> str:
    db = Database(settings.database_url)
    try:
        files = samples.write_samples(
            tmp_path / "src", now=NOW, base_url="https://news.example.com"
        )
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
    finally:
        db.dispose()
    return editions.local_date(NOW, settings).isoformat()


def test_killed_sends_resume_without_duplicates(
    settings: Settings, tmp_path: Path, fake_server: tuple[str, Path]
) -> None:
    url, log = fake_server
    day = _seed(settings, tmp_path)
    env = _environment(settings, url)
    command = [sys.executable, "-m", "digest", "send", "--date", day, "--json"]
    rng = random.Random(20261125)
    kills = 0
    finished = False
    for _ in range(12):
        proc = subprocess.Popen(
            command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        try:
            proc.wait(timeout=rng.uniform(0.6, 2.0))
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            kills += 1
            continue
        finally:
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()
        assert proc.returncode in (0, 3), f"send exited with {proc.returncode}"
        finished = True
        break
    if not finished:
        final = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, timeout=120)
        assert final.returncode in (0, 3), final.stderr.decode()
    assert kills >= 1, "no run was killed; the test proves nothing"

    accepted: Counter[str] = Counter()
    for line in log.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if entry.get("path") == "/v3/mail/send" and entry.get("accepted"):
            for personalization in entry["to"]:
                accepted.update(personalization)

    db = Database(settings.database_url)
    try:
        with db.session() as session:
            rows = session.execute(
                select(Subscriber.email, Delivery.status).join(
                    Delivery, Delivery.subscriber_id == Subscriber.id
                )
            ).all()
    finally:
        db.dispose()
    status = {email: state for email, state in rows}
    assert len(status) == RECIPIENTS
    duplicates = {email: n for email, n in accepted.items() if n > 1}
    assert not duplicates, f"delivered twice: {duplicates}"
    states = Counter(status.values())
    # Everyone is settled: accepted, or uncertain because a kill hit their request.
    assert set(states) <= {DeliveryStatus.ACCEPTED, DeliveryStatus.UNCERTAIN}, states
    for email, state in status.items():
        if state == DeliveryStatus.ACCEPTED:
            assert accepted[email] == 1, (
                f"{email} is accepted in the ledger but SendGrid never had it"
            )
        else:
            assert accepted[email] <= 1
    # Missing means: not accepted by SendGrid. Only uncertain rows may be missing.
    missing = [email for email in status if accepted[email] == 0]
    assert all(status[email] == DeliveryStatus.UNCERTAIN for email in missing)
