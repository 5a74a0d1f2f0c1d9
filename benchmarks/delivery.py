"""Benchmark: hand one edition to 100,000 and 1,000,000 subscribers through a fake SendGrid.

    .venv/bin/python benchmarks/delivery.py [--sizes 100000 1000000] [--database sqlite|URL]

Targets on the 2-core reference machine: at least 20,000 recipients per second,
1,000,000 recipients in at most 60 s, and a peak RSS of at most 300 MB.

For each size, outside the timed part, a fresh database (a SQLite file, or a
new database with a random name on the PostgreSQL server at URL, dropped
afterwards) gets N active subscribers and the shipped sample articles. The
subscribers vary as real ones do: about half have a name (some non-ASCII,
some with an apostrophe), three in ten read English (the second variant),
one in twenty chose a delivery time that has already come. The
timed part is :func:`digest.pipeline.send` as ``digest send`` runs it: plan,
render both language variants, freeze, then deliver (lease, enqueue the
ledger rows, claim, post, settle) to the fake SendGrid API
(``python -m tests.fake_sendgrid --fast``), which runs in its own process so
it does not compete for the benchmark's GIL.

Each stage runs in a fresh process: the set-up (its bulk inserts would
otherwise raise the high-water mark), the send (``ru_maxrss`` is the peak RSS
of that process alone) and the references:

* ceiling: the same request bodies (real ones, built with the backend's own
  payload code from the edition and subscribers just sent, prepared in
  advance), posted in a tight loop with the same HTTP client and concurrency;
* naive: one request per recipient (``SendGridBackend.send`` of a locally
  personalized message), same client and concurrency.

The fake server counts the personalizations it received; the run checks that
they equal N. Exits with 1 when a target is missed; ``--json`` also prints
the raw figures.
"""

from __future__ import annotations

import argparse
import concurrent.futures as futures
import gc
import itertools
import json
import os
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from digest.config import Settings, load_settings, normalize_database_url  # noqa: E402

TARGET_RATE = 20_000
TARGET_MILLION_SECONDS = 60.0
TARGET_RSS_MB = 300.0
# A fixed edition morning; the send's clock advances from here in real time.
NOW = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
BASE_URL = "https://news.example.com"
FIRST_NAMES = ("Anna", "Jonas", "Léa", "Mehmet", "Zoë", "Ólafur", "Sophie", "Lukas", "Emma", "Ben")
LAST_NAMES = ("Müller", "Schmidt", "O'Neill", "Nguyen", "Weiß", "García", "Smith", "Kowalski")
INSERT_CHUNK = 20_000


# --------------------------------------------------------------------------- settings


def _settings(database_url: str, server: str, workdir: Path, concurrency: int | None) -> Settings:
    env = {
        "DIGEST__DATABASE__URL": database_url,
        "DIGEST__NEWSLETTER__BASE_URL": BASE_URL,
        "DIGEST__DELIVERY__BACKEND": "sendgrid",
        "DIGEST__DELIVERY__SENDGRID__API_HOST": server,
        "SENDGRID_API_KEY": "SG.benchmark-key",
        "DIGEST_SECRET_KEY": "benchmark-secret",
    }
    if concurrency is not None:
        env["DIGEST__DELIVERY__SENDGRID__CONCURRENCY"] = str(concurrency)
    return load_settings(None, environ=env, cwd=workdir)


def _peak_rss_mb() -> float:
    # Kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --------------------------------------------------------------------------- stages (children)


def _subscriber_rows(start: int, stop: int) -> Iterator[dict[str, Any]]:
    """Deterministic, varied subscribers: about half named (some non-ASCII), three in
    ten in English, one in twenty with a delivery time that is already due."""
    for n in range(start, stop):
        named = n % 2 == 0
        language = "en" if n % 10 < 3 else ("de" if n % 10 < 5 else None)
        timed = n % 20 == 7
        yield {
            "email": f"reader{n:07d}@example{n % 7}.com",
            "name": f"{FIRST_NAMES[n % 10]} {LAST_NAMES[n % 8]}" if named else None,
            "language": language,
            "timezone": "Europe/Berlin" if timed else None,
            "delivery_time": "05:30" if timed else None,
            "status": "active",
            "source": "benchmark",
            "topics": [],
            "created_at": NOW,
            "updated_at": NOW,
        }


def stage_setup(args: argparse.Namespace) -> dict[str, Any]:
    from sqlalchemy import insert

    from digest import ingest, samples
    from digest.store.db import Database
    from digest.store.models import Subscriber

    workdir = Path(args.workdir)
    settings = _settings(args.database_url, args.server, workdir, None)
    started = time.perf_counter()
    db = Database(settings.database_url)
    try:
        files = samples.write_samples(workdir / "samples", now=NOW, base_url=BASE_URL)
        ingest.ingest([str(f) for f in files], db, now=NOW, default_tz=settings.newsletter.tz)
        for start in range(0, args.size, INSERT_CHUNK):
            rows = list(_subscriber_rows(start, min(start + INSERT_CHUNK, args.size)))
            with db.session() as session:
                session.execute(insert(Subscriber), rows)
    finally:
        db.dispose()
    return {"seconds": time.perf_counter() - started}


@contextmanager
def _phase_timers(spent: dict[str, float]) -> Iterator[None]:
    """Time steps of the send from outside, by wrapping the functions it calls.

    deliver: from the frozen edition to the last settled batch (so the rest
    of pipeline.send is planning, rendering both variants and freezing);
    enqueue, read, claim, settle: the ledger statements, measured on the
    loop's thread (wall time, so waiting for the GIL is included).
    """
    from digest import pipeline
    from digest.delivery import ledger, ledger_batches

    targets: list[tuple[Any, str, str]] = [
        (pipeline, "deliver", "deliver"),
        (ledger, "enqueue", "enqueue"),
        (ledger_batches, "pending_page", "read"),
        (ledger_batches, "claim", "claim"),
        (ledger_batches, "settle", "settle"),
    ]
    originals = [(module, name, getattr(module, name)) for module, name, _ in targets]

    def wrap(function: Callable[..., Any], key: str) -> Callable[..., Any]:
        def timed(*a: Any, **kw: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*a, **kw)
            finally:
                spent[key] = spent.get(key, 0.0) + time.perf_counter() - started

        return timed

    for (module, name, key), (_, _, original) in zip(targets, originals, strict=True):
        setattr(module, name, wrap(original, key))
    try:
        yield
    finally:
        for module, name, original in originals:
            setattr(module, name, original)


@contextmanager
def _gc_timer(spent: dict[str, float], runs: dict[str, int]) -> Iterator[None]:
    """Time the garbage collector's passes (they run inside whatever allocates)."""
    started: list[float] = []

    def callback(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started.append(time.perf_counter())
        elif started:
            spent["gc"] = spent.get("gc", 0.0) + time.perf_counter() - started.pop()
            key = f"gen{info['generation']}"
            runs[key] = runs.get(key, 0) + 1

    gc.callbacks.append(callback)
    try:
        yield
    finally:
        gc.callbacks.remove(callback)


def stage_send(args: argparse.Namespace) -> dict[str, Any]:
    from digest import editions, pipeline
    from digest.store.db import Database

    settings = _settings(args.database_url, args.server, Path(args.workdir), args.concurrency)
    day = editions.local_date(NOW, settings)
    db = Database(settings.database_url)
    rss_before = _peak_rss_mb()
    cpu_before = _cpu_seconds()
    wall_start = time.perf_counter()

    def clock() -> datetime:
        return NOW + timedelta(seconds=time.perf_counter() - wall_start)

    spent: dict[str, float] = {}
    gc_runs: dict[str, int] = {}
    try:
        with _phase_timers(spent), _gc_timer(spent, gc_runs):
            started = time.perf_counter()
            report = pipeline.send(db, settings, day, clock=clock)
            seconds = time.perf_counter() - started
    finally:
        db.dispose()
    return {
        "seconds": seconds,
        "cpu_seconds": _cpu_seconds() - cpu_before,
        "sent": report.sent,
        "failed": report.failed,
        "pending": report.pending,
        "uncertain": report.uncertain,
        "waiting": report.waiting,
        "complete": report.complete,
        "errors": report.errors[:5],
        "phases": spent,
        "gc_runs": gc_runs,
        "rss_before_mb": rss_before,
        "peak_rss_mb": _peak_rss_mb(),
        "concurrency": settings.delivery.sendgrid.concurrency,
    }


def _reference_batches(settings: Settings, count: int, size: int) -> list[Any]:
    """``count`` batches of ``size`` real recipients of the frozen edition."""
    from sqlalchemy import select

    from digest import editions
    from digest.delivery.base import Batch
    from digest.delivery.ledger_batches import PendingRow
    from digest.delivery.send import recipient_builder
    from digest.pipeline import signer_for
    from digest.store.db import Database
    from digest.store.models import Subscriber

    db = Database(settings.database_url)
    try:
        with db.session() as session:
            edition = editions.get(session, editions.local_date(NOW, settings))
            assert edition is not None and edition.id is not None
            variants = editions.variants_of(edition)
            edition_id = edition.id
            rows = session.execute(
                select(
                    Subscriber.id,
                    Subscriber.email,
                    Subscriber.name,
                    Subscriber.language,
                    Subscriber.status,
                    Subscriber.delivery_time,
                    Subscriber.timezone,
                )
                .order_by(Subscriber.id)
                .limit(count * size)
            ).all()
    finally:
        db.dispose()
    language = settings.newsletter.language
    build = recipient_builder(settings, signer_for(settings), edition_id, NOW.date())
    newsletter = settings.newsletter
    batches = []
    for start in range(0, len(rows), size):
        recipients = [
            build(PendingRow(start + i + 1, *row))
            for i, row in enumerate(rows[start : start + size])
        ]
        batches.append(
            Batch(
                rendered=variants[language],
                recipients=recipients,
                from_email=newsletter.from_email,
                from_name=newsletter.sender_name,
                reply_to=newsletter.reply_to,
                categories=tuple(settings.delivery.sendgrid.categories),
                date=NOW,
            )
        )
    return batches


def _post_all(jobs: list[Callable[[], bool]], concurrency: int) -> tuple[float, int]:
    """Run ``jobs`` with ``concurrency`` threads; (seconds, how many returned True)."""
    started = time.perf_counter()
    with futures.ThreadPoolExecutor(max_workers=concurrency) as pool:
        ok = sum(pool.map(lambda job: job(), jobs))
    return time.perf_counter() - started, ok


def stage_reference(args: argparse.Namespace) -> dict[str, Any]:
    from digest.delivery import get_backend
    from digest.delivery.base import BatchOutcome
    from digest.delivery.sendgrid import SendGridBackend
    from digest.delivery.sendgrid_api import MAIL_SEND_PATH, call, post_json
    from digest.delivery.sendgrid_batch import TemplateCache, prepare, request_body

    settings = _settings(args.database_url, args.server, Path(args.workdir), args.concurrency)
    concurrency = settings.delivery.sendgrid.concurrency
    backend = get_backend(settings)
    assert isinstance(backend, SendGridBackend)
    result: dict[str, Any] = {"concurrency": concurrency}

    # Ceiling: real bodies of the edition just sent, built before the clock
    # starts with the backend's own payload code, posted as the backend posts.
    batches = _reference_batches(settings, args.ceiling_bodies, backend.batch_size)
    templates = TemplateCache()
    bodies: list[tuple[bytes, int]] = []
    for batch in batches:
        template = templates.get(batch, backend.options)
        prepared = prepare(template, batch.recipients, BatchOutcome())
        bodies.append((request_body(template, prepared), len(prepared)))
    url = backend.api_host + MAIL_SEND_PATH
    key = "SG.benchmark-key"
    timeout = backend.timeout
    host = backend.api_host

    def post(data: bytes) -> Callable[[], bool]:
        def job() -> bool:
            answer = call(lambda: post_json(url, key, data, timeout), host, timeout)
            return answer.kind == "accepted"

        return job

    chosen = list(itertools.islice(itertools.cycle(bodies), args.ceiling_requests))
    seconds, ok = _post_all([post(data) for data, _ in chosen], concurrency)
    assert ok == len(chosen), f"ceiling: {len(chosen) - ok} requests not accepted"
    recipients = sum(count for _, count in chosen)
    result["ceiling"] = {
        "requests": len(chosen),
        "recipients": recipients,
        "seconds": seconds,
        "rate": recipients / seconds,
        "body_mb": sum(len(data) for data, _ in bodies) / len(bodies) / 1e6,
    }

    # Naive: one request per recipient (SendGridBackend.send), each message
    # personalized locally, with the same client and concurrency.
    naive_batches = _reference_batches(settings, 1, args.naive)
    batch = naive_batches[0]

    def send_one(index: int) -> Callable[[], bool]:
        def job() -> bool:
            backend.send(batch.message(batch.recipients[index]))
            return True

        return job

    with backend:
        seconds, ok = _post_all([send_one(i) for i in range(len(batch.recipients))], concurrency)
    result["naive"] = {
        "recipients": ok,
        "seconds": seconds,
        "rate": ok / seconds,
    }
    return result


STAGES: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
    "setup": stage_setup,
    "send": stage_send,
    "reference": stage_reference,
}


# --------------------------------------------------------------------------- the parent


@contextmanager
def fake_server(log: Path) -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fake_sendgrid", "--port", "0", "--fast", "--log", str(log)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        if not url.startswith("http://"):
            raise RuntimeError("the fake SendGrid server did not start")
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()


def received(log: Path) -> tuple[int, int]:
    """(mail/send requests, personalizations) the fake server accepted so far."""
    requests = personalizations = 0
    with log.open(encoding="utf-8") as lines:
        for line in lines:
            entry = json.loads(line)
            if entry["path"] == "/v3/mail/send" and entry["accepted"]:
                requests += 1
                personalizations += int(entry["personalizations"])
    return requests, personalizations


@contextmanager
def fresh_database(choice: str, workdir: Path) -> Iterator[str]:
    """A SQLite file in ``workdir``, or a new database on the server at URL, dropped after."""
    if choice == "sqlite":
        yield f"sqlite:///{workdir / 'digest.db'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin_url = normalize_database_url(choice, workdir)
    name = f"digest_bench_{secrets.token_hex(6)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run_stage(stage: str, args: argparse.Namespace, **extra: Any) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--stage", stage]
    options = {
        "database-url": args.database_url,
        "server": args.server,
        "workdir": args.workdir,
        "size": args.size,
        "ceiling-bodies": args.ceiling_bodies,
        "ceiling-requests": args.ceiling_requests,
        "naive": args.naive,
    } | extra
    if args.concurrency is not None:
        options["concurrency"] = args.concurrency
    for name, value in options.items():
        command += [f"--{name}", str(value)]
    done = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def measure(size: int, args: argparse.Namespace) -> dict[str, Any]:
    base = Path(tempfile.mkdtemp(prefix="digest-bench-", dir=args.tmp))
    try:
        with (
            fresh_database(args.database, base) as url,
            fake_server(base / "sendgrid.log") as server,
        ):
            stage_args = argparse.Namespace(**vars(args))
            stage_args.database_url, stage_args.server = url, server
            stage_args.workdir, stage_args.size = str(base), size
            print(f"[{size:,}] setting up ...", file=sys.stderr, flush=True)
            setup = run_stage("setup", stage_args)
            print(
                f"[{size:,}] set up in {setup['seconds']:.1f} s; sending ...",
                file=sys.stderr,
                flush=True,
            )
            send = run_stage("send", stage_args)
            requests, personalizations = received(base / "sendgrid.log")
            print(
                f"[{size:,}] sent in {send['seconds']:.1f} s; references ...",
                file=sys.stderr,
                flush=True,
            )
            reference = run_stage("reference", stage_args)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    return {
        "size": size,
        "setup": setup,
        "send": send,
        "requests": requests,
        "personalizations": personalizations,
        "reference": reference,
    }


def report(results: list[dict[str, Any]], args: argparse.Namespace) -> bool:
    backend = "SQLite" if args.database == "sqlite" else "PostgreSQL"
    print(
        f"\nDelivery: one edition through the fake SendGrid on loopback ({backend}, "
        f"{os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"concurrency {results[0]['send']['concurrency']})\n"
    )
    header = (
        f"{'recipients':>11} {'seconds':>8} {'rec/s':>8} {'peak RSS MB':>12} "
        f"{'ceiling rec/s':>14} {'naive rec/s':>12} {'naive 1M':>9} {'received':>10}"
    )
    print(header)
    print("-" * len(header))
    ok = True
    for r in results:
        send, ref = r["send"], r["reference"]
        rate = r["size"] / send["seconds"]
        naive_rate = ref["naive"]["rate"]
        print(
            f"{r['size']:>11,} {send['seconds']:>8.1f} {rate:>8,.0f} {send['peak_rss_mb']:>12.0f} "
            f"{ref['ceiling']['rate']:>14,.0f} {naive_rate:>12,.0f} "
            f"{1_000_000 / naive_rate / 60:>7.0f} m {r['personalizations']:>10,}"
        )
    print()
    for r in results:
        send, ref = r["send"], r["reference"]
        phases = send["phases"]
        before = send["seconds"] - phases["deliver"]
        ledger = ", ".join(f"{k} {phases[k]:.1f}" for k in ("enqueue", "read", "claim", "settle"))
        runs = ", ".join(f"{k} {v}" for k, v in sorted(send["gc_runs"].items()))
        print(
            f"{r['size']:,}: {r['requests']} requests; CPU {send['cpu_seconds']:.1f} s; "
            f"RSS {send['rss_before_mb']:.0f} MB before the send; plan, render and freeze "
            f"{before:.1f} s; on the loop's thread (s): {ledger}; gc {phases.get('gc', 0):.1f} s "
            f"({runs}); sent {send['sent']:,}, failed {send['failed']}, pending "
            f"{send['pending']}, uncertain {send['uncertain']}"
        )
        ceiling, naive = ref["ceiling"], ref["naive"]
        print(
            f"    ceiling: {ceiling['requests']:,} requests of {ceiling['body_mb']:.2f} MB in "
            f"{ceiling['seconds']:.1f} s; naive: {naive['recipients']:,} requests in "
            f"{naive['seconds']:.1f} s"
        )
    print("\nTargets:")
    for r in results:
        send = r["send"]
        rate = r["size"] / send["seconds"]
        received = r["personalizations"] == r["size"] and send["sent"] == r["size"]
        checks = [
            (f"{r['size']:,}: the server received {r['personalizations']:,}", received),
            (f"{r['size']:,}: {rate:,.0f} recipients/s >= {TARGET_RATE:,}", rate >= TARGET_RATE),
            (
                f"{r['size']:,}: peak RSS {send['peak_rss_mb']:.0f} MB <= {TARGET_RSS_MB:.0f} MB",
                send["peak_rss_mb"] <= TARGET_RSS_MB,
            ),
        ]
        if r["size"] == 1_000_000:
            seconds = send["seconds"]
            checks.append(
                (
                    f"1,000,000 in {seconds:.1f} s <= {TARGET_MILLION_SECONDS:.0f} s",
                    seconds <= TARGET_MILLION_SECONDS,
                )
            )
        for text, met in checks:
            ok &= met
            print(f"  {'met   ' if met else 'MISSED'} {text}")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument(
        "--database", default="sqlite", help="sqlite, or a PostgreSQL URL to create a database on"
    )
    parser.add_argument(
        "--concurrency", type=int, help="requests in flight (default: the setting's default)"
    )
    parser.add_argument("--ceiling-bodies", type=int, default=20, help="distinct bodies")
    parser.add_argument("--ceiling-requests", type=int, default=1000, help="requests posted")
    parser.add_argument("--naive", type=int, default=2000, help="recipients, one request each")
    parser.add_argument("--tmp", default=None, help="folder for the databases and logs")
    parser.add_argument("--keep", action="store_true", help="keep the databases and logs")
    parser.add_argument("--json", action="store_true", help="print the raw results as JSON too")
    # Internal: one stage in a fresh process.
    parser.add_argument("--stage", choices=sorted(STAGES), help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--server", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stage:
        print(json.dumps(STAGES[args.stage](args)), flush=True)
        return 0
    results = [measure(size, args) for size in args.sizes]
    if args.json:
        print(json.dumps(results, indent=2))
    return 0 if report(results, args) else 1


if __name__ == "__main__":
    sys.exit(main())
