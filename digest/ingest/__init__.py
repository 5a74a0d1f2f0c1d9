"""The ingest stage: articles from files, feeds and pages into the store.

``ingest(sources, db, now=..., default_tz=...)`` reads each source (a path, a
directory of source files, or an http(s) URL; see :mod:`digest.ingest.sources` for how
the kind is detected), parses it into :class:`ArticleRecord` s (JSON/JSONL in
:mod:`.jsonfile`, RSS/Atom in :mod:`.feed`, HTML pages in :mod:`.html`), cleans each
record (:mod:`.clean`) and upserts it by canonical URL (:mod:`.urls`).

Failures are collected, never raised: a source that cannot be read is one problem
with ``record=None``; a bad record is one problem with its number, and the rest of its
source still loads. Each record is stored in its own SAVEPOINT, so a database error on
one article does not lose the others. Re-ingesting the same input is idempotent: the
same canonical URL with the same content is "unchanged".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy.exc import SQLAlchemyError

from digest.errors import IngestError
from digest.ingest.clean import clean_record, clean_title
from digest.ingest.feed import parse_feed
from digest.ingest.html import parse_html
from digest.ingest.jsonfile import parse_json, parse_jsonl
from digest.ingest.records import ArticleRecord, FetchedDoc, Parsed
from digest.ingest.sources import Fetch, Kind, detect_kind, expand, http_fetch, is_url, read_file
from digest.ingest.urls import canonical_url
from digest.store.articles import upsert_article
from digest.store.db import Database

__all__ = [
    "ArticleRecord",
    "FetchedDoc",
    "IngestProblem",
    "IngestReport",
    "canonical_url",
    "clean_record",
    "clean_title",
    "http_fetch",
    "ingest",
    "parse_source",
]


@dataclass(frozen=True)
class IngestProblem:
    """Something that was not stored, and why. ``record`` None: the whole source."""

    source: str
    record: int | None
    message: str

    def __str__(self) -> str:
        where = self.source if self.record is None else f"{self.source} record {self.record}"
        return f"{where}: {self.message}"


@dataclass
class IngestReport:
    """Counts for one ingest run. ``sources`` counts every source tried, readable or not."""

    sources: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[IngestProblem] = field(default_factory=list)


def _message(err: IngestError) -> str:
    return f"{err.message} ({err.hint})" if err.hint else err.message


def parse_source(
    source: str,
    *,
    default_tz: ZoneInfo,
    now: datetime | None = None,
    fetch: Fetch | None = None,
) -> Parsed:
    """Read and parse one source (no cleaning, no database). Raises IngestError."""
    if is_url(source):
        try:
            doc = (fetch or http_fetch)(source)
        except (httpx.HTTPError, OSError) as err:  # an injected fetcher's own failures
            raise IngestError(f"cannot fetch the URL: {err}") from err
    else:
        doc = read_file(source)
    kind: Kind = detect_kind(source, doc)
    if kind == "json":
        return parse_json(doc.content, default_tz=default_tz)
    if kind == "jsonl":
        return parse_jsonl(doc.content, default_tz=default_tz)
    if kind == "feed":
        return parse_feed(doc, default_tz=default_tz)
    return parse_html(doc, default_tz=default_tz, now=now)


def ingest(
    sources: Sequence[str],
    db: Database,
    *,
    now: datetime,
    default_tz: ZoneInfo,
    fetch: Fetch | None = None,
) -> IngestReport:
    """Store the articles of every source; see the module docstring for the guarantees.

    ``fetch`` replaces the HTTP client for URLs (tests, or a caching fetcher); it
    returns a FetchedDoc and raises IngestError when the URL cannot be read.
    """
    report = IngestReport()
    for argument in sources:
        try:
            expanded = expand(argument)
        except IngestError as err:
            report.sources += 1
            report.problems.append(IngestProblem(argument, None, _message(err)))
            continue
        for source in expanded:
            report.sources += 1
            _ingest_one(source, db, report, now=now, default_tz=default_tz, fetch=fetch)
    return report


def _ingest_one(
    source: str,
    db: Database,
    report: IngestReport,
    *,
    now: datetime,
    default_tz: ZoneInfo,
    fetch: Fetch | None,
) -> None:
    try:
        parsed = parse_source(source, default_tz=default_tz, now=now, fetch=fetch)
    except IngestError as err:
        report.problems.append(IngestProblem(source, None, _message(err)))
        return
    problems = [IngestProblem(source, number, message) for number, message in parsed.problems]
    outcomes: Counter[str] = Counter()
    try:
        with db.session() as session:
            for number, record in parsed.records:
                try:
                    data = clean_record(record, default_tz=default_tz)
                except IngestError as err:
                    problems.append(IngestProblem(source, number, _message(err)))
                    continue
                try:
                    with session.begin_nested():
                        outcomes[upsert_article(session, data, now=now)] += 1
                except SQLAlchemyError as err:
                    reason = getattr(err, "orig", None) or err
                    problems.append(
                        IngestProblem(source, number, f"the database refused the article: {reason}")
                    )
    except SQLAlchemyError as err:
        # The final commit failed: nothing of this source was stored.
        outcomes.clear()
        reason = getattr(err, "orig", None) or err
        problems.append(IngestProblem(source, None, f"could not save to the database: {reason}"))
    report.added += outcomes["added"]
    report.updated += outcomes["updated"]
    report.unchanged += outcomes["unchanged"]
    # Keep the problems in record order whatever stage found them.
    problems.sort(key=lambda problem: -1 if problem.record is None else problem.record)
    report.problems.extend(problems)
