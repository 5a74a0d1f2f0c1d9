"""Ingesting JSON and JSON Lines into the store: idempotency, problems, source handling."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

import digest.ingest as ingest_module
from digest.ingest import IngestProblem, IngestReport, ingest
from digest.store.articles import ArticleData, UpsertOutcome, count_articles, upsert_article
from digest.store.db import Database
from digest.store.models import Article

DATA = Path(__file__).parent / "data" / "ingest"
NOW = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


def assert_no_boilerplate(*texts: str) -> None:
    """None of the fixtures' boilerplate phrases (boilerplate-phrases.txt) in ``texts``."""
    lines = (DATA / "boilerplate-phrases.txt").read_text(encoding="utf-8").splitlines()
    phrases = [line for line in lines if line.strip() and not line.startswith("#")]
    for text_ in texts:
        found = [phrase for phrase in phrases if phrase.lower() in text_.lower()]
        assert not found, f"boilerplate reached the article: {found}"


def run(db: Database, *sources: str | Path) -> IngestReport:
    return ingest([str(source) for source in sources], db, now=NOW, default_tz=BERLIN)


def articles(db: Database) -> list[Article]:
    with db.session() as session:
        return list(session.scalars(select(Article).order_by(Article.canonical_url)))


def counts(report: IngestReport) -> tuple[int, int, int, int]:
    return report.sources, report.added, report.updated, report.unchanged


def copy_json(tmp_path: Path, name: str, change: dict[str, Any] | None = None) -> Path:
    document = json.loads((DATA / name).read_text(encoding="utf-8"))
    items = document["articles"] if isinstance(document, dict) else document
    items[0].update(change or {})
    target = tmp_path / name
    target.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return target


def test_raw_articles_are_stored_clean(db: Database) -> None:
    report = run(db, DATA / "raw-de.json", DATA / "raw-en.json")
    assert counts(report) == (2, 2, 0, 0)
    assert report.problems == []
    en, de = articles(db)
    assert de.title == "Hamburger Hafen testet autonome Containerbrücken mit KI-Steuerung"
    assert (
        de.canonical_url
        == "https://www.techfunk.example/news/hamburger-hafen-autonome-containerbruecken"
    )
    assert de.published_at == datetime(2026, 11, 24, 6, 45, tzinfo=UTC)
    assert de.teaser.startswith("Der Hamburger Hafen erprobt")
    assert en.title == "Norrland Semi picks Dresden for its first European chip plant"
    assert en.priority == 2.5
    for article in (de, en):
        assert_no_boilerplate(article.teaser, article.body_text, article.body_html)
        assert article.created_at == article.updated_at == NOW


def test_reingest_is_unchanged_and_a_changed_body_is_updated(db: Database, tmp_path: Path) -> None:
    assert counts(run(db, DATA / "raw-de.json")) == (1, 1, 0, 0)
    assert counts(run(db, DATA / "raw-de.json")) == (1, 0, 0, 1)
    stored = articles(db)[0]

    changed = copy_json(
        tmp_path,
        "raw-de.json",
        {
            "body": "HAMBURG (TECHFUNK) – Der Test im Hafen wurde nach einem Sturm "
            "unterbrochen, teilte die Betreiberin mit."
        },
    )
    report = ingest([str(changed)], db, now=NOW.replace(hour=6), default_tz=BERLIN)
    assert counts(report) == (1, 0, 1, 0)
    (updated,) = articles(db)
    assert updated.id == stored.id
    assert (
        updated.body_text
        == "Der Test im Hafen wurde nach einem Sturm unterbrochen, teilte die Betreiberin mit."
    )
    assert updated.content_hash != stored.content_hash
    assert updated.updated_at == NOW.replace(hour=6) and updated.created_at == NOW


def test_tracking_parameters_and_fragment_map_to_the_same_article(
    db: Database, tmp_path: Path
) -> None:
    run(db, DATA / "raw-de.json")
    variant = copy_json(
        tmp_path,
        "raw-de.json",
        {
            "url": "https://www.TechFunk.example:443/news/hamburger-hafen-autonome-containerbruecken"
            "?utm_campaign=morgen&fbclid=XYZ#top"
        },
    )
    assert counts(run(db, variant)) == (1, 0, 0, 1)
    with db.session() as session:
        assert count_articles(session) == 1


def test_jsonl_bad_records_are_reported_and_good_ones_load(db: Database) -> None:
    report = run(db, DATA / "mixed.jsonl")
    assert counts(report) == (1, 3, 0, 0)
    source = str(DATA / "mixed.jsonl")
    by_line = {problem.record: problem.message for problem in report.problems}
    assert all(problem.source == source for problem in report.problems)
    assert list(by_line) == [3, 5, 6, 7, 9, 11]  # in line order
    assert by_line[3].startswith("not valid JSON")
    assert (
        by_line[5].startswith("published_at: not an ISO 8601 date") and "gestern früh" in by_line[5]
    )
    assert by_line[6].startswith("url: must be an absolute http(s) link")
    assert by_line[7] == "priority: must be between -10 and 10, got 42"
    assert by_line[9].startswith("body: no article text left")
    assert "expected an object" in by_line[11]
    assert str(report.problems[1]) == (
        f"{source} record 5: published_at: not an ISO 8601 date like "
        "2026-11-24T07:30:00+01:00, got 'gestern früh'"
    )
    eins, untitled, zwei = articles(db)
    assert eins.source == "Kurzschluss Blog" and eins.topics == ["KI"]
    # Line 4 has no title: its text gives one.
    assert untitled.title == "Text ohne Titel" and report.derived_titles == 1
    # A naive timestamp is local time in the configured zone: 09:30 in Berlin.
    assert zwei.published_at == datetime(2026, 11, 24, 8, 30, tzinfo=UTC)
    assert zwei.priority == -1.5


def test_json_array_record_numbers(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "articles.json"
    good = {
        "url": "https://news.example/a",
        "title": "Ein gültiger Artikel",
        "published_at": "2026-11-24T08:00:00Z",
        "body": "Ein Absatz mit genug Inhalt für einen Artikel.",
    }
    no_text = {"url": "https://news.example/leer", "title": " ", "body": "", "teaser": None}
    path.write_text(json.dumps([good, {**good, "url": "mailto:x@example.com"}, no_text]))
    report = run(db, path)
    assert counts(report) == (1, 1, 0, 0)
    assert [str(problem) for problem in report.problems] == [
        f"{path} record 2: url: must be an absolute http(s) link, got 'mailto:x@example.com'",
        f"{path} record 3: no text: title, body and teaser are all empty or missing",
    ]


def test_unreadable_sources_are_one_problem_each_and_others_continue(
    db: Database, tmp_path: Path
) -> None:
    unknown = tmp_path / "notes.txt"
    unknown.write_text("Nur ein paar Notizen, kein Artikel.\n")
    broken = tmp_path / "broken.json"
    broken.write_text('{"articles": [')
    wrong_shape = tmp_path / "shape.json"
    wrong_shape.write_text('{"items": []}')
    latin1 = tmp_path / "latin1.jsonl"
    latin1.write_bytes('{"title": "Gr\u00fc\u00dfe"}\n'.encode("latin-1"))
    missing = tmp_path / "missing.jsonl"
    report = run(db, missing, unknown, DATA / "raw-de.json", broken, wrong_shape, latin1)
    assert counts(report) == (6, 1, 0, 0)
    problems = {Path(problem.source).name: problem for problem in report.problems}
    assert all(problem.record is None for problem in report.problems)
    assert problems["missing.jsonl"].message.startswith("file not found")
    assert problems["notes.txt"].message.startswith("cannot tell what kind of source this is")
    assert problems["broken.json"].message.startswith("not valid JSON")
    assert problems["shape.json"].message.startswith(
        'expected a list of articles or an object with an "articles" list'
    )
    assert problems["latin1.jsonl"].message.startswith("not UTF-8 text")
    assert str(problems["missing.jsonl"]) == f"{missing}: file not found (check the path)"


def test_directory_expands_to_its_source_files(db: Database, tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    shutil.copy(DATA / "raw-de.json", folder / "b.json")
    shutil.copy(DATA / "raw-en.json", folder / "a.json")
    (folder / "README.txt").write_text("ignored")
    (folder / ".hidden.json").write_text("ignored")
    report = run(db, folder)
    assert counts(report) == (2, 2, 0, 0)
    empty = tmp_path / "empty"
    empty.mkdir()
    report = run(db, empty)
    assert counts(report) == (1, 0, 0, 0)
    assert report.problems[0].message.startswith("directory has no source files")


def test_kind_is_sniffed_without_extension(db: Database, tmp_path: Path) -> None:
    as_array = tmp_path / "export-array"
    as_array.write_bytes((DATA / "raw-de.json").read_bytes())
    as_lines = tmp_path / "export-lines"
    as_lines.write_bytes((DATA / "mixed.jsonl").read_bytes())
    report = run(db, as_array, as_lines)
    assert counts(report) == (2, 4, 0, 0)


def test_json_lines_in_a_json_file(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "lines.json"
    path.write_bytes((DATA / "mixed.jsonl").read_bytes())
    report = run(db, path)
    assert report.added == 3
    assert {problem.record for problem in report.problems} == {3, 5, 6, 7, 9, 11}


def test_database_error_loses_only_that_record(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    def flaky(session: Session, data: ArticleData, *, now: datetime) -> UpsertOutcome:
        outcome = upsert_article(session, data, now=now)
        if data.canonical_url.endswith("/zwei"):
            session.execute(text("SELECT * FROM no_such_table"))
        return outcome

    monkeypatch.setattr(ingest_module, "upsert_article", flaky)
    report = run(db, DATA / "mixed.jsonl")
    assert report.added == 2
    refused = [problem for problem in report.problems if problem.record == 8]
    assert len(refused) == 1 and refused[0].message.startswith("the database refused the article")
    assert [article.canonical_url for article in articles(db)] == [
        "https://blog.kurzschluss.example/notizen/eins",
        "https://blog.kurzschluss.example/notizen/ohne-titel",
    ]


def test_problem_str() -> None:
    assert (
        str(IngestProblem("a.jsonl", 3, "title: is missing"))
        == "a.jsonl record 3: title: is missing"
    )
    assert str(IngestProblem("feed.xml", None, "not a feed")) == "feed.xml: not a feed"
