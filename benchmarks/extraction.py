"""Benchmark: article-body extraction of ``digest`` against plain trafilatura, same run.

    .venv/bin/python benchmarks/extraction.py CORPUS_DIR [--urls page|file] [--worst 8]

CORPUS_DIR is a checkout of the Zyte (Scrapinghub) article extraction benchmark,
https://github.com/scrapinghub/article-extraction-benchmark (181 news and blog
pages in html/*.html.gz, the expected article text of each in ground-truth.json).
Fetch it outside this repository and never commit it, e.g.

    git clone https://github.com/scrapinghub/article-extraction-benchmark \\
        /work/corpora/article-extraction-benchmark

Scoring follows the benchmark's own evaluate.py (re-implemented here, checked
against its published trafilatura output): the text is split into word tokens
(``\\w+``), each page's expected and extracted texts become multisets of 4-token
shingles, true/false positives and negatives are counted per page and normalised
by the page's total; precision is averaged over the pages where something was
extracted, recall over all pages, and F1 is the harmonic mean of the two averages.
An extractor that returns nothing for a page gets recall 0 there. Beside it the
script prints the mean of per-page F1 on whitespace tokens, the measure of the
figures in issue 9.

Rows, all from the same run:

* ``digest, as the CLI stores it``: the real HTML ingest of one page
  (``parse_html`` on a FetchedDoc, then ``clean_record``), scored on the stored
  ``body_text``; a page the CLI refuses contributes nothing.
* ``digest, refused pages forced through``: the same, but a page refused for its
  URL or date has its body extracted and cleaned anyway (extraction quality alone).
* ``digest, without our cleaning``: digest's trafilatura extraction as text, before
  clean.py and boilerplate.py.
* ``trafilatura.extract, defaults`` and ``..., include_comments=False`` (the
  benchmark's own runner, whose output gives trafilatura's published figure).

``--urls page`` (default) hands each page to the ingest under its original URL, as
``digest ingest https://...`` fetches it; ``--urls file`` under a file:// URI, as
``digest ingest`` on a saved copy reads it (pages then need a canonical link).
Times are wall-clock totals over all pages: the digest ingest path against plain
``trafilatura.extract`` with defaults.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import trafilatura

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from digest.errors import IngestError  # noqa: E402
from digest.ingest.blocks import blocks_text, split_blocks  # noqa: E402
from digest.ingest.clean import clean_record  # noqa: E402
from digest.ingest.html import parse_html  # noqa: E402
from digest.ingest.htmlbody import extract_body  # noqa: E402
from digest.ingest.records import ArticleRecord, FetchedDoc  # noqa: E402

SHINGLE = 4
_WORD = re.compile(r"\w+")
_NONSPACE = re.compile(r"\S+")
# Placeholders for a page forced through although it has no usable URL or date.
_FORCED_URL = "https://forced.invalid/page"
_FORCED_DATE = datetime(2000, 1, 1, tzinfo=UTC)


# ----------------------------------------------------------------------------- scoring


@dataclass(frozen=True)
class PageScore:
    """One page: true positive, false positive and false negative shares (sum 1)."""

    tp: float
    fp: float
    fn: float

    @property
    def extracted(self) -> bool:
        return self.tp + self.fp > 0

    @property
    def expected(self) -> bool:
        return self.tp + self.fn > 0

    @property
    def precision(self) -> float:
        if self.fp == self.fn == 0:
            return 1.0
        return self.tp / (self.tp + self.fp) if self.extracted else 0.0

    @property
    def recall(self) -> float:
        if self.fp == self.fn == 0:
            return 1.0
        return self.tp / (self.tp + self.fn) if self.expected else 0.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


def shingles(text: str, token: re.Pattern[str] = _WORD) -> Counter[tuple[str, ...]]:
    """The multiset of runs of SHINGLE consecutive tokens (one shorter run for a short text)."""
    tokens = token.findall(text)
    if len(tokens) < SHINGLE:
        return Counter([tuple(tokens)] if tokens else [])
    return Counter(tuple(tokens[i : i + SHINGLE]) for i in range(len(tokens) - SHINGLE + 1))


def score_page(expected: str, extracted: str, token: re.Pattern[str] = _WORD) -> PageScore:
    want, got = shingles(expected, token), shingles(extracted, token)
    tp = sum((want & got).values())
    fp = sum((got - want).values())
    fn = sum((want - got).values())
    total = tp + fp + fn
    if not total:
        return PageScore(0.0, 0.0, 0.0)
    # Normalised so that a long article weighs no more than a short one.
    return PageScore(tp / total, fp / total, fn / total)


@dataclass(frozen=True)
class Summary:
    f1: float  # harmonic mean of mean precision and mean recall (the benchmark's F1)
    precision: float
    recall: float
    f1_ws: float  # mean per-page F1 on whitespace tokens (issue 9's measure)


def summarize(scores: Sequence[PageScore], ws_scores: Sequence[PageScore]) -> Summary:
    precisions = [s.precision for s in scores if s.extracted]
    recalls = [s.recall for s in scores if s.expected]
    precision = sum(precisions) / len(precisions) if precisions else 0.0
    recall = sum(recalls) / len(recalls) if recalls else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    f1_ws = sum(s.f1 for s in ws_scores) / len(ws_scores) if ws_scores else 0.0
    return Summary(f1, precision, recall, f1_ws)


# ----------------------------------------------------------------------------- corpus


@dataclass(frozen=True)
class Page:
    key: str
    url: str
    html: bytes
    expected: str


def load_corpus(directory: Path) -> list[Page]:
    truth_path = directory / "ground-truth.json"
    if not truth_path.is_file():
        raise SystemExit(
            f"{truth_path} not found: CORPUS_DIR must be a checkout of "
            "https://github.com/scrapinghub/article-extraction-benchmark (see --help)"
        )
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    pages = []
    for key, item in sorted(truth.items()):
        path = directory / "html" / f"{key}.html.gz"
        if not path.is_file():
            raise SystemExit(f"{path} is missing: is the checkout complete?")
        html = gzip.decompress(path.read_bytes())
        pages.append(Page(key, item.get("url") or "", html, item["articleBody"]))
    return pages


# ---------------------------------------------------------------------------- systems


@dataclass
class Outcome:
    """What the digest ingest made of one page."""

    stored: str = ""  # body_text as stored; "" when refused
    refusal: str | None = None
    forced: str = ""  # body_text, forcing a page refused for its URL or date through
    raw: str = ""  # digest's extraction before our cleaning


@dataclass
class Run:
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    plain: dict[str, str] = field(default_factory=dict)
    plain_nocomments: dict[str, str] = field(default_factory=dict)
    digest_seconds: float = 0.0
    plain_seconds: float = 0.0


def ingest_page(page: Page, doc_url: str, now: datetime) -> Outcome:
    """The CLI's path for one HTML page: parse, then clean; the stored body text."""
    doc = FetchedDoc(page.html, "text/html; charset=utf-8", doc_url)
    parsed = parse_html(doc, default_tz=UTC, now=now)
    if not parsed.records:
        return Outcome(refusal="; ".join(message for _, message in parsed.problems))
    try:
        return Outcome(stored=clean_record(parsed.records[0][1]).body_text)
    except IngestError as err:
        return Outcome(refusal=f"cleaning: {err.message}")


def force_through(page: Page, doc_url: str) -> tuple[str, str]:
    """(cleaned body text, raw extracted text) of the page whatever its URL and date."""
    tree = trafilatura.load_html(page.html)
    if tree is None:
        return "", ""
    url = doc_url if doc_url.startswith("http") else None
    body = extract_body(tree, url)
    if not body:
        return "", ""
    raw = blocks_text(split_blocks(body, base_url=url))
    meta = trafilatura.extract_metadata(tree, default_url=url)
    record = ArticleRecord(
        url=url or _FORCED_URL,
        title=meta.title or "Untitled page",
        published_at=_FORCED_DATE,
        body=body,
        source=meta.sitename or None,
    )
    try:
        return clean_record(record).body_text, raw
    except IngestError:
        return "", raw


def run(pages: Sequence[Page], *, urls: str, now: datetime) -> Run:
    result = Run()
    for page in pages:
        doc_url = page.url if urls == "page" and page.url else f"file:///corpus/{page.key}.html"
        start = time.perf_counter()
        outcome = ingest_page(page, doc_url, now)
        result.digest_seconds += time.perf_counter() - start
        # Plain trafilatura reads the decoded text, as the benchmark's runner does.
        text = page.html.decode("utf-8")
        start = time.perf_counter()
        result.plain[page.key] = trafilatura.extract(text) or ""
        result.plain_seconds += time.perf_counter() - start
        result.plain_nocomments[page.key] = trafilatura.extract(text, include_comments=False) or ""
        forced, outcome.raw = force_through(page, doc_url)
        outcome.forced = outcome.stored if outcome.refusal is None else forced
        result.outcomes[page.key] = outcome
    return result


# ----------------------------------------------------------------------------- report


def report(pages: Sequence[Page], result: Run, worst: int) -> None:
    systems: dict[str, dict[str, str]] = {
        "digest, as the CLI stores it": {k: o.stored for k, o in result.outcomes.items()},
        "digest, refused pages forced through": {k: o.forced for k, o in result.outcomes.items()},
        "digest, without our cleaning": {k: o.raw for k, o in result.outcomes.items()},
        "trafilatura.extract, defaults": result.plain,
        "trafilatura.extract, include_comments=False": result.plain_nocomments,
    }
    per_page: dict[str, dict[str, PageScore]] = {}
    print(f"{len(pages)} pages\n")
    print(f"| {'extractor':<44} | F1    | precision | recall | F1 (whitespace, per page) |")
    print(f"|{'-' * 46}|-------|-----------|--------|---------------------------|")
    for name, texts in systems.items():
        scores = {p.key: score_page(p.expected, texts[p.key]) for p in pages}
        ws = [score_page(p.expected, texts[p.key], _NONSPACE) for p in pages]
        per_page[name] = scores
        s = summarize(list(scores.values()), ws)
        print(
            f"| {name:<44} | {s.f1:.3f} | {s.precision:.3f}     | {s.recall:.3f}  "
            f"| {s.f1_ws:.3f}                     |"
        )

    refusals = Counter(o.refusal for o in result.outcomes.values() if o.refusal is not None)
    print(f"\nrefused by the CLI: {sum(refusals.values())} pages")
    for message, count in refusals.most_common():
        print(f"  {count:3} x {message[:150]}")

    ratio = result.digest_seconds / result.plain_seconds if result.plain_seconds else 0.0
    print(
        f"\ntime, all pages: digest ingest (parse_html + clean_record) "
        f"{result.digest_seconds:.2f} s, plain trafilatura.extract {result.plain_seconds:.2f} s, "
        f"ratio {ratio:.2f}"
    )

    ours = per_page["digest, as the CLI stores it"]
    theirs = per_page["trafilatura.extract, defaults"]
    urls = {p.key: p.url for p in pages}

    def show(title: str, keys: list[str]) -> None:
        print(f"\n{title}\n  digest  trafil.  page")
        for key in keys:
            print(f"  {ours[key].f1:.3f}   {theirs[key].f1:.3f}    {key[:10]} {urls[key][:80]}")

    show("worst pages for digest:", sorted(ours, key=lambda k: ours[k].f1)[:worst])
    show(
        "pages where digest is furthest below trafilatura:",
        sorted(ours, key=lambda k: ours[k].f1 - theirs[k].f1)[:worst],
    )
    show("worst pages for trafilatura:", sorted(theirs, key=lambda k: theirs[k].f1)[:worst])


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("corpus", type=Path, metavar="CORPUS_DIR", help="benchmark checkout")
    parser.add_argument(
        "--urls",
        choices=("page", "file"),
        default="page",
        help="hand pages to the ingest under their original URL (default) or a file:// URI",
    )
    parser.add_argument("--worst", type=int, default=8, help="pages listed per worst-of list")
    parser.add_argument(
        "--score-output",
        type=Path,
        metavar="JSON",
        help="only score a prediction file in the benchmark's format (e.g. the corpus's "
        "output/trafilatura.json, to check this scorer against the published figure)",
    )
    parser.add_argument(
        "--write-output",
        type=Path,
        metavar="JSON",
        help="also write digest's stored texts in the benchmark's format, for its evaluate.py",
    )
    args = parser.parse_args(argv)
    pages = load_corpus(args.corpus)
    if args.score_output:
        score_file(pages, args.score_output)
        return
    # The pages date from 2019; "now" only bounds plausible publication dates.
    result = run(pages, urls=args.urls, now=datetime.now(UTC))
    report(pages, result, args.worst)
    if args.write_output:
        output = {key: {"articleBody": o.stored} for key, o in result.outcomes.items()}
        args.write_output.write_text(json.dumps(output, ensure_ascii=False), encoding="utf-8")


def score_file(pages: Sequence[Page], path: Path) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    if set(data) == {"version", "output"}:  # the wrapped form of the benchmark's files
        data = data["output"]
    texts = {p.key: (data.get(p.key) or {}).get("articleBody") or "" for p in pages}
    scores = [score_page(p.expected, texts[p.key]) for p in pages]
    ws = [score_page(p.expected, texts[p.key], _NONSPACE) for p in pages]
    s = summarize(scores, ws)
    print(
        f"{path.name}: F1 {s.f1:.3f}, precision {s.precision:.3f}, recall {s.recall:.3f}; "
        f"F1 on whitespace tokens, per page {s.f1_ws:.3f}"
    )


if __name__ == "__main__":
    main()
