"""Subscribers to and from CSV: a streaming export and an import that keeps consent records."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from digest.errors import InputError
from digest.store.models import Subscriber, SubscriberStatus
from digest.subscribers.core import (
    SUPPRESSIONS,
    _check_language,
    _check_timezone,
    add,
    check_delivery_time,
    check_status,
    check_topics,
    find,
    normalize_email,
    record,
    suppress,
)

EXPORT_COLUMNS = (
    "email",
    "name",
    "language",
    "timezone",
    "topics",
    "muted_sources",
    "delivery_time",
    "status",
    "status_reason",
    "source",
    "created_at",
    "unsubscribed_at",
    "consent_at",
    "consent_ip",
    "consent_source",
    "consent_text",
    "confirmed_at",
    "confirmed_ip",
)
"""The columns of `digest subscribers export`, in order; `import` reads them back."""

TOPIC_SEPARATOR = "|"


def _csv_value(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, list):
        return TOPIC_SEPARATOR.join(str(v) for v in value)
    return str(value)


def export_rows(
    session: Session, *, status: str | None = None, batch: int = 1000
) -> Iterator[list[str]]:
    """The export's rows (without the header) by email, fetched ``batch`` at a time.

    Plain columns, not ORM objects, and a streaming cursor (server-side on
    PostgreSQL): memory stays flat however many subscribers there are.
    """
    wanted = check_status(status)
    query = select(*(getattr(Subscriber, name) for name in EXPORT_COLUMNS)).order_by(
        Subscriber.email
    )
    if wanted is not None:
        query = query.where(Subscriber.status == wanted)
    for row in session.execute(query.execution_options(yield_per=batch)):
        yield [_csv_value(value) for value in row]


def export_csv(
    session: Session, handle: TextIO, *, status: str | None = None, batch: int = 1000
) -> int:
    """Write the header and every subscriber (or those with ``status``); return the row count.

    Timestamps are ISO 8601 in UTC, topics are separated by ``|``.
    """
    check_status(status)  # before the header goes out
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    for row in export_rows(session, status=status, batch=batch):
        writer.writerow(row)
        count += 1
    return count


@dataclass(frozen=True)
class ImportProblem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class ImportReport:
    # New addresses, including those imported with a status other than active...
    added: int = 0
    # ...which are counted here too: they keep that status and are not sent to.
    inactive: int = 0
    updated: int = 0
    unchanged: int = 0
    # Addresses already here and not active (unsubscribed, bounced, paused...):
    # left as they are, never re-activated.
    suppressed: int = 0
    problems: list[ImportProblem] = field(default_factory=list)


def import_csv(
    session: Session,
    path: Path,
    *,
    now: datetime,
    source: str | None = None,
    allowed_topics: Sequence[str] = (),
) -> ImportReport:
    """Import a CSV with an ``email`` column and any of the export's other columns.

    New addresses get the row's details, topics (checked against
    ``allowed_topics``), status and, when the row has a ``consent_at``, its
    consent record; otherwise the consent record says "imported from this file
    now" (``source`` overrides the default ``import:<file name>``). An
    address already here keeps its consent record and is never re-activated;
    only its name, language and time zone are updated, and a suppression in the
    file (unsubscribed, bounced, complained) is applied to it: an opt-out is never
    lost. Bad rows are reported with the line they start on; the others are imported.
    """
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as err:
        raise InputError(f"cannot read {path}: {err.strerror}") from None
    report = ImportReport()
    context = _ImportContext(path.name, source or f"import:{path.name}", allowed_topics, now)
    with handle:
        try:
            reader = csv.DictReader(handle)
            if "email" not in [c.strip().lower() for c in reader.fieldnames or []]:
                raise InputError(f"{path}: the first line must be a header with an 'email' column")
            _import_rows(session, reader, context, report)
        except UnicodeDecodeError:
            raise InputError(
                f"{path} is not UTF-8 text", hint="save it as CSV in UTF-8 and import it again"
            ) from None
        except csv.Error as err:
            raise InputError(f"{path} is not a readable CSV file: {err}") from None
    return report


@dataclass(frozen=True)
class _ImportContext:
    file: str
    source: str
    allowed_topics: Sequence[str]
    now: datetime


ImportOutcome = Literal["added", "inactive", "updated", "unchanged", "suppressed"]


def _import_rows(
    session: Session, reader: csv.DictReader[str], context: _ImportContext, report: ImportReport
) -> None:
    end = reader.line_num
    for row in reader:
        # A quoted consent text may span lines: report the line the row starts on.
        line, end = end + 1, reader.line_num
        if None in row:  # csv puts values beyond the header's columns there
            report.problems.append(ImportProblem(line, "more values than the header has columns"))
            continue
        raw = {(k or "").strip().lower(): v or "" for k, v in row.items()}
        values = {k: v.strip() for k, v in raw.items()}
        if not any(values.values()):
            continue
        try:
            with session.begin_nested():
                outcome = _import_row(session, values, raw, context)
        except InputError as err:
            if _suppressed(session, values.get("email", "")):
                report.suppressed += 1
            else:
                report.problems.append(ImportProblem(line, err.message))
            continue
        if outcome == "inactive":
            report.added += 1
        setattr(report, outcome, getattr(report, outcome) + 1)


def _import_row(
    session: Session, values: dict[str, str], raw: dict[str, str], context: _ImportContext
) -> ImportOutcome:
    """Import one row; return the ImportReport counter it adds to. InputError: a bad row."""
    fields = _subscriber_fields(values, raw, context)
    status: SubscriberStatus = fields["status"]
    existing = session.scalar(select(Subscriber).where(Subscriber.email == fields["email"]))
    if existing is None:
        subscriber = Subscriber(**fields)
        session.add(subscriber)
        session.flush()
        record(
            session,
            subscriber,
            "imported",
            now=context.now,
            file=context.file,
            status=str(status),
            consent="from file" if values.get("consent_at") else "import",
        )
        return "added" if status == SubscriberStatus.ACTIVE else "inactive"
    if status in SUPPRESSIONS:
        reason = fields["status_reason"] or f"{status} in {context.file}"
        if suppress(session, existing, status, now=context.now, reason=reason):
            return "updated"
    if existing.status != SubscriberStatus.ACTIVE:
        return "suppressed"
    _, outcome = add(
        session,
        existing.email,
        now=context.now,
        name=fields["name"],
        language=fields["language"],
        timezone=fields["timezone"],
    )
    return outcome


def _subscriber_fields(
    values: dict[str, str], raw: dict[str, str], context: _ImportContext
) -> dict[str, Any]:
    """A new subscriber's columns from a CSV row, all checked before any is used."""
    now = context.now
    status = check_status(values.get("status")) or SubscriberStatus.ACTIVE
    fields: dict[str, Any] = {
        "email": normalize_email(values.get("email", "")),
        "name": _text(values, "name", 300),
        "language": _check_language(values.get("language")),
        "timezone": _check_timezone(values.get("timezone")),
        "topics": _topics(values.get("topics", ""), context.allowed_topics),
        # Source names as in the articles' `source`; any name may be muted.
        "muted_sources": [
            m.strip()[:300]
            for m in values.get("muted_sources", "").split(TOPIC_SEPARATOR)
            if m.strip()
        ],
        "delivery_time": check_delivery_time(values.get("delivery_time")),
        "status": status,
        "status_reason": (
            _text(values, "status_reason", 500) if status != SubscriberStatus.ACTIVE else None
        ),
        "created_at": _time(values, "created_at") or now,
        "updated_at": now,
        "unsubscribed_at": (
            (_time(values, "unsubscribed_at") or now) if status in SUPPRESSIONS else None
        ),
    }
    if values.get("consent_at"):
        # An exported consent record: kept exactly as it was.
        return fields | {
            "source": _text(values, "source", 50) or context.source[:50],
            "consent_at": _time(values, "consent_at"),
            "consent_ip": _text(values, "consent_ip", 64),
            "consent_source": _text(values, "consent_source", 200),
            "consent_text": raw.get("consent_text") or None,
            "confirmed_at": _time(values, "confirmed_at"),
            "confirmed_ip": _text(values, "confirmed_ip", 64),
        }
    # No record in the file: the operator importing the list vouches for the consent.
    return fields | {
        "source": context.source[:50],
        "consent_at": now,
        "consent_source": context.source[:200],
        "confirmed_at": now if status == SubscriberStatus.ACTIVE else None,
    }


def _text(values: dict[str, str], column: str, limit: int) -> str | None:
    value = values.get(column) or None
    if value is not None and len(value) > limit:
        raise InputError(f"{column} is longer than {limit} characters")
    return value


def _time(values: dict[str, str], column: str) -> datetime | None:
    value = values.get(column)
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(
            f"{column} {value!r} is not an ISO 8601 time like 2026-11-25T05:00:00+00:00"
        ) from None
    # Without an offset the time is taken as UTC, as the export writes it.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _topics(value: str, allowed: Sequence[str]) -> list[str]:
    topics = [t.strip() for t in value.split(TOPIC_SEPARATOR) if t.strip()]
    if topics and not allowed:
        raise InputError(f"topic(s) {', '.join(topics)} given, but newsletter.topics is empty")
    return check_topics(topics, allowed)


def _suppressed(session: Session, email: str) -> bool:
    try:
        subscriber = find(session, email)
    except InputError:
        return False
    return subscriber is not None and subscriber.status != SubscriberStatus.ACTIVE
