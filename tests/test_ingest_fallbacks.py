"""Records without a link, a date or a title are kept, in the shapes real sources have.

The fixtures under data/ingest/world/ are our own, written after what real feeds and
pages look like: a Latin-1 feed without categories whose descriptions end in a byline
and "[mehr]", Atom entries whose only link is their id, a feed of relative links, a
saved page with no date and no canonical link.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from digest.errors import IngestError
from digest.ingest import FetchedDoc, IngestReport, Origin, clean_record, ingest
from digest.ingest.fallbacks import derive_title, file_url, synthetic_identity
from digest.ingest.records import DateEstimate, validate_record
from digest.ingest.sources import http_date
from digest.store.db import Database
from digest.store.models import Article

WORLD = Path(__file__).parent / "data" / "ingest" / "world"
NOW = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


def run(
    db: Database, *sources: str | Path, now: datetime = NOW, base_url: str | None = None
) -> IngestReport:
    return ingest(
        [str(source) for source in sources], db, now=now, default_tz=BERLIN, base_url=base_url
    )


def stored(db: Database) -> dict[str, Article]:
    with db.session() as session:
        return {a.canonical_url: a for a in session.scalars(select(Article))}


# ------------------------------------------------------------------------------ feeds


def test_latin1_feed_without_categories(db: Database) -> None:
    report = run(db, WORLD / "rss-no-categories-latin1.xml")
    assert (report.added, report.problems, report.estimated_dates) == (3, [], 1)
    articles = stored(db)
    tram = articles["https://stadtbote-goerlitz.example/lokales/linie-2-altstadtbruecke"]
    assert tram.title == "Straßenbahnlinie 2 fährt ab Montag wieder über die Altstadtbrücke"
    assert tram.source == "Stadtbote Görlitz" and tram.topics == []
    assert tram.teaser.startswith("Nach elf Wochen Bauzeit ist die Sanierung der Gleise")
    assert tram.published_at_estimate is None
    office = articles["https://stadtbote-goerlitz.example/lokales/buergerbuero-samstag"]
    assert office.title == "Bürgerbüro öffnet samstags – zunächst für drei Monate"
    # No pubDate: the channel's lastBuildDate, marked as the feed's.
    assert office.published_at == datetime(2026, 11, 24, 17, 40, tzinfo=UTC)
    assert office.published_at_estimate == "feed"
    for article in articles.values():
        assert "Ã" not in article.title + article.teaser + article.body_text  # no mojibake


def test_atom_entries_linked_by_their_id(db: Database) -> None:
    report = run(db, WORLD / "atom-id-links.xml")
    assert (report.added, report.problems) == (3, [])
    assert (report.estimated_dates, report.fallback_urls) == (1, 3)
    articles = stored(db)
    tip = articles["https://quietcircuits.example/notes/worn-tip-sensor"]
    assert tip.url == "https://quietcircuits.example/notes/worn-tip-sensor"
    assert (tip.author, tip.published_at_estimate) == ("Tomás Ó Briain", None)
    kettles = articles["https://quietcircuits.example/notes/repair-cafe-kettles"]
    assert kettles.published_at == datetime(2026, 11, 24, 21, 0, tzinfo=UTC)  # feed <updated>
    assert kettles.published_at_estimate == "feed"
    # A tag: id is no link: the entry points at the feed's home page, with its own identity.
    (question,) = [a for a in articles.values() if a.title.startswith("Reader question")]
    assert question.url == "https://quietcircuits.example/"
    assert question.canonical_url == synthetic_identity(
        "https://quietcircuits.example/", "tag:quietcircuits.example,2026:reader-question-12"
    )
    assert question.published_at == datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    assert run(db, WORLD / "atom-id-links.xml").unchanged == 3


def test_relative_links_need_a_base_url(db: Database) -> None:
    feed = WORLD / "rss-relative-links.xml"
    report = run(db, feed)
    assert report.added == 0
    assert [str(p) for p in report.problems] == [
        f"{feed} record 1: entry 'Neue Drehbank für die offene Werkstatt': no link: neither "
        "the entry nor the feed has an http(s) link (run `digest ingest --base-url URL` "
        "with the site the feed is from)",
        f"{feed} record 2: entry 'Kurs: Fahrradbremsen selbst einstellen': no link: neither "
        "the entry nor the feed has an http(s) link (run `digest ingest --base-url URL` "
        "with the site the feed is from)",
    ]
    report = run(db, feed, base_url="https://werkstatt.example/notizen/")
    assert (report.added, report.problems, report.fallback_urls) == (2, [], 0)
    articles = stored(db)
    assert set(articles) == {
        "https://werkstatt.example/beitraege/neue-drehbank",
        "https://werkstatt.example/notizen/beitraege/kurs-fahrradbremsen",
    }
    brakes = articles["https://werkstatt.example/notizen/beitraege/kurs-fahrradbremsen"]
    assert brakes.image_url == "https://werkstatt.example/bilder/bremsen.jpg"


def test_entry_without_link_points_at_the_base_url(db: Database, tmp_path: Path) -> None:
    feed = tmp_path / "export.rss"
    feed.write_text(
        "<rss version='2.0'><channel><title>Vereinsnachrichten</title>"
        "<item><guid isPermaLink='false'>v-17</guid><title>Jahreshauptversammlung verschoben"
        "</title><description>Die Versammlung findet erst im Februar statt.</description>"
        "</item><item><guid isPermaLink='false'>v-18</guid><title>Neue Trikots</title>"
        "</item></channel></rss>",
        encoding="utf-8",
    )
    report = run(db, feed, base_url="https://verein.example")
    assert (report.added, report.problems, report.fallback_urls) == (2, [], 2)
    articles = list(stored(db).values())
    assert {a.url for a in articles} == {"https://verein.example/"}
    assert len({a.canonical_url for a in articles}) == 2  # two entries stay two articles
    # An entry that is only a headline is kept: it has text.
    (shirts,) = [a for a in articles if a.title == "Neue Trikots"]
    assert (shirts.teaser, shirts.body_text) == ("", "")


def test_entry_without_any_text_is_refused_and_named(db: Database, tmp_path: Path) -> None:
    feed = tmp_path / "empty.xml"
    feed.write_text(
        "<rss version='2.0'><channel><title>Leer</title><link>https://leer.example/</link>"
        "<item><link>https://leer.example/nichts</link><pubDate>Tue, 24 Nov 2026 08:00:00 GMT"
        "</pubDate></item></channel></rss>",
        encoding="utf-8",
    )
    report = run(db, feed)
    assert [str(p) for p in report.problems] == [
        f"{feed} record 1: entry https://leer.example/nichts: no text: title, body and "
        "teaser are all empty or missing"
    ]


def test_record_of_markup_only_is_refused_as_without_text() -> None:
    # A title that is one <img>, a body that is one <script>: no text at all.
    record = validate_record(
        {
            "url": "https://x.example/a",
            "title": '<img src="x" onerror="alert(1)">',
            "body": "<script>alert(1)</script>",
        }
    )
    with pytest.raises(IngestError, match=r"^no text"):
        clean_record(record, now=NOW)


# ------------------------------------------------------------------------------ pages


def test_page_without_date_or_link_takes_base_url_and_ingest_time(db: Database) -> None:
    page = WORLD / "page-undated.html"
    assert "--base-url" in run(db, page).problems[0].message
    report = run(db, page, base_url="https://talsperrenblog.example/2026")
    assert (report.added, report.problems) == (1, [])
    assert (report.estimated_dates, report.fallback_urls) == (1, 1)
    (article,) = stored(db).values()
    assert article.url == "https://talsperrenblog.example/2026/page-undated.html"
    assert article.title == "Warum der Stausee im Herbst so leer ist"
    assert (article.published_at, article.published_at_estimate) == (NOW, "ingest")
    assert article.image_url == "https://talsperrenblog.example/bilder/stausee-herbst.jpg"
    assert "Zugvögel" in article.body_text


def test_relative_canonical_resolves_against_the_base_url(db: Database, tmp_path: Path) -> None:
    page = tmp_path / "seite.html"
    html = (WORLD / "page-undated.html").read_text(encoding="utf-8")
    page.write_text(
        html.replace("<head>", '<head><link rel="canonical" href="/herbst/stausee">'),
        encoding="utf-8",
    )
    report = run(db, page, base_url="https://talsperrenblog.example/2026/")
    assert (report.added, report.fallback_urls) == (1, 0)
    assert list(stored(db)) == ["https://talsperrenblog.example/herbst/stausee"]


def test_page_with_only_a_description_is_kept(db: Database, tmp_path: Path) -> None:
    # A video page: no article body to extract, but the page says what it is about.
    page = tmp_path / "video.html"
    page.write_text(
        '<!doctype html><html lang="de"><head><title>Die Flut in Zahlen</title>'
        '<link rel="canonical" href="https://flut.example/video/zahlen">'
        '<meta name="description" content="Wie hoch das Wasser stand und wie viele Keller '
        'volliefen: das Video fasst die Woche zusammen."></head>'
        '<body><div id="player"></div></body></html>',
        encoding="utf-8",
    )
    assert (run(db, page).added, run(db, page).unchanged) == (1, 1)
    article = stored(db)["https://flut.example/video/zahlen"]
    assert article.teaser.startswith("Wie hoch das Wasser stand") and article.body_text == ""
    bare = tmp_path / "bare.html"
    bare.write_text(page.read_text(encoding="utf-8").replace('<meta name="description"', "<meta"))
    (problem,) = run(db, bare).problems
    assert problem.message == "no article text found on the page https://flut.example/video/zahlen"


def page_with(text: str) -> bytes:
    html = (WORLD / "page-undated.html").read_text(encoding="utf-8")
    return html.replace("</article>", f"<p>{text}</p></article>").encode()


def test_page_dates_from_text_and_http(db: Database) -> None:
    def fetch(url: str) -> FetchedDoc:
        content = page_with(
            "Veröffentlicht am 12. November 2026 von der Redaktion."
            if url.endswith("text")
            else "© 2019 Talsperrenblog"  # a year only: not taken for a date
        )
        return FetchedDoc(
            content,
            "text/html",
            url,
            http_date=datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
        )

    urls = ["https://talsperrenblog.example/text", "https://talsperrenblog.example/http"]
    report = ingest(urls, db, now=NOW, default_tz=BERLIN, fetch=fetch)
    assert (report.added, report.estimated_dates) == (2, 2)
    articles = stored(db)
    text = articles["https://talsperrenblog.example/text"]
    assert text.published_at_estimate == "page_text"
    assert text.published_at.astimezone(BERLIN).date() == datetime(2026, 11, 12).date()
    http = articles["https://talsperrenblog.example/http"]
    assert (http.published_at, http.published_at_estimate) == (
        datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
        "http",
    )


def test_http_date_headers() -> None:
    last = "Tue, 24 Nov 2026 08:00:00 GMT"
    assert http_date({"last-modified": last, "date": "Wed, 25 Nov 2026 05:00:00 GMT"}) == (
        datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    )
    assert http_date({"last-modified": "gestern", "date": last}) == datetime(
        2026, 11, 24, 8, 0, tzinfo=UTC
    )
    assert http_date({}) is None


# ------------------------------------------------------------- estimates in the store


def test_estimated_date_does_not_move_forward_on_reingest(db: Database, tmp_path: Path) -> None:
    feed = tmp_path / "undated.rss"
    entry = (
        "<item><title>Ein Eintrag ohne Datum</title><link>https://u.example/a</link>"
        "<description>Ein Text, der nie sagt, wann er erschien.</description>{date}</item>"
    )
    body = "<rss version='2.0'><channel><title>U</title>{items}</channel></rss>"
    feed.write_text(body.format(items=entry.format(date="")), encoding="utf-8")
    assert run(db, feed).added == 1
    later = NOW + timedelta(days=3)
    assert run(db, feed, now=later).unchanged == 1
    article = stored(db)["https://u.example/a"]
    assert (article.published_at, article.published_at_estimate) == (NOW, "ingest")
    # The entry's own date, once given, replaces the estimate ...
    dated = entry.format(date="<pubDate>Mon, 23 Nov 2026 08:00:00 GMT</pubDate>")
    feed.write_text(body.format(items=dated), encoding="utf-8")
    assert run(db, feed, now=later).updated == 1
    article = stored(db)["https://u.example/a"]
    assert (article.published_at, article.published_at_estimate) == (
        datetime(2026, 11, 23, 8, 0, tzinfo=UTC),
        None,
    )
    # ... and an estimate never replaces it again.
    feed.write_text(body.format(items=entry.format(date="")), encoding="utf-8")
    assert run(db, feed, now=later + timedelta(days=1)).unchanged == 1
    assert stored(db)["https://u.example/a"].published_at_estimate is None


def test_json_records_without_url_or_date(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    path.write_text(
        json.dumps(
            [
                {"url": "/news/relativ", "title": "Relativer Link", "body": "Ein Text."},
                {"title": "Ohne Link", "body": "Noch ein Text.", "published_at": ""},
                {"url": None, "title": "Auch ohne Link", "body": "Dritter Text."},
            ]
        ),
        encoding="utf-8",
    )
    report = run(db, path)
    assert report.added == 0
    messages = [p.message for p in report.problems]
    assert messages[0].startswith("url: must be an absolute http(s) link, got '/news/relativ'")
    assert messages[1].startswith("no link: the record has no http(s) URL")
    assert "--base-url" in messages[1]
    report = run(db, path, base_url="https://export.example/")
    assert (report.added, report.problems, report.estimated_dates) == (3, [], 3)
    articles = stored(db)
    assert "https://export.example/news/relativ" in articles
    assert sum(a.url == "https://export.example/" for a in articles.values()) == 2


# ----------------------------------------------------------------------- pure helpers


def test_clean_record_fallbacks() -> None:
    record = validate_record({"body": "Der Rat hat den Haushalt beschlossen. Mehr folgt."})
    with pytest.raises(IngestError, match="no link"):
        clean_record(record, now=NOW)
    origin = Origin(site_url="https://rat.example/", key="r-1")
    data = clean_record(record, now=NOW, origin=origin)
    assert (data.title, data.url, data.published_at_estimate) == (
        "Der Rat hat den Haushalt beschlossen",
        "https://rat.example/",
        "ingest",
    )
    assert data.canonical_url == synthetic_identity("https://rat.example/", "r-1")
    with pytest.raises(IngestError, match="published_at"):
        clean_record(record, origin=origin)  # no date and no ingest time to use
    # A feed date after the ingest time says nothing about the article: capped.
    ahead = validate_record(
        {"url": "https://rat.example/a", "title": "T", "published_at": "2026-11-26T00:00:00Z"}
    )
    capped = clean_record(ahead, now=NOW, origin=Origin(date_estimate=DateEstimate.FEED))
    assert (capped.published_at, capped.published_at_estimate) == (NOW, "feed")
    assert clean_record(ahead, now=NOW).published_at > NOW  # the article's own date stays


@pytest.mark.parametrize(
    ("text", "title"),
    [
        (
            "Der Bund gibt 3.5 Mrd. Euro für Netze aus. Das ist viel.",
            "Der Bund gibt 3.5 Mrd. Euro für Netze aus",
        ),
        ("Warum wird das so teuer? Eine Erklärung.", "Warum wird das so teuer?"),
        ("kurz", "kurz"),
        ("Wort " * 40, ("Wort " * 19).strip() + "…"),
    ],
)
def test_derive_title(text: str, title: str) -> None:
    assert derive_title(text) == title


def test_file_url() -> None:
    assert (
        file_url("https://s.example/news", "/tmp/a b.html") == "https://s.example/news/a%20b.html"
    )
    assert file_url("https://s.example/news/", "x.htm") == "https://s.example/news/x.htm"
    assert file_url("ftp://s.example/", "x.htm") is None
