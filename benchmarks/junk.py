"""Quality: what cleaning removes from real article pages, by kind; what it leaves.

    .venv/bin/python benchmarks/junk.py FOLDER [FOLDER ...] [--show KIND] [--limit N]

Each ``*.html`` file in the folders is extracted the way ``digest ingest`` reads a
page (trafilatura, the options of digest.ingest.html), then cleaned. Printed:
pages read, records refused, blocks removed per boilerplate kind (with examples for
``--show KIND``), teasers and bodies whose closing byline or link label went, and
pages whose text still has soft hyphens or zero-width characters before and after
cleaning. The corpus stays outside the repository; the trafilatura test pages
(github:adbar/trafilatura, tests/eval and tests/cache, ~1,000 de/en/fr pages) are
one such corpus. The figures are for reading by a person: a removed block that is
reporting is a false positive to fix in digest/ingest/rules/.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from pathlib import Path

import trafilatura

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from digest.errors import IngestError  # noqa: E402
from digest.ingest.blocks import split_blocks  # noqa: E402
from digest.ingest.boilerplate import classify  # noqa: E402
from digest.ingest.clean import clean_record, trailing_junk_length  # noqa: E402
from digest.ingest.records import validate_record  # noqa: E402

INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"


def extract(path: Path) -> dict[str, str | None] | None:
    content = path.read_bytes()
    tree = trafilatura.load_html(content)
    if tree is None:
        return None
    meta = trafilatura.extract_metadata(tree)
    body = trafilatura.extract(
        content,
        url="https://corpus.example/page",
        output_format="html",
        include_comments=False,
        include_tables=False,
        include_formatting=True,
        include_links=True,
        include_images=False,
        favor_precision=True,
    )
    if not body:
        return None
    return {"title": (meta.title if meta else None) or path.stem, "body": body,
            "teaser": meta.description if meta else None}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--show", help="print the removed blocks of this kind")
    parser.add_argument("--limit", type=int, default=40, help="examples shown (default 40)")
    args = parser.parse_args(argv)
    files = sorted(f for folder in args.folders for f in folder.glob("*.htm*"))
    kinds: Counter[str] = Counter()
    examples: dict[str, list[str]] = defaultdict(list)
    counts: Counter[str] = Counter()
    for number, path in enumerate(files):
        page = extract(path)
        if page is None:
            counts["no text extracted"] += 1
            continue
        counts["pages"] += 1
        body = str(page["body"])
        counts["invisible chars before"] += any(c in body for c in INVISIBLE)
        for block in split_blocks(body):
            rule = classify(block.text)
            if rule is not None:
                kinds[rule.kind] += 1
                examples[rule.kind].append(f"{path.name}: {block.text[:160]}")
        record = validate_record(
            {"url": f"https://corpus.example/{number}", "published_at": "2026-01-01T00:00:00Z"}
            | {key: value for key, value in page.items() if value}
        )
        if record.teaser and trailing_junk_length(record.teaser):
            counts["teasers with byline/link label"] += 1
        try:
            article = clean_record(record)
        except IngestError:
            counts["refused (nothing left)"] += 1
            continue
        texts = article.title + article.teaser + article.body_text + article.body_html
        counts["invisible chars after"] += any(c in texts for c in INVISIBLE)
    for name in ("pages", "no text extracted", "refused (nothing left)",
                 "teasers with byline/link label", "invisible chars before",
                 "invisible chars after"):  # fmt: skip
        print(f"{name:>32}: {counts[name]}")
    print("blocks recognised as boilerplate (before the tail cut), by kind:")
    for kind, count in kinds.most_common():
        print(f"{kind:>32}: {count}")
    if args.show:
        for line in examples[args.show][: args.limit]:
            print("  ", line)


if __name__ == "__main__":
    main()
