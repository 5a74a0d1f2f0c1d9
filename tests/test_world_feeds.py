"""Ingest against the world: feedparser's own test suite, when a checkout is at hand.

Set DIGEST_FEEDPARSER_CORPUS to a checkout of https://github.com/kurtmckee/feedparser
to run the corpus pass (benchmarks/world_feeds.py prints its figures); without it only
the checks' own tests run, on feeds written here.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from zoneinfo import ZoneInfo

import pytest

from digest.ingest import FetchedDoc, clean_record, parse_source
from digest.store.articles import ArticleData

ROOT = Path(__file__).resolve().parent.parent
CORPUS_ENV = "DIGEST_FEEDPARSER_CORPUS"
NOW = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)

# A script hidden behind comments and closed as "</script\n>": feedparser's own
# sanitizer drops the tags and keeps the code as text; ours must drop all of it.
HIDDEN_SCRIPT = b"""<rss version="2.0"><channel><title>Bastelkeller</title>
<link>https://bastel.example/</link><item><title>Ein harmloser Titel</title>
<link>https://bastel.example/a</link><description>&lt;p&gt;Der Text des Eintrags ist lang
genug, um als Absatz zu gelten.&lt;/p&gt;
&lt;!-- &lt;script&gt; --&gt;
&lt;!--
  &lt;script&gt;
--&gt;
&lt;/script&gt;
&lt;script

&gt;
function heimlichAusfuehren() { document.cookie = "x"; }
&lt;/script

&gt;
&lt;div onmouseover="heimlichAusfuehren()"&gt;Noch ein Satz, der bleiben darf.&lt;/div&gt;
&lt;a href="javascript:heimlichAusfuehren()"&gt;Klick&lt;/a&gt;</description></item>
</channel></rss>"""


def world() -> ModuleType:
    """benchmarks/world_feeds.py as a module (benchmarks/ is no package)."""
    if "world_feeds" in sys.modules:
        return sys.modules["world_feeds"]
    spec = importlib.util.spec_from_file_location(
        "world_feeds", ROOT / "benchmarks" / "world_feeds.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["world_feeds"] = module
    spec.loader.exec_module(module)
    return module


def test_hidden_script_reaches_no_field() -> None:
    doc = FetchedDoc(HIDDEN_SCRIPT, "application/rss+xml", "https://bastel.example/feed")
    parsed = parse_source(doc.url, default_tz=ZoneInfo("Europe/Berlin"), fetch=lambda _u: doc)
    ((number, record),) = parsed.records
    data = clean_record(record, now=NOW, origin=parsed.origin(number))
    assert world().leaks(data) == []
    stored = " ".join(str(v) for v in vars(data).values())
    assert "heimlich" not in stored and "cookie" not in stored
    assert data.body_text == (
        "Der Text des Eintrags ist lang genug, um als Absatz zu gelten.\n\n"
        "Noch ein Satz, der bleiben darf.\n\nKlick"
    )


def test_leak_check_finds_scripts_handlers_and_bad_links() -> None:
    clean = ArticleData(
        canonical_url="https://a.example/x",
        url="https://a.example/x",
        title="Größe",
        teaser="Ein Text",
        body_html='<p>Ein <a href="https://a.example/y">Link</a></p>',
        body_text="Ein Link",
        published_at=NOW,
        content_hash="h",
    )
    check = world().leaks
    assert check(clean) == []
    for field, value, found in [
        ("title", "Hallo <script>x()</script>", "title: script"),
        ("teaser", "javascript:alert(1)", "teaser: script"),
        ("body_html", '<p onclick="x()">a</p>', "body_html: event handler"),
        ("body_html", '<p><a href="data:x">a</a></p>', "body_html: href"),
        ("body_html", "<iframe></iframe>", "body_html: tag <iframe>"),
        ("image_url", "ftp://a.example/i.png", "image_url: not http(s)"),
        ("author", "A\x00B", "author: NUL"),
    ]:
        leaks = check(ArticleData(**{**vars(clean), field: value}))
        assert any(leak.startswith(found) for leak in leaks), (field, leaks)


def test_corpus_conventions_are_read() -> None:
    wf = world()
    head = (
        b"<!--\nDescription: x\nHeader:      Content-type: text/xml; charset=iso-8859-1\n"
        b"Expect:      not bozo and entries[0]['description'] == 'caf\\xe9' and "
        b"feed['title'] == 'x\\xe9'\n-->"
    )
    assert wf.headers_of(head) == {"content-type": "text/xml; charset=iso-8859-1"}
    assert wf.expectations(head) == [("description", "café")]  # feed title is the source


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get(CORPUS_ENV), reason=f"{CORPUS_ENV} is not set")
def test_feedparser_test_suite() -> None:
    result = world().check(Path(os.environ[CORPUS_ENV]), database=False)
    assert result.files > 2000
    assert result.crashes == []
    assert result.leaks == []
    assert result.broken_round_trips == [] and result.round_trips["intact"] >= 14
    assert all("(bozo)" in line for line in result.missing_text), result.missing_text
    assert all("(SkipUnless chardet)" in line for line in result.mojibake), result.mojibake
    assert result.outcomes["http: stored"] > 500
