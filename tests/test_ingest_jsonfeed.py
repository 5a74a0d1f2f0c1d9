"""JSON Feed files are read as feeds; estimates show in the CLI; a one-source day renders."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from digest import cli
from digest.ingest import IngestReport, ingest
from digest.ingest.fallbacks import synthetic_identity
from digest.ingest.jsonfeed import is_json_feed
from digest.store.db import Database
from digest.store.models import Article
from tests.conftest import ClockFrom

WORLD = Path(__file__).parent / "data" / "ingest" / "world"
NOW = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
SITE = "https://kleine-stroeme.example"


def run(db: Database, *sources: str | Path) -> IngestReport:
    return ingest([str(source) for source in sources], db, now=NOW, default_tz=BERLIN)


def stored(db: Database) -> dict[str, Article]:
    with db.session() as session:
        return {a.canonical_url: a for a in session.scalars(select(Article))}


def test_json_feed_items(db: Database) -> None:
    source = WORLD / "jsonfeed.json"
    report = run(db, source)
    assert report.added == 5
    assert [str(p) for p in report.problems] == [
        f"{source} record 6: item {SITE}/2026/leer: no text: title, body and teaser are all "
        "empty or missing",
        f"{source} record 7: item is not an object, got a string",
    ]
    assert (report.estimated_dates, report.fallback_urls, report.derived_titles) == (3, 2, 1)
    articles = stored(db)
    battery = articles[f"{SITE}/2026/balkonkraftwerk-speicher"]
    assert battery.title == "Balkonkraftwerke bekommen Speicher: lohnt sich das?"
    assert battery.teaser == "Wann sich ein Akku für das Steckersolargerät rechnet."
    assert battery.body_text.startswith("Immer mehr Hersteller bieten kleine Akkus")
    assert (battery.author, battery.source, battery.language) == (
        "Mira Schönfeld",
        "Kleine Ströme",
        "de",
    )
    assert battery.topics == ["Energie", "Haushalt"]
    assert battery.image_url == f"{SITE}/bilder/balkon-speicher.jpg"
    assert battery.published_at == datetime(2026, 11, 24, 6, 45, tzinfo=UTC)
    # The id is the URL; date_modified is the item's own date; content_text is text.
    heat = articles[f"{SITE}/2026/waermepumpe-altbau"]
    assert (heat.published_at, heat.published_at_estimate) == (
        datetime(2026, 11, 23, 18, 0, tzinfo=UTC),
        None,
    )
    assert heat.author == "Redaktion Kleine Ströme"  # the feed's authors
    assert heat.body_text.count("\n\n") == 1
    meter = articles["https://netzbetreiber.example/presse/zaehlerwechsel"]  # external_url
    assert (meter.published_at, meter.published_at_estimate) == (NOW, "ingest")
    # A relative url resolves against feed_url; an unreadable date is ignored like in RSS;
    # no title: the first sentence.
    tariffs = articles[f"{SITE}/2026/kurzmeldung-tarife"]
    assert (
        tariffs.title == "Die Stadtwerke senken zum Januar den Arbeitspreis für Strom um 2,1 Cent"
    )
    assert tariffs.published_at_estimate == "ingest"
    letter = articles[synthetic_identity(f"{SITE}/", "ks-097")]
    assert (letter.url, letter.title) == (f"{SITE}/", "Leserbrief der Woche")
    assert run(db, source).unchanged == 5


def test_json_feed_is_found_by_content(db: Database, tmp_path: Path) -> None:
    feed = json.loads((WORLD / "jsonfeed.json").read_text(encoding="utf-8"))
    feed["version"] = "https://jsonfeed.org/version/1"
    unnamed = tmp_path / "feed"
    unnamed.write_text(json.dumps(feed), encoding="utf-8")
    assert run(db, unnamed).added == 5
    assert is_json_feed({"version": "http://jsonfeed.org/version/1.1", "items": []})
    assert not is_json_feed({"version": "2.0", "items": []})
    assert not is_json_feed([{"version": "https://jsonfeed.org/version/1"}])


def test_json_feed_without_items_is_one_problem(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"version": "https://jsonfeed.org/version/1.1", "title": "x"}')
    (problem,) = run(db, path).problems
    assert problem.record is None and problem.message.startswith("JSON Feed without")


def test_cli_reports_fallbacks_and_explain_shows_estimates(run, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(cli.state, "clock", ClockFrom(datetime(2026, 11, 25, 5, 0, tzinfo=BERLIN)))
    result = run("ingest", str(WORLD / "atom-id-links.xml"), str(WORLD / "page-undated.html"))
    assert result.code == 1 and "--base-url" in result.err
    result = run(
        "ingest", "--base-url", "https://talsperrenblog.example/", str(WORLD / "page-undated.html")
    )
    assert result.code == 0, result.err
    assert (
        "1 with an estimated date" in result.out and "1 with a link found by fallback" in result.out
    )
    bad = run("ingest", "--base-url", "talsperrenblog.example", str(WORLD / "page-undated.html"))
    assert bad.code == 1 and "--base-url 'talsperrenblog.example' is not an http(s) URL" in bad.err
    explained = json.loads(run("rank", "--explain", "--json").out)
    rows = {row["title"]: row for row in explained["explanation"]["rows"]}
    assert rows["Warum der Stausee im Herbst so leer ist"]["date_note"] == (
        "date estimated (ingest time)"
    )
    assert (
        rows["Notes from the repair café: most broken kettles just need a new switch"][
            "date_estimate"
        ]
        == "feed"
    )
    assert rows["A soldering iron that tells you when the tip is worn"]["date_note"] is None
    monkeypatch.setenv("COLUMNS", "400")  # one line per table row
    table = run("rank", "--explain").out
    assert "date estimated (ingest time)" in table and "date estimated (the feed's date)" in table


def test_one_source_day_without_categories_renders(run, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # The shape of many small publishers' days: one feed, no categories, a few items.
    monkeypatch.setattr(cli.state, "clock", ClockFrom(datetime(2026, 11, 25, 5, 0, tzinfo=BERLIN)))
    assert run("ingest", str(WORLD / "rss-no-categories-latin1.xml")).code == 0
    ranked = json.loads(run("rank", "--json").out)
    assert len(ranked["items"]) == 3
    assert {item["source"] for item in ranked["items"]} == {"Stadtbote Görlitz"}
    rendered = run("render", "--out", str(tmp_path / "edition"))
    assert rendered.code == 0, rendered.err
    text = (tmp_path / "edition" / "digest.txt").read_text(encoding="utf-8")
    assert "Straßenbahnlinie 2 fährt ab Montag wieder über die Altstadtbrücke" in text
    assert "Süßwarenfabrik" in text and "Ã" not in text
