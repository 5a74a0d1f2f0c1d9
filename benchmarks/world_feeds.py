"""World check: every feed of feedparser's own test suite through our ingest.

    git clone https://github.com/kurtmckee/feedparser /work/corpora/feedparser
    .venv/bin/python benchmarks/world_feeds.py /work/corpora/feedparser [--list 20]

feedparser's tests/ folder holds ~2,100 small XML feeds (and one JSON Feed), each
probing one corner: encodings, entities, relative links, dates, and hundreds of
sanitizer cases full of ``<script>``, ``on...=`` handlers and ``javascript:`` links.
Each file goes through our real reader and cleaning three times: as if fetched over
HTTP (with the ``Header:`` lines of its leading comment as the response headers), as a
local file, and as a local file with ``--base-url`` (so that entries without any link
are stored too, and every sanitizer case reaches the stored fields). Every article
cleaning produces is checked, and once more every row that ``ingest()`` leaves in a
temporary SQLite database after the HTTP and --base-url passes:

* no crash: every failure is a clean IngestError, reported as a problem;
* no leak: nothing of a script, an event handler or a ``javascript:``/``vbscript:``
  link in any field; only allowed tags, and http(s)/mailto hrefs, in body_html;
* text intact: feedparser's own expectations of non-ASCII text (``Expect:`` lines
  such as ``entries[0]['description'] == 'This is a \\xa3...'``) are found in our
  fields, nothing reads like mojibake (``Ã¤``, ``â€``) unless the corpus expects it,
  and our own German/French sentence survives every encoding the corpus declares.

Prints counts; exits 1 when a crash or a leak was found. The corpus stays outside the
repository (BSD-licensed; nothing of it is copied here). tests/test_world_feeds.py
runs the same checks when DIGEST_FEEDPARSER_CORPUS points at a checkout.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from digest.errors import IngestError  # noqa: E402
from digest.ingest import FetchedDoc, clean_record, ingest, parse_source  # noqa: E402
from digest.ingest.blocks import ALLOWED_TAGS, normalize_space  # noqa: E402
from digest.ingest.sources import Fetch, http_date  # noqa: E402
from digest.store.articles import ArticleData  # noqa: E402
from digest.store.db import Database  # noqa: E402
from digest.store.models import Article  # noqa: E402

NOW = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
ZONE = ZoneInfo("Europe/Berlin")
HOST = "http://feeds.world.example/"
BASE_URL = "https://files.world.example/feeds/"  # --base-url of the third pass
TEXT_FIELDS = ("title", "teaser", "body_text", "author", "source", "image_alt")
URL_FIELDS = ("url", "image_url")

# Anything of a script that may not reach an email, in any field.
_SCRIPT = re.compile(
    r"<\s*/?\s*script|javascript\s*:|vbscript\s*:|location\.href|alert\s*\(|executeMe|"
    r"expression\s*\(|data\s*:\s*text/html",
    re.IGNORECASE,
)
_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
_TAG = re.compile(r"<\s*/?\s*([a-zA-Z][\w:-]*)([^>]*)>")
_HREF = re.compile(r"""\shref\s*=\s*["']([^"']*)["']""", re.IGNORECASE)
_ATTRIBUTE = re.compile(r"""\s([\w:-]+)\s*=""")
# UTF-8 read as Latin-1/cp1252: "Ã¤" for "ä", "â€™" for "’"; and U+FFFD.
_MOJIBAKE = re.compile("Ã[\u0080-\u00bf]|â€|\ufffd")
_EXPECT = re.compile(
    r"(entries\[0\]|feed)(?:\[['\"](\w+)['\"]\]|\.(\w+))\s*==\s*(u?'(?:[^'\\]|\\.)*'|u?\"(?:[^\"\\]|\\.)*\")"
)
# Where our article keeps what feedparser calls a field.
_FIELD_MAP = {
    "title": ("title",),
    "description": ("teaser", "body_text"),
    "summary": ("teaser", "body_text"),
    "content": ("body_text",),
    "author": ("author",),
}
ROUND_TRIP = "Größere Übergänge für Café und Straße: Jürgen öffnet süß"
ROUND_TEXT = "Ein Bäcker aus Köln verkauft Brötchen; Çelik, Åsa und Zoë kaufen ein Crème brûlée."


@dataclass
class Result:
    """Counts over the whole corpus, and the first examples of what went wrong."""

    files: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    problems: Counter[str] = field(default_factory=Counter)
    crashes: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    mojibake: list[str] = field(default_factory=list)
    expected_text: Counter[str] = field(default_factory=Counter)
    missing_text: list[str] = field(default_factory=list)
    round_trips: Counter[str] = field(default_factory=Counter)
    broken_round_trips: list[str] = field(default_factory=list)
    database_problems: list[str] = field(default_factory=list)


def corpus_files(root: Path) -> list[Path]:
    tests = root / "tests"
    return sorted(p for p in tests.rglob("*") if p.suffix in (".xml", ".json") and p.is_file())


def headers_of(content: bytes) -> dict[str, str]:
    """The ``Header: Name: value`` lines of the leading comment (feedparser's convention)."""
    head = content[:4000].decode("latin-1")
    found: dict[str, str] = {}
    for match in re.finditer(r"^\s*Header:\s*([\w-]+):[ \t]*(.*)$", head, re.MULTILINE):
        found[match[1].lower()] = match[2].strip()
    return found


def expectations(content: bytes) -> list[tuple[str, str]]:
    """(feedparser field, expected non-ASCII text) from the file's ``Expect:`` line."""
    head = content[:4000].decode("latin-1")
    line = re.search(r"^\s*Expect:\s*(.*)$", head, re.MULTILINE)
    if line is None:
        return []
    pairs = []
    for match in _EXPECT.finditer(line[1]):
        name = match[2] or match[3]
        try:
            value = ast.literal_eval(match[4])
        except (ValueError, SyntaxError):
            continue
        plain = isinstance(value, str) and "<" not in value and "&" not in value
        if plain and not value.isascii() and name in _FIELD_MAP and match[1] != "feed":
            pairs.append((name, value))
    return pairs


def fetched(path: Path, root: Path) -> tuple[str, FetchedDoc]:
    content = path.read_bytes()
    headers = headers_of(content)
    # The served URL, moved to where Content-Location says when that is a web URL.
    url = HOST + path.relative_to(root).as_posix()
    moved = urljoin(url, headers.get("content-location", ""))
    url = moved if moved.startswith(("http://", "https://")) else url
    return url, FetchedDoc(
        content=content,
        content_type=headers.get("content-type"),
        url=url,
        http_date=http_date(headers),
    )


def served(doc: FetchedDoc) -> Fetch:
    """A fetcher that answers every URL with ``doc`` (no network)."""
    return lambda _url: doc


def leaks(data: ArticleData | Article) -> list[str]:
    """What in ``data`` could run or mislead in a mail client; [] when clean."""
    found = []
    for name in (*TEXT_FIELDS, *URL_FIELDS, "body_html", "canonical_url"):
        value = getattr(data, name) or ""
        if _SCRIPT.search(value):
            found.append(f"{name}: script {_SCRIPT.search(value)[0]!r}")  # type: ignore[index]
        if "\x00" in value:
            found.append(f"{name}: NUL character")
    found += [f"topics: script in {t!r}" for t in data.topics if _SCRIPT.search(t)]
    for name in URL_FIELDS:
        value = getattr(data, name)
        if value is not None and not value.lower().startswith(("http://", "https://")):
            found.append(f"{name}: not http(s): {value[:60]!r}")
    if _HANDLER.search(data.body_html):
        found.append("body_html: event handler attribute")
    for tag, attributes in _TAG.findall(data.body_html):
        if tag.lower() not in ALLOWED_TAGS:
            found.append(f"body_html: tag <{tag}>")
        names = {a.lower() for a in _ATTRIBUTE.findall(attributes)} - {"href", "rel"}
        if names:
            found.append(f"body_html: attributes {sorted(names)} on <{tag}>")
    for href in _HREF.findall(data.body_html):
        if not href.lower().startswith(("http://", "https://", "mailto:")):
            found.append(f"body_html: href {href[:60]!r}")
    return found


def _ingest_file(
    source: str, doc: FetchedDoc | None, mode: str, result: Result, base_url: str | None = None
) -> None:
    """Parse and clean one file the way ``ingest`` does, checking each stored article."""
    fetch = served(doc) if doc is not None else None
    label = f"{mode} {source}"
    try:
        parsed = parse_source(source, default_tz=ZONE, now=NOW, fetch=fetch, base_url=base_url)
    except IngestError as err:
        result.outcomes[f"{mode}: source refused"] += 1
        result.problems[f"{mode}: {_kind_of(err.message)}"] += 1
        return
    except Exception:  # a crash: exactly what this check looks for
        result.outcomes[f"{mode}: crash"] += 1
        result.crashes.append(f"{label}\n{traceback.format_exc(limit=4)}")
        return
    for _number, message in parsed.problems:
        result.outcomes[f"{mode}: record refused"] += 1
        result.problems[f"{mode}: {_kind_of(message)}"] += 1
    texts = []
    for number, record in parsed.records:
        try:
            data = clean_record(record, default_tz=ZONE, now=NOW, origin=parsed.origin(number))
        except IngestError as err:
            result.outcomes[f"{mode}: record refused"] += 1
            result.problems[f"{mode}: {_kind_of(err.message)}"] += 1
            continue
        except Exception:
            result.outcomes[f"{mode}: crash"] += 1
            result.crashes.append(f"{label} record {number}\n{traceback.format_exc(limit=4)}")
            continue
        result.outcomes[f"{mode}: stored"] += 1
        result.outcomes[f"{mode}: stored, date estimated"] += data.published_at_estimate is not None
        result.outcomes[f"{mode}: stored, linked to the site"] += data.canonical_url.startswith(
            "urn:"
        )
        result.leaks += [f"{label} record {number}: {leak}" for leak in leaks(data)]
        texts.append(data)
    if mode == "http" and doc is not None:
        _check_text(label, doc.content, texts, result)


def _check_text(label: str, content: bytes, texts: list[ArticleData], result: Result) -> None:
    everything = " ".join(
        normalize_space(str(getattr(d, name) or "")) for d in texts for name in TEXT_FIELDS
    )
    expected = expectations(content)
    for name, value in expected:
        result.expected_text["checked"] += 1
        fields = [
            normalize_space(str(getattr(d, f) or "")) for d in texts for f in _FIELD_MAP[name]
        ]
        if any(normalize_space(value) in text for text in fields):
            result.expected_text["found"] += 1
        else:
            # A "bozo" file is broken on purpose; its expected value is feedparser's guess.
            bozo = " (bozo)" if re.search(rb"Expect:\s+bozo", content) else ""
            result.missing_text.append(f"{label}{bozo}: {name} {value!r} not in {fields!r:.120}")
    bad = _MOJIBAKE.findall(everything)
    if bad and not any(_MOJIBAKE.search(value) for _name, value in expected):
        # feedparser itself skips these without chardet: legacy encodings, undeclared.
        needs = " (SkipUnless chardet)" if b"SkipUnless:   __import__('chardet')" in content else ""
        result.mojibake.append(f"{label}{needs}: {sorted(set(bad))}")


def _kind_of(message: str) -> str:
    """A problem message without its particulars (which entry, what value), for counting."""
    message = re.sub(r"^(?:entry|item)(?: '.*?'| .+?)?: (?=[a-z])", "", message)
    return re.split(r"[:(]", message, maxsplit=1)[0].strip()


def round_trip_encodings(files: list[Path]) -> list[str]:
    """The encodings the corpus declares (and a few common ones) that can write umlauts."""
    names = {"utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "iso-8859-1", "windows-1252"}
    for path in files:
        head = path.read_bytes()[:300].decode("latin-1")
        names.update(m.lower() for m in re.findall(r"encoding=[\"']([\w.-]+)[\"']", head))
    usable = []
    for name in sorted(names):
        try:
            (ROUND_TRIP + ROUND_TEXT).encode(name)
        except (LookupError, UnicodeEncodeError):
            continue
        usable.append(name)
    return usable


def _round_trip(encoding: str, result: Result) -> None:
    """Our own sentence in a feed written in ``encoding``, declared in XML and in HTTP."""
    xml = (
        f'<?xml version="1.0" encoding="{encoding}"?><rss version="2.0"><channel>'
        f"<title>Welt</title><link>https://welt.example/</link><item><title>{ROUND_TRIP}"
        f"</title><link>https://welt.example/a</link><description>{ROUND_TEXT}"
        "</description></item></channel></rss>"
    )
    # Undeclared: what many small German sites send, Latin-1 bytes and no word about it.
    undeclared = ("undeclared",) if encoding in ("iso-8859-1", "windows-1252", "utf-8") else ()
    for declared in ("xml", "http", *undeclared):
        content_type = f"application/xml; charset={encoding}" if declared == "http" else None
        text = xml if declared == "xml" else re.sub(r' encoding="[^"]+"', "", xml)
        doc = FetchedDoc(text.encode(encoding), content_type, "https://welt.example/feed.xml")
        label = f"{encoding} ({declared})"
        try:
            parsed = parse_source(doc.url, default_tz=ZONE, now=NOW, fetch=served(doc))
            (number, record), *_ = parsed.records
            data = clean_record(record, default_tz=ZONE, now=NOW, origin=parsed.origin(number))
        except Exception as err:  # any failure here is a broken round trip
            result.broken_round_trips.append(f"{label}: {type(err).__name__}: {err}")
            continue
        if data.title == ROUND_TRIP and data.teaser == ROUND_TEXT:
            result.round_trips["intact"] += 1
        else:
            result.broken_round_trips.append(f"{label}: {data.title!r}")


def _database_pass(files: list[Path], root: Path, result: Result) -> None:
    """Everything once more through ``ingest()`` into SQLite, then every row checked."""
    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite:///{folder}/world.db")  # migrated on open
        try:
            for path in files:
                url, doc = fetched(path, root)
                runs = (([url], None, served(doc)), ([str(path)], BASE_URL, None))
                for sources, base_url, fetch in runs:
                    try:
                        report = ingest(
                            sources, db, now=NOW, default_tz=ZONE, fetch=fetch, base_url=base_url
                        )
                    except Exception:
                        result.crashes.append(f"ingest() {sources}\n{traceback.format_exc(4)}")
                        continue
                    result.database_problems += [
                        str(p) for p in report.problems if "database" in p.message
                    ]
            with db.session() as session:
                for article in session.scalars(select(Article)):
                    result.outcomes["rows in the database"] += 1
                    where = f"database row {article.canonical_url}"
                    result.leaks += [f"{where}: {leak}" for leak in leaks(article)]
        finally:
            db.dispose()


def check(root: Path, *, database: bool = True) -> Result:
    """Run every check over the corpus at ``root`` (a feedparser checkout)."""
    files = corpus_files(root)
    result = Result(files=len(files))
    for path in files:
        url, doc = fetched(path, root)
        _ingest_file(url, doc, "http", result)
        _ingest_file(str(path), None, "file", result)
        _ingest_file(str(path), None, "file+base", result, base_url=BASE_URL)
    for encoding in round_trip_encodings(files):
        _round_trip(encoding, result)
    if database:
        _database_pass(files, root, result)
    return result


def _examples(title: str, lines: list[str], limit: int) -> Iterator[str]:
    yield f"{title}: {len(lines)}"
    for line in lines[:limit]:
        yield "  " + line.replace("\n", "\n    ")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path, help="a checkout of github.com/kurtmckee/feedparser")
    parser.add_argument("--list", type=int, default=10, help="examples shown per finding")
    parser.add_argument("--no-database", action="store_true", help="skip the SQLite pass")
    args = parser.parse_args()
    started = time.perf_counter()
    result = check(args.corpus, database=not args.no_database)
    print(
        f"{result.files} files from {args.corpus}, each as fetched (http), as a file, "
        "and as a file with --base-url (file+base)"
    )
    for name, count in sorted(result.outcomes.items()):
        print(f"  {name}: {count}")
    print("refusals by reason:")
    for reason, count in result.problems.most_common():
        print(f"  {count:5}  {reason}")
    for title, lines in (
        ("crashes (tracebacks)", result.crashes),
        ("leaks (script, handler, javascript: in a stored field)", result.leaks),
        ("mojibake not expected by the corpus", result.mojibake),
        ("non-ASCII text feedparser expects, not found in our fields", result.missing_text),
        ("round trips of umlauts through declared encodings broken", result.broken_round_trips),
        ("records the SQLite store refused", result.database_problems),
    ):
        for line in _examples(title, lines, args.list):
            print(line)
    checked = result.expected_text["checked"]
    print(f"expected non-ASCII texts found: {result.expected_text['found']} of {checked}")
    print(f"umlaut round trips intact: {result.round_trips['intact']}")
    print(f"{time.perf_counter() - started:.1f} s")
    return 1 if result.crashes or result.leaks else 0


if __name__ == "__main__":
    sys.exit(main())
