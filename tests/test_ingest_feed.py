"""RSS 2.0 and Atom feeds: entries to articles, per-entry problems, broken feeds."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from digest.ingest import IngestReport, Origin, ingest, parse_source
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


def stored(db: Database) -> dict[str, Article]:
    with db.session() as session:
        return {a.canonical_url: a for a in session.scalars(select(Article))}


def test_rss_entries_without_date_or_link_are_kept() -> None:
    parsed = parse_source(str(DATA / "feed-rss.xml"), default_tz=BERLIN)
    assert [number for number, _ in parsed.records] == [1, 2, 3, 4]
    assert parsed.problems == []
    undated, unlinked = parsed.records[2][1], parsed.records[3][1]
    # No date and the feed has none either: the ingest time decides (at cleaning).
    assert undated.published_at is None and parsed.origin(3) == Origin()
    # No link: the entry points at the feed's home page.
    assert unlinked.url is None
    assert parsed.origin(4) == Origin(site_url="https://datenwerk.example/")


def test_rss_feed_is_stored_clean(db: Database) -> None:
    report = run(db, DATA / "feed-rss.xml")
    assert (report.added, report.updated, report.unchanged) == (4, 0, 0)
    assert report.problems == []
    assert (report.estimated_dates, report.fallback_urls, report.derived_titles) == (1, 1, 0)
    articles = stored(db)
    undated = articles["https://datenwerk.example/2026/11/ohne-datum/"]
    assert (undated.published_at, undated.published_at_estimate) == (NOW, "ingest")
    (unlinked,) = [a for a in articles.values() if a.title == "Ein Eintrag ohne Link"]
    assert unlinked.url == "https://datenwerk.example/"
    assert unlinked.canonical_url.startswith("urn:digest:")
    assert unlinked.published_at == datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
    assert unlinked.published_at_estimate is None
    full = articles["https://datenwerk.example/2026/11/gebaerdensprache-echtzeit/"]
    assert full.title == "Sprachmodell übersetzt Gebärdensprache in Echtzeit"
    assert full.url == "https://datenwerk.example/2026/11/gebaerdensprache-echtzeit/"
    assert full.published_at == datetime(2026, 11, 24, 5, 30, tzinfo=UTC)
    assert (full.author, full.source, full.language) == ("Paula Reimann", "Datenwerk", "de")
    assert full.topics == ["KI", "Barrierefreiheit"]
    assert full.image_url == "https://datenwerk.example/wp-content/uploads/2026/11/gebaerden.jpg"
    # The teaser is the feed's description, cleaned of "[…]" and the WordPress footer.
    assert full.teaser == (
        "Forschende aus Leipzig haben ein Modell vorgestellt, das Deutsche Gebärdensprache "
        "aus Videobildern erkennt und als Text ausgibt."
    )
    assert full.body_text.startswith("Forschende der Universität Leipzig haben ein Modell")
    assert full.body_text.endswith("wo kurzfristig niemand verfügbar ist.")
    assert full.body_text.count("\n\n") == 2
    assert_no_boilerplate(full.teaser, full.body_text, full.body_html)

    short = articles["https://datenwerk.example/2026/11/netzplanung-ki/"]
    assert short.title == "Bundesnetzagentur prüft KI-gestützte Netzplanung & Ausbau"
    assert short.teaser.startswith("Die Behörde will Stromnetzbetreibern erlauben")
    assert short.body_text == short.teaser
    assert short.image_url == "https://datenwerk.example/wp-content/uploads/2026/11/netz.png"
    assert short.topics == ["Energie"]


def test_atom_feed_is_stored_clean(db: Database) -> None:
    report = run(db, DATA / "feed-atom.xml")
    assert (report.added, report.problems) == (2, [])
    articles = stored(db)
    kit = articles["https://signalnoise.example/posts/robot-arm-kit-schools"]
    assert kit.title == "Open-source robot arm kit ships to schools"
    assert kit.published_at == datetime(2026, 11, 24, 11, 20, tzinfo=UTC)  # only <updated>
    assert (kit.author, kit.source, kit.language) == ("Priya Natarajan", "Signal & Noise", "en")
    assert kit.topics == ["Robotics", "Education"]
    assert kit.image_url == "https://signalnoise.example/img/robot-arm-kit.jpg"
    assert kit.teaser == (
        "A non-profit is shipping 5,000 build-it-yourself robot arms to secondary schools "
        "across Ireland and Scotland."
    )
    assert kit.body_text.count("\n\n") == 2
    assert kit.body_text.endswith("a second, larger arm next year.")
    assert_no_boilerplate(kit.teaser, kit.body_text, kit.body_html)

    wind = articles["https://signalnoise.example/posts/data-centres-wind-farms"]
    assert wind.published_at == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # <published> wins
    assert wind.teaser == wind.body_text
    assert wind.teaser.startswith("Operators in Denmark and Scotland")


def test_reingesting_a_feed_is_unchanged(db: Database) -> None:
    run(db, DATA / "feed-rss.xml", DATA / "feed-atom.xml")
    report = run(db, DATA / "feed-rss.xml", DATA / "feed-atom.xml")
    assert (report.added, report.updated, report.unchanged) == (0, 0, 6)


def test_malformed_feed_still_loads_its_good_entries(db: Database, tmp_path: Path) -> None:
    broken = tmp_path / "broken.rss"
    broken.write_text(
        "<rss version='2.0'><channel><title>Kaputt & Co</title>"
        "<item><title>Erster Eintrag</title><link>https://kaputt.example/1</link>"
        "<pubDate>Tue, 24 Nov 2026 08:00:00 GMT</pubDate>"
        "<description>Ein lesbarer Eintrag in einem fehlerhaften Feed, mit genug Text."
        "</description></item>"
        "<item><title>Zweiter",
        encoding="utf-8",
    )
    report = run(db, broken)
    assert report.added == 1
    assert "https://kaputt.example/1" in stored(db)


def test_document_without_a_feed_is_one_problem(db: Database, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.xml"
    garbage.write_bytes(b"\x00\x01 definitely not a feed")
    empty_xml = tmp_path / "config.xml"
    empty_xml.write_text("<?xml version='1.0'?><config><value>1</value></config>")
    report = run(db, garbage, empty_xml, DATA / "feed-atom.xml")
    assert report.added == 2
    assert [(Path(p.source).name, p.record) for p in report.problems] == [
        ("garbage.xml", None),
        ("config.xml", None),
    ]
    assert report.problems[0].message.startswith("not an RSS or Atom feed")


def test_feed_detected_by_content_without_extension(db: Database, tmp_path: Path) -> None:
    feed = tmp_path / "feed"
    feed.write_bytes((DATA / "feed-atom.xml").read_bytes())
    assert run(db, feed).added == 2


def test_entities_in_a_summary_are_decoded(db: Database, tmp_path: Path) -> None:
    # WordPress writes "[&#8230;]" inside CDATA: HTML, not text, even without tags.
    feed = tmp_path / "wp.rss"
    feed.write_text(
        "<rss version='2.0'><channel><title>Blog</title>"
        "<item><title>Preise &#163; und &#8364;</title><link>https://blog.example/p</link>"
        "<pubDate>Tue, 24 Nov 2026 08:00:00 GMT</pubDate>"
        "<description><![CDATA[Ein Telefon f&uuml;r unter &#163;120 &amp; mehr. [&#8230;]]]></description>"
        "<content:encoded xmlns:content='http://purl.org/rss/1.0/modules/content/'><![CDATA["
        "<p>Ein ganz anderer, l&auml;ngerer Text &uuml;ber das Telefon und seinen Preis.</p>]]>"
        "</content:encoded></item></channel></rss>",
        encoding="utf-8",
    )
    assert run(db, feed).added == 1
    article = stored(db)["https://blog.example/p"]
    assert article.title == "Preise £ und €"
    assert article.teaser == "Ein Telefon für unter £120 & mehr."
    assert "&#" not in article.body_text and "länger" in article.body_text


# ------------------------------------------------------------------------- topics

RSS_TOPICS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Datenwerk</title><link>https://datenwerk.example/</link>
<item><title>Ein Eintrag mit Kategorien</title><link>https://datenwerk.example/k/</link>
<pubDate>Tue, 24 Nov 2026 08:00:00 +0100</pubDate>
<description>Die Stadtwerke stellen ihre neue Anlage vor, die seit Montag läuft.</description>
<category><![CDATA[<script>track('kategorie')</script>Energie &amp; Klima]]></category>
<category>Tom &amp;amp; Jerry</category>
<category><![CDATA[<b>Robotik</b>]]></category>
<category><![CDATA[ <i> </i> ]]></category>
<category>energie &amp; klima</category>
</item></channel></rss>
"""
ATOM_TOPICS = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Datenwerk</title><id>urn:datenwerk</id>
<updated>2026-11-24T08:00:00+01:00</updated>
<entry><title>Ein Atom-Eintrag</title><id>urn:datenwerk:1</id>
<link href="https://datenwerk.example/a/"/><updated>2026-11-24T08:00:00+01:00</updated>
<summary>Die Stadtwerke stellen ihre neue Anlage vor, die seit Montag läuft.</summary>
<category term="&lt;span onclick='x()'&gt;Verkehr&lt;/span&gt;"/>
<category term="Lange&#10;Zeile&#9;mit Umbruch"/>
</entry></feed>
"""


def test_rss_categories_become_plain_text_topics(tmp_path: Path) -> None:
    path = tmp_path / "topics.xml"
    path.write_text(RSS_TOPICS, encoding="utf-8")
    parsed = parse_source(str(path), default_tz=BERLIN)
    assert parsed.problems == []
    ((_, record),) = parsed.records
    # No script code, entities decoded once each, empty ones and repeats dropped.
    assert record.topics == ["Energie & Klima", "Tom & Jerry", "Robotik"]


def test_atom_terms_become_plain_text_topics(tmp_path: Path) -> None:
    path = tmp_path / "topics.atom"
    path.write_text(ATOM_TOPICS, encoding="utf-8")
    parsed = parse_source(str(path), default_tz=BERLIN)
    ((_, record),) = parsed.records
    assert record.topics == ["Verkehr", "Lange Zeile mit Umbruch"]
