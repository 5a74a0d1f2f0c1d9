"""HTML article pages (trafilatura, offline) and fetching URLs from a local http.server."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from digest.errors import IngestError
from digest.ingest import FetchedDoc, IngestReport, http_fetch, ingest, parse_source
from digest.store.db import Database
from digest.store.models import Article

DATA = Path(__file__).parent / "data" / "ingest"
NOW = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
PAGE_URL = "https://www.kurzschluss-magazin.example/robotik/roboterhand-eier-sortieren"

UNDATED_PAGE = b"""<!doctype html><html lang="en"><head><title>Undated story</title>
<link rel="canonical" href="https://undated.example/story"></head>
<body><article><h1>Undated story</h1><p>This page tells a story without ever saying when it
was published, which makes it impossible to rank against the other articles of the day.</p>
<p>A second paragraph adds more words so the extractor has enough text to work with here.</p>
</article></body></html>"""

NO_CANONICAL_PAGE = b"""<!doctype html><html lang="en"><head><title>Heat pumps sell out</title>
<meta property="article:published_time" content="2026-11-24T09:00:00Z"></head>
<body><article><h1>Heat pumps sell out</h1>
<p>Installers in three countries report that heat pumps for older houses are sold out until
spring, after subsidies were raised at short notice in October and demand doubled.</p>
<p>Manufacturers say they are adding shifts, but the bottleneck is trained installers, not
factories, and training a new installer takes at least a year in most countries.</p>
</article></body></html>"""


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


def check_page_article(article: Article) -> None:
    assert article.title == "Roboterhand lernt Eier sortieren"
    assert article.published_at == datetime(2026, 11, 24, 7, 15, tzinfo=UTC)
    assert (article.author, article.source, article.language) == (
        "Lena Brandt",
        "Kurzschluss Magazin",
        "de",
    )
    assert article.image_url == "https://cdn.kurzschluss-magazin.example/bilder/roboterhand.jpg"
    assert article.image_alt == "Eine Roboterhand hält ein braunes Ei"
    assert article.teaser == (
        "Ein Start-up aus Kiel bringt einem Greifarm bei, rohe Eier ohne Bruch zu sortieren."
    )
    assert article.body_text.startswith("Ein Start-up aus Kiel hat einem Greifarm beigebracht")
    assert "Erdbeeren und Himbeeren" in article.body_text
    assert (
        '<a href="https://www.kurzschluss-magazin.example/robotik/tastsensoren-erklaert" '
        'rel="noopener">' in article.body_html
    )
    assert_no_boilerplate(article.teaser, article.body_text, article.body_html)


def test_html_page_from_file(db: Database) -> None:
    report = run(db, DATA / "page-de.html")
    assert (report.added, report.problems) == (1, [])
    articles = stored(db)
    # The canonical link (its utm parameters removed) wins over the file's location.
    assert list(articles) == [PAGE_URL]
    check_page_article(articles[PAGE_URL])
    assert run(db, DATA / "page-de.html").unchanged == 1


def test_undated_page_is_stored_with_the_ingest_time(db: Database, tmp_path: Path) -> None:
    page = tmp_path / "undated.html"
    page.write_bytes(UNDATED_PAGE)
    report = run(db, page, DATA / "page-de.html")
    assert (report.added, report.problems, report.estimated_dates) == (2, [], 1)
    undated = stored(db)["https://undated.example/story"]
    assert (undated.published_at, undated.published_at_estimate) == (NOW, "ingest")


def test_page_without_url_from_a_file_is_a_problem(db: Database, tmp_path: Path) -> None:
    page = tmp_path / "local.htm"
    page.write_bytes(NO_CANONICAL_PAGE)
    report = run(db, page)
    assert report.added == 0
    (problem,) = report.problems
    assert problem.message.startswith("the page has no http(s) URL")
    assert "--base-url" in problem.message


def test_injected_fetcher(db: Database) -> None:
    seen: list[str] = []

    def fetch(url: str) -> FetchedDoc:
        seen.append(url)
        return FetchedDoc(
            NO_CANONICAL_PAGE, "text/html; charset=utf-8", "https://heat.example/story?id=4"
        )

    report = ingest(
        ["https://heat.example/s?id=4&utm_medium=social"],
        db,
        now=NOW,
        default_tz=BERLIN,
        fetch=fetch,
    )
    assert seen == ["https://heat.example/s?id=4&utm_medium=social"]
    assert report.added == 1
    (article,) = stored(db).values()
    # No canonical link: the final URL after redirects identifies the article.
    assert article.canonical_url == "https://heat.example/story?id=4"
    assert article.title == "Heat pumps sell out"


# ------------------------------------------------------------------------ http.server


class _Handler(BaseHTTPRequestHandler):
    user_agents: list[str] = []  # noqa: RUF012 - shared on purpose, read by the tests
    routes: dict[str, tuple[int, str, bytes]] = {  # noqa: RUF012
        "/artikel/roboterhand": (
            200,
            "text/html; charset=utf-8",
            (DATA / "page-de.html").read_bytes(),
        ),
        "/feeds/signal": (200, "application/atom+xml", (DATA / "feed-atom.xml").read_bytes()),
        "/api/articles": (200, "application/json", (DATA / "raw-en.json").read_bytes()),
        "/heat-pumps": (200, "text/html", NO_CANONICAL_PAGE),
        "/plain": (200, "text/plain", b"just words, not an article source"),
    }

    def do_GET(self) -> None:
        _Handler.user_agents.append(self.headers.get("User-Agent", ""))
        path = self.path.split("?", 1)[0]
        if path == "/old-link":
            self.send_response(301)
            self.send_header("Location", "/heat-pumps?utm_source=redirect")
            self.end_headers()
            return
        status, content_type, body = self.routes.get(path, (404, "text/plain", b"not found"))
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_urls_are_fetched_and_detected_by_content_type(db: Database, server: str) -> None:
    _Handler.user_agents.clear()
    sources = [
        f"{server}/artikel/roboterhand?utm_source=mail",
        f"{server}/feeds/signal",
        f"{server}/api/articles",
        f"{server}/old-link",
    ]
    report = ingest(sources, db, now=NOW, default_tz=BERLIN)
    assert report.problems == []
    assert (report.sources, report.added) == (4, 5)
    articles = stored(db)
    check_page_article(articles[PAGE_URL])
    assert "https://signalnoise.example/posts/robot-arm-kit-schools" in articles
    assert "https://news.theledger.example/tech/norrland-semi-dresden-plant?id=77" in articles
    # Redirect followed; the final URL, without tracking, identifies the page.
    assert f"{server}/heat-pumps" in articles
    assert all(agent.startswith("digest/") for agent in _Handler.user_agents)


def test_unreachable_and_failing_urls_are_problems(db: Database, server: str) -> None:
    dead = f"http://127.0.0.1:{closed_port()}/feed.xml"
    sources = [dead, f"{server}/missing", f"{server}/plain", f"{server}/feeds/signal"]
    report = ingest(sources, db, now=NOW, default_tz=BERLIN)
    assert report.added == 2
    problems = {problem.source: problem for problem in report.problems}
    assert set(problems) == {dead, f"{server}/missing", f"{server}/plain"}
    assert all(problem.record is None for problem in report.problems)
    assert problems[dead].message.startswith("cannot fetch the URL")
    assert problems[f"{server}/missing"].message.startswith("the server answered HTTP 404")
    assert problems[f"{server}/plain"].message.startswith("cannot tell what kind of source")


def test_http_fetch_returns_final_url_and_type(server: str) -> None:
    doc = http_fetch(f"{server}/old-link")
    assert doc.url == f"{server}/heat-pumps?utm_source=redirect"
    assert doc.content_type == "text/html"
    assert doc.content == NO_CANONICAL_PAGE
    with pytest.raises(IngestError, match="404"):
        http_fetch(f"{server}/nothing-here")


def test_parse_source_of_page_url(server: str) -> None:
    parsed = parse_source(f"{server}/artikel/roboterhand", default_tz=BERLIN, now=NOW)
    ((number, record),) = parsed.records
    assert number == 1
    assert record.url == f"{PAGE_URL}?utm_source=rss&utm_medium=feed"
