"""The shipped sample sources: well-formed, dated relative to now, and raw enough to clean."""

from __future__ import annotations

import calendar
import csv
import json
import re
import struct
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import feedparser
import pytest
from email_validator import validate_email

from digest.samples import (
    ARTICLES_TEMPLATE,
    IMAGES_DIR,
    SAMPLES_DIR,
    TOPICS,
    parse_age,
    published_at,
    subscribers_csv,
    write_samples,
)
from digest.samples._images import PICTURES, draw_all

NOW = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)  # the same instant as conftest.NOW
BASE_URL = "https://news.example.com"
DAY = timedelta(hours=24)


@pytest.fixture
def written(tmp_path: Path) -> dict[str, Path]:
    paths = write_samples(tmp_path / "samples", now=NOW, base_url=BASE_URL + "/")
    return {path.name: path for path in paths}


def _articles(written: dict[str, Path]) -> list[dict[str, Any]]:
    lines = written["articles.jsonl"].read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def _template_ages() -> list[str]:
    lines = (SAMPLES_DIR / ARTICLES_TEMPLATE).read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["age"] for line in lines if line.strip()]


def _placeholder_ages(template: str, kind: str) -> list[str]:
    text = (SAMPLES_DIR / template).read_text(encoding="utf-8")
    return re.findall(r"\{\{" + kind + r":([0-9hm]+)\}\}", text)


def test_writes_every_source_in_order(written: dict[str, Path]) -> None:
    assert list(written) == ["articles.jsonl", "feed.xml", "page-de.html", "page-en.html"]
    for path in written.values():
        text = path.read_text(encoding="utf-8")
        assert "{{" not in text
        assert "{base_url}" not in text


def test_output_depends_only_on_now(tmp_path: Path) -> None:
    first = write_samples(tmp_path / "a", now=NOW, base_url=BASE_URL)
    second = write_samples(tmp_path / "b", now=NOW, base_url=BASE_URL)
    later = write_samples(tmp_path / "c", now=NOW + timedelta(days=3), base_url=BASE_URL)
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    assert first[0].read_bytes() != later[0].read_bytes()


def test_naive_now_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="aware"):
        write_samples(tmp_path, now=datetime(2026, 11, 25, 5, 0), base_url=BASE_URL)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("45m", timedelta(minutes=45)),
        ("13h", timedelta(hours=13)),
        ("1h20m", timedelta(minutes=80)),
    ],
)
def test_parse_age(text: str, expected: timedelta) -> None:
    assert parse_age(text) == expected


@pytest.mark.parametrize("text", ["", "13", "h", "2d", "1m20h", "-3h"])
def test_parse_age_refuses_other_shapes(text: str) -> None:
    with pytest.raises(ValueError, match="sample age"):
        parse_age(text)


def test_published_at_drops_sub_seconds_and_keeps_the_instant() -> None:
    now = NOW.replace(microsecond=654321)
    when = published_at(now, "1h20m", "Europe/Berlin")
    assert when == NOW - timedelta(minutes=80)
    assert when.utcoffset() == timedelta(hours=1)


# --- articles.jsonl ---------------------------------------------------------------------


def test_articles_are_dated_now_minus_their_age(written: dict[str, Path]) -> None:
    articles = _articles(written)
    ages = _template_ages()
    assert len(articles) == len(ages) >= 12
    for article, age in zip(articles, ages, strict=True):
        assert "age" not in article
        when = datetime.fromisoformat(article["published_at"])
        assert when.utcoffset() is not None, "published_at must carry an offset"
        assert when == NOW - parse_age(age)


def test_most_articles_fall_in_the_last_day_and_a_few_do_not(written: dict[str, Path]) -> None:
    ages = [NOW - datetime.fromisoformat(a["published_at"]) for a in _articles(written)]
    assert sum(age <= DAY for age in ages) >= 12
    assert any(age > DAY for age in ages)
    assert all(timedelta(0) < age <= timedelta(hours=30) for age in ages)


def test_articles_have_the_fields_ingest_reads(written: dict[str, Path]) -> None:
    articles = _articles(written)
    for article in articles:
        assert article["url"].startswith("https://www.techblick.example/")
        assert article["title"] and article["author"]
        assert article["source"] == "Techblick"
        assert article["language"] == "de"
        assert article["topics"] and set(article["topics"]) <= set(TOPICS)
        assert article["priority"] in {0, 1, 2, 3}
        assert len(article["body"].split("\n\n")) >= 4
    assert len({a["url"] for a in articles}) == len(articles)
    assert sum(bool(a["priority"]) for a in articles) in {2, 3}
    with_images = [a for a in articles if "image_url" in a]
    assert len(articles) // 3 <= len(with_images) <= len(articles) * 2 // 3
    for article in with_images:
        assert article["image_url"].startswith(f"{BASE_URL}/static/samples/")
        assert (IMAGES_DIR / article["image_url"].rsplit("/", 1)[1]).is_file()
        assert article["image_alt"]


def test_article_bodies_open_with_a_dateline(written: dict[str, Path]) -> None:
    dateline = re.compile(r"^[A-ZÄÖÜ][A-ZÄÖÜ /-]+ \(TECHBLICK\) – ")
    for article in _articles(written):
        assert dateline.match(article["body"]), article["title"]


# --- feed.xml ---------------------------------------------------------------------------


def test_feed_parses_and_is_dated_relative_to_now(written: dict[str, Path]) -> None:
    feed = feedparser.parse(written["feed.xml"].read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    ages = _placeholder_ages("feed.xml.tmpl", "rfc822")
    build_age, item_ages = ages[0], ages[1:]
    assert calendar.timegm(feed.feed.updated_parsed) == (NOW - parse_age(build_age)).timestamp()
    assert len(feed.entries) == len(item_ages) == 7
    for entry, age in zip(feed.entries, item_ages, strict=True):
        assert calendar.timegm(entry.published_parsed) == (NOW - parse_age(age)).timestamp()
        assert entry.title and entry.link and entry.tags and entry.content
    assert sum(parse_age(age) > DAY for age in item_ages) == 1


def test_feed_images_point_at_the_web_app(written: dict[str, Path]) -> None:
    feed = feedparser.parse(written["feed.xml"].read_bytes())
    urls = [m["url"] for e in feed.entries for m in e.get("media_content", [])]
    urls += [link["href"] for e in feed.entries for link in e.links if link["rel"] == "enclosure"]
    assert len(urls) >= 3
    for url in urls:
        assert url.startswith(f"{BASE_URL}/static/samples/")
        assert (IMAGES_DIR / url.rsplit("/", 1)[1]).is_file()


def test_feed_enclosure_lengths_match_the_images() -> None:
    text = (SAMPLES_DIR / "feed.xml.tmpl").read_text(encoding="utf-8")
    enclosures = re.findall(r'<enclosure url="[^"]*/([\w.-]+)" length="(\d+)"', text)
    assert enclosures
    for name, length in enclosures:
        assert (IMAGES_DIR / name).stat().st_size == int(length)


# --- HTML pages -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["page-de.html", "page-en.html"])
def test_pages_carry_canonical_link_and_published_time(written: dict[str, Path], name: str) -> None:
    html = written[name].read_text(encoding="utf-8")
    canonical = re.search(r'<link rel="canonical" href="([^"]+)"', html)
    assert canonical and canonical[1].startswith("https://www.signalwerk.example/")
    assert "utm_source=" in canonical[1]
    template = (SAMPLES_DIR / f"{name}.tmpl").read_text(encoding="utf-8")
    age = re.search(r'"article:published_time" content="\{\{iso:([0-9hm]+)\}\}"', template)
    assert age
    expected = NOW - parse_age(age[1])
    meta = re.search(r'<meta property="article:published_time" content="([^"]+)"', html)
    time = re.search(r'<time datetime="([^"]+)">([^<]+)</time>', html)
    assert meta and time
    assert datetime.fromisoformat(meta[1]) == expected
    assert datetime.fromisoformat(time[1]) == expected
    assert re.search(r'<meta property="og:title" content="[^"]+">', html)
    assert f'<meta property="og:image" content="{BASE_URL}/static/samples/' in html


def test_page_dates_are_written_in_the_sources_zone(written: dict[str, Path]) -> None:
    html = written["page-de.html"].read_text(encoding="utf-8")
    local = (NOW - timedelta(hours=5, minutes=30)).astimezone(ZoneInfo("Europe/Berlin"))
    assert local.isoformat() in html
    assert f">{local.day}. November 2026, {local:%H:%M} Uhr</time>" in html


# --- images and subscribers -------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PICTURES))
def test_images_are_small_valid_pngs(name: str) -> None:
    data = (IMAGES_DIR / name).read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    length, tag = struct.unpack(">I4s", data[8:16])
    assert (length, tag) == (13, b"IHDR")
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (600, 300)
    assert zlib.crc32(data[12:29]) == struct.unpack(">I", data[29:33])[0]
    assert data.endswith(b"IEND\xaeB`\x82")
    assert len(data) < 20_000


def test_shipped_images_are_what_the_generator_draws(tmp_path: Path) -> None:
    for path in draw_all(tmp_path):
        assert path.read_bytes() == (IMAGES_DIR / path.name).read_bytes(), path.name
    assert sorted(p.name for p in IMAGES_DIR.glob("*.png")) == sorted(PICTURES)


def test_subscribers_csv() -> None:
    with subscribers_csv().open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == ["email", "name", "language", "timezone"]
        rows = list(reader)
    assert len(rows) == 3
    assert sorted(row["language"] for row in rows) == ["de", "de", "en"]
    for row in rows:
        email = validate_email(row["email"], check_deliverability=False).normalized
        assert email.rsplit("@", 1)[1] in {"example.com", "example.org", "example.net"}
        assert row["name"]
        ZoneInfo(row["timezone"])


# --- the junk the cleaner has to remove -------------------------------------------------

# (kind, source file, pattern): each kind of boilerplate the raw samples must contain.
BOILERPLATE = [
    ("title junk (original) (raw)", "articles.jsonl", r'"title": "[^"]+ \(original\) \(raw\)"'),
    ("title junk | site name", "articles.jsonl", r'"title": "[^"]+ \| Techblick"'),
    ("top stories link", "articles.jsonl", r"Zu den Top-Stories!"),
    ("sponsored offer", "articles.jsonl", r"\(Sponsored\)"),
    ("paid placement label", "articles.jsonl", r"Bezahlte Produktplatzierung"),
    ("newsletter plug", "articles.jsonl", r"KI-Morgenpost von Techblick.*abonnieren!"),
    ("headline as photo caption", "articles.jsonl", r"\\n([^\\]+)\\n\\n\1 \(Foto: [^)]+\)"),
    ("social follow links", "articles.jsonl", r"folgen Sie uns"),
    ("AI / no-financial-advice disclaimer", "articles.jsonl", r"keine Anlage- oder Finanzberatung"),
    ("topic alert", "articles.jsonl", r"automatisch per E-Mail erhalten"),
    ("book ad", "articles.jsonl", r"Buchtipp: "),
    ("corrections blurb", "articles.jsonl", r"redaktion\[at\]techblick\.example"),
    ("next / previous article", "articles.jsonl", r"Nächster Artikel\\n\\nVorheriger Artikel"),
    ("comment prompt", "articles.jsonl", r"Schreiben Sie uns einen Kommentar!"),
    ("sponsored paragraph", "feed.xml", r'<p class="sponsored"><strong>Sponsored:'),
    ("follow us line", "feed.xml", r"Follow us on Mastodon"),
    ("read more link", "feed.xml", r">Read more</a>"),
    ("appeared first on", "feed.xml", r"appeared first on"),
    ("affiliate disclaimer", "feed.xml", r"affiliate links"),
    ("newsletter plug", "feed.xml", r"Morning Brief.*Subscribe"),
    ("tracking pixel", "feed.xml", r'width="1" height="1"'),
    ("utm parameters", "feed.xml", r"utm_source=rss"),
]
for _page, _words in [
    ("page-de.html", ("Alle akzeptieren", "Anzeige", "Jetzt anmelden", "Impressum")),
    ("page-en.html", ("Accept all", "Advertisement", "Sign me up", "Imprint")),
]:
    cookie, ad, signup, imprint = _words
    BOILERPLATE += [
        ("cookie banner", _page, rf'id="cookie-consent".*{cookie}'),
        ("nav menu", _page, r'<nav class="main-nav"'),
        ("breadcrumb", _page, r'<nav class="breadcrumb"'),
        ("share bar", _page, r'class="share-bar".*Mastodon'),
        ("inline ad", _page, rf'class="ad-box".*{ad}'),
        ("newsletter box", _page, rf'class="newsletter-box".*{signup}'),
        ("related articles", _page, r'<aside class="related"'),
        ("comments teaser", _page, r'class="comments-teaser"'),
        ("footer links", _page, rf"<footer.*{imprint}"),
        ("scripts", _page, r"<script "),
        ("figure caption", _page, r"<figcaption>"),
    ]


@pytest.mark.parametrize(("kind", "name", "pattern"), BOILERPLATE)
def test_raw_samples_keep_boilerplate(
    written: dict[str, Path], kind: str, name: str, pattern: str
) -> None:
    text = written[name].read_text(encoding="utf-8")
    # On the JSONL, match the JSON-escaped text: one line per article, "\n" literal.
    if name.endswith(".jsonl"):
        text = "\n".join(json.dumps(a, ensure_ascii=False) for a in _articles(written))
    assert re.search(pattern, text, re.DOTALL), f"{name} has no {kind}"


def test_some_articles_are_clean_and_most_are_not(written: dict[str, Path]) -> None:
    # The cleaner must also leave a clean body alone.
    tails = ["Nächster Artikel" in a["body"] for a in _articles(written)]
    assert tails.count(False) >= 1 and tails.count(True) >= 10
