"""Article pages through the real HTML ingest: all of the article kept, none of the junk.

Each page in tests/data/ingest/pages/ is a small article page of our own (invented
publishers, people and events) with the usual chrome around it (cookie banner,
navigation, sidebar, footer) and junk inside or after the article (newsletter box,
sponsored offer, share and follow lines, top-stories links, an AI disclaimer, a
contact blurb, related links). Beside each page:

* ``NAME.expected.txt``: the article's text, one paragraph per line; every sentence
  must be in the stored body text;
* ``NAME.junk.txt``: phrases of the chrome and junk; none may be in the stored
  body text, body HTML or teaser.

The pages go through ``parse_source`` (reading, kind detection, ``parse_html``) and
``clean_record``, the steps ``digest ingest`` takes before storing.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import trafilatura

from digest.ingest import clean_record, parse_source
from digest.ingest.htmlbody import extract_body, respace_inline
from digest.store.articles import ArticleData

PAGES = Path(__file__).parent / "data" / "ingest" / "pages"
NOW = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
NAMES = sorted(path.stem for path in PAGES.glob("*.html"))

# Sentence ends: ., ! or ? (and closing quotes) before a space and a capital, digit or quote.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"“”»«']?\s+(?=[\"„“»«A-ZÄÖÜ0-9])")
# A known miss of the cleaning rules (digest/ingest/) is marked with
# pytest.mark.xfail(strict=True) and the reason, so that fixing it shows.


def lines(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


def sentences(paragraph: str) -> list[str]:
    return [part.strip() for part in _SENTENCE_END.split(paragraph) if part.strip()]


def flat(text: str) -> str:
    return " ".join(text.split())


def ingest_page(name: str) -> ArticleData:
    parsed = parse_source(str(PAGES / f"{name}.html"), default_tz=BERLIN, now=NOW)
    assert parsed.problems == []
    ((_, record),) = parsed.records
    return clean_record(record, default_tz=BERLIN)


def test_the_corpus_is_there() -> None:
    assert len(NAMES) >= 4
    for name in NAMES:
        assert lines(PAGES / f"{name}.expected.txt"), name
        assert lines(PAGES / f"{name}.junk.txt"), name


@pytest.mark.parametrize("name", NAMES)
def test_every_sentence_of_the_article_is_kept(name: str) -> None:
    body = flat(ingest_page(name).body_text)
    missing = [
        sentence
        for paragraph in lines(PAGES / f"{name}.expected.txt")
        for sentence in sentences(paragraph)
        if sentence not in body
    ]
    assert not missing, f"{name}: lost {missing}"


def stored_junk(name: str, phrases: list[str]) -> list[tuple[str, str]]:
    article = ingest_page(name)
    stored = {"body_text": article.body_text, "body_html": article.body_html}
    stored["teaser"] = article.teaser
    return [
        (field, phrase)
        for phrase in phrases
        for field, text in stored.items()
        if phrase.casefold() in flat(text).casefold()
    ]


@pytest.mark.parametrize("name", NAMES)
def test_no_junk_survives(name: str) -> None:
    found = stored_junk(name, lines(PAGES / f"{name}.junk.txt"))
    assert not found, f"{name}: junk stored: {found}"


@pytest.mark.parametrize("name", NAMES)
def test_the_article_starts_with_its_lead(name: str) -> None:
    # No headline, byline or share bar above the first paragraph.
    first = sentences(lines(PAGES / f"{name}.expected.txt")[0])[0]
    body = flat(ingest_page(name).body_text)
    assert body.startswith(first)


def test_a_dateline_glued_to_the_lead_is_cut_from_body_and_teaser() -> None:
    # "<cite>Singapore (Meridian Business)</cite>Stock markets ...": no dash, no space.
    article = ingest_page("en-markets")
    assert article.body_text.startswith("Stock markets in Asia opened without")
    assert article.teaser.startswith("Stock markets in Asia opened without")
    assert "<cite>" not in article.body_html


def test_links_keep_their_spacing_and_targets() -> None:
    article = ingest_page("de-busse")
    # A link at the start of a paragraph and text right after a link keep their words.
    assert "Wie der Kreisbote im Sommer berichtete, hatte der Fahrgastbeirat" in article.body_text
    assert "aus Ulm, der bereits" in article.body_text
    assert (
        '<a href="https://www.kreisbote-muehlbach.example/lokales/fahrgastbeirat-laerm" '
        'rel="noopener">Wie der Kreisbote im Sommer berichtete</a>, hatte' in article.body_html
    )


# ------------------------------------------------------------------ spacing repair


def page(html: str) -> object:
    tree = trafilatura.load_html(f"<html><body>{html}</body></html>")
    assert tree is not None
    return tree


def test_a_space_lost_after_a_link_is_put_back() -> None:
    source = page('<div>Händler bieten <a href="/f">günstige Finanzierung</a> an.</div>')
    body = '<html><body><p><a href="/f">günstige Finanzierung</a>an.</p></body></html>'
    assert "günstige Finanzierung</a> an." in respace_inline(body, source)
    bold = "<html><body><p><strong>Hinweis:</strong>Die Linie fährt.</p></body></html>"
    assert "</strong> Die Linie" in respace_inline(bold, page("<p>x</p>"))


def test_words_glued_in_the_page_itself_stay_glued() -> None:
    # "MacBooks" with a link on "MacBook": the page has no space there either.
    source = page('<p>Fehler bei allen <a href="/m">MacBook</a>s und <a href="/i">iPad</a>Pro</p>')
    body = (
        '<html><body><p>allen <a href="/m">MacBook</a>s und <a href="/i">iPad</a>Pro</p>'
        "</body></html>"
    )
    assert respace_inline(body, source) == body  # a one-letter suffix, and glued in the page
    cjk = '<html><body><p><a href="/k">KeePass</a>の起動</p></body></html>'
    assert respace_inline(cjk, page("<p>x</p>")) == cjk


def test_a_link_at_a_block_end_does_not_count_as_glued() -> None:
    # The same link text ends a list item elsewhere on the page: that is a block
    # boundary, not a glued word.
    source = page(
        '<ul><li><a href="/d">deals</a></li><li>Zweiter Eintrag</li></ul>'
        '<p>Alle <a href="/d">deals</a> und Angebote</p>'
    )
    body = '<html><body><p>Alle <a href="/d">deals</a>und Angebote</p></body></html>'
    assert "deals</a> und" in respace_inline(body, source)


def test_extraction_retries_in_recall_mode_when_the_first_pass_is_empty(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[bool] = []
    real = trafilatura.extract

    def extract(tree: object, **options: object) -> str | None:
        calls.append(bool(options.get("favor_recall")))
        return None if not options.get("favor_recall") else real(tree, **options)

    monkeypatch.setattr(trafilatura, "extract", extract)
    tree = trafilatura.load_html((PAGES / "en-ferry.html").read_bytes())
    body = extract_body(tree, "https://www.baysidecourier.example/news/night-ferry-winter")
    assert calls == [False, True]
    assert body is not None and "Harbor Point night ferry" in body


def test_extraction_runs_once_on_a_normal_page(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, object]] = []
    real = trafilatura.extract

    def extract(tree: object, **options: object) -> str | None:
        calls.append(options)
        return real(tree, **options)

    monkeypatch.setattr(trafilatura, "extract", extract)
    tree = trafilatura.load_html((PAGES / "de-busse.html").read_bytes())
    assert extract_body(tree, None)
    # One balanced pass; precision mode drops the text around links on some pages.
    assert len(calls) == 1 and not calls[0].get("favor_precision")
