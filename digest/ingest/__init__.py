"""The ingest stage: articles from files, feeds and pages into the store.

``ingest(sources, db, now=..., default_tz=...)`` reads each source (a path, a
directory of source files, or an http(s) URL; see :mod:`digest.ingest.sources` for how
the kind is detected), parses it into :class:`ArticleRecord` s (JSON/JSONL in
:mod:`.jsonfile`, RSS/Atom in :mod:`.feed`, HTML pages in :mod:`.html`), cleans each
record (:mod:`.clean`) and upserts it by canonical URL (:mod:`.urls`).

Failures are collected, never raised: a source that cannot be read is one problem
with ``record=None``; a bad record is one problem with its number, and the rest of its
source still loads. A record lacking a link, a date or a title is not a problem: it gets
one by fallback (:mod:`.fallbacks`) and the report counts how many did; only a record
without any text, or without any link to give it, is refused. Each record is stored
in its own SAVEPOINT, so a database error on one article does not lose the others.
Re-ingesting the same input is idempotent: the same canonical URL with the same
content is "unchanged", and an estimated date stays as first stored.
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
from digest.ingest.records import ArticleRecord, DateEstimate, FetchedDoc, Origin, Parsed
from digest.ingest.sources import Fetch, Kind, detect_kind, expand, http_fetch, is_url, read_file
from digest.ingest.urls import canonical_url, is_http_url
from digest.store.articles import upsert_article
from digest.store.db import Database

__all__ = [
    "ArticleRecord",
    "DateEstimate",
    "FetchedDoc",
    "IngestProblem",
    "IngestReport",
    "Origin",
    "canonical_url",
    "clean_record",
    "clean_title",
    "http_fetch",
    "ingest",
    "is_http_url",
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
    # Stored records whose date is an estimate (no date of their own), whose link is
    # a fallback (an entry id, --base-url, the site's home page), whose title was taken
    # from their text. Not problems: the articles are stored.
    estimated_dates: int = 0
    fallback_urls: int = 0
    derived_titles: int = 0


def _message(err: IngestError) -> str:
    return f"{err.message} ({err.hint})" if err.hint else err.message


def parse_source(
    source: str,
    *,
    default_tz: ZoneInfo,
    now: datetime | None = None,
    fetch: Fetch | None = None,
    base_url: str | None = None,
) -> Parsed:
    """Read and parse one source (no cleaning, no database). Raises IngestError.

    ``base_url`` is the site local files come from (``digest ingest --base-url``): it
    resolves their relative links and links the records that have none.
    """
    if is_url(source):
        try:
            doc = (fetch or http_fetch)(source)
        except (httpx.HTTPError, OSError) as err:  # an injected fetcher's own failures
            raise IngestError(f"cannot fetch the URL: {err}") from err
    else:
        doc = read_file(source)
    kind: Kind = detect_kind(source, doc)
    if kind == "json":
        return parse_json(
            doc.content, default_tz=default_tz, base_url=base_url, http_date=doc.http_date
        )
    if kind == "jsonl":
        return parse_jsonl(doc.content, default_tz=default_tz, base_url=base_url)
    if kind == "feed":
        return parse_feed(doc, default_tz=default_tz, base_url=base_url)
    return parse_html(doc, default_tz=default_tz, now=now, base_url=base_url)


def ingest(
    sources: Sequence[str],
    db: Database,
    *,
    now: datetime,
    default_tz: ZoneInfo,
    fetch: Fetch | None = None,
    base_url: str | None = None,
) -> IngestReport:
    """Store the articles of every source; see the module docstring for the guarantees.

    ``fetch`` replaces the HTTP client for URLs (tests, or a caching fetcher); it
    returns a FetchedDoc and raises IngestError when the URL cannot be read.
    ``base_url`` is the site local files come from (see :func:`parse_source`). ``now``
    is the ingest time: the date of records that have none (stored as estimated).
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
            _ingest_one(
                source, db, report, now=now, default_tz=default_tz, fetch=fetch, base_url=base_url
            )
    return report


def _ingest_one(
    source: str,
    db: Database,
    report: IngestReport,
    *,
    now: datetime,
    default_tz: ZoneInfo,
    fetch: Fetch | None,
    base_url: str | None,
) -> None:
    try:
        parsed = parse_source(
            source, default_tz=default_tz, now=now, fetch=fetch, base_url=base_url
        )
    except IngestError as err:
        report.problems.append(IngestProblem(source, None, _message(err)))
        return
    problems = [IngestProblem(source, number, message) for number, message in parsed.problems]
    outcomes: Counter[str] = Counter()
    try:
        with db.session() as session:
            for number, record in parsed.records:
                origin = parsed.origin(number)
                try:
                    data = clean_record(record, default_tz=default_tz, now=now, origin=origin)
                except IngestError as err:
                    problems.append(IngestProblem(source, number, _message(err)))
                    continue
                try:
                    with session.begin_nested():
                        outcomes[upsert_article(session, data, now=now)] += 1
                    outcomes["estimated_dates"] += data.published_at_estimate is not None
                    outcomes["fallback_urls"] += bool(origin.url_fallback or not record.url)
                    outcomes["derived_titles"] += not record.title
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
    report.estimated_dates += outcomes["estimated_dates"]
    report.fallback_urls += outcomes["fallback_urls"]
    report.derived_titles += outcomes["derived_titles"]
    # Keep the problems in record order whatever stage found them.
    problems.sort(key=lambda problem: -1 if problem.record is None else problem.record)
    report.problems.extend(problems)
