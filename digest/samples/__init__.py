"""Shipped sample data for ``digest demo``: three fictional sources and three subscribers.

The sources are stored as templates whose dates are ages ("13h" before an anchor).
``digest demo`` anchors them at the edition's cutoff (the send time, or now before
it), so the window always holds a full edition, whatever the hour it runs at:

* ``articles.jsonl.tmpl``: 14 raw articles of the main site (Techblick, German), as a
  publisher's CMS would export them, boilerplate tail included. Each object has
  ``age`` where the ingested file has ``published_at``.
* ``feed.xml.tmpl``: an RSS 2.0 feed of a second source (The Circuit Ledger, English).
* ``page-de.html.tmpl``, ``page-en.html.tmpl``: two full article pages of a third
  source (Signalwerk), page chrome and all.

The raw texts deliberately keep the junk real sources carry (sponsored offers,
newsletter plugs, disclaimers, "Nächster Artikel", cookie banners ...): the demo is
meant to show that ingest cleans it away.

In the feed and page templates, ``{{KIND:AGE}}`` stands for the instant ``anchor - AGE``
written as KIND (``iso``, ``rfc822``, ``date_de``, ``date_en``), and ``{base_url}``
for the web app's public URL, under which ``images/`` is served as
``/static/samples/``. ``python -m digest.samples._images`` redraws the images.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

__all__ = [
    "IMAGES_DIR",
    "PUBLISHER",
    "SAMPLES_DIR",
    "TOPICS",
    "parse_age",
    "published_at",
    "subscribers_csv",
    "write_samples",
]

SAMPLES_DIR: Final = Path(__file__).resolve().parent
IMAGES_DIR: Final = SAMPLES_DIR / "images"

# The main site's source name: `digest demo` ranks it as the publisher's own source.
PUBLISHER: Final = "Techblick"

# The main site's fixed topic vocabulary; every sample article uses only these.
TOPICS: Final = (
    "KI",
    "Robotik",
    "Chips",
    "Politik",
    "Forschung",
    "Start-ups",
    "Sicherheit",
    "Mobilität",
)

ARTICLES_TEMPLATE: Final = "articles.jsonl.tmpl"

# Each text template with the zone its source publishes in: dates are written with that
# zone's offset, as the real sites would, so ingest has to honour offsets rather than
# assume UTC.
TEXT_TEMPLATES: Final = (
    ("feed.xml.tmpl", "Europe/London"),
    ("page-de.html.tmpl", "Europe/Berlin"),
    ("page-en.html.tmpl", "Europe/London"),
)
ARTICLES_ZONE: Final = "Europe/Berlin"

_AGE = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?")
_PLACEHOLDER = re.compile(r"\{\{(\w+):([^}]*)\}\}")
_BASE_URL = "{base_url}"

_MONTHS_DE = (
    "Januar", "Februar", "März", "April", "Mai", "Juni",
    "Juli", "August", "September", "Oktober", "November", "Dezember",
)  # fmt: skip
_MONTHS_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def _date_de(when: datetime) -> str:
    # Spelled out by hand: strftime's month names follow the process locale.
    return f"{when.day}. {_MONTHS_DE[when.month - 1]} {when.year}, {when:%H:%M} Uhr"


def _date_en(when: datetime) -> str:
    return f"{when.day} {_MONTHS_EN[when.month - 1]} {when.year}, {when:%H:%M} {when.tzname()}"


_FORMATS: Final[dict[str, Callable[[datetime], str]]] = {
    "iso": datetime.isoformat,
    "rfc822": format_datetime,
    "date_de": _date_de,
    "date_en": _date_en,
}


def parse_age(text: str) -> timedelta:
    """``"1h20m"``, ``"13h"`` or ``"45m"`` as a duration; ValueError for anything else."""
    match = _AGE.fullmatch(text)
    if not text or match is None:
        raise ValueError(f"sample age {text!r} is not like '13h', '45m' or '1h20m'")
    hours, minutes = match.groups()
    return timedelta(hours=int(hours or 0), minutes=int(minutes or 0))


def published_at(now: datetime, age: str, zone: str = "UTC") -> datetime:
    """The instant ``now - age``, to the whole second (as sources write dates), in zone."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    return (now - parse_age(age)).replace(microsecond=0).astimezone(ZoneInfo(zone))


def write_samples(dest: Path, *, now: datetime, base_url: str) -> list[Path]:
    """Write the sample sources into dest with real dates (now minus each age).

    ``now`` is the anchor the ages count back from; the demo passes the edition's
    cutoff (see digest.editions.window), not the wall clock. Returns the paths to
    ingest, in a fixed order: the JSONL articles, the feed, the pages. Files are
    overwritten; the output depends only on now and base_url.
    Raises ValueError for a naive now (and for a broken template, which is a bug).
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    base = base_url.rstrip("/")
    dest.mkdir(parents=True, exist_ok=True)

    articles = dest / ARTICLES_TEMPLATE.removesuffix(".tmpl")
    articles.write_text(_render_articles(now, base), encoding="utf-8")
    written = [articles]
    for name, zone in TEXT_TEMPLATES:
        text = (SAMPLES_DIR / name).read_text(encoding="utf-8")
        path = dest / name.removesuffix(".tmpl")
        path.write_text(_render_text(text, now, base, zone), encoding="utf-8")
        written.append(path)
    return written


def subscribers_csv() -> Path:
    """The shipped CSV of sample subscribers (header ``email,name,language,timezone``)."""
    return SAMPLES_DIR / "subscribers.csv"


def _render_articles(now: datetime, base_url: str) -> str:
    lines = []
    template = (SAMPLES_DIR / ARTICLES_TEMPLATE).read_text(encoding="utf-8")
    for line in template.splitlines():
        if not line.strip():
            continue
        raw: dict[str, Any] = json.loads(line)
        article: dict[str, Any] = {}
        for key, value in raw.items():
            if key == "age":
                # Same position as the age it replaces, so the output diffs like the template.
                article["published_at"] = published_at(now, value, ARTICLES_ZONE).isoformat()
            elif isinstance(value, str):
                article[key] = value.replace(_BASE_URL, base_url)
            else:
                article[key] = value
        lines.append(json.dumps(article, ensure_ascii=False))
    return "\n".join(lines) + "\n"


def _render_text(text: str, now: datetime, base_url: str, zone: str) -> str:
    def substitute(match: re.Match[str]) -> str:
        kind, age = match.groups()
        if kind not in _FORMATS:
            raise ValueError(f"unknown date format {kind!r} in sample placeholder {match[0]}")
        return _FORMATS[kind](published_at(now, age, zone))

    rendered = _PLACEHOLDER.sub(substitute, text).replace(_BASE_URL, base_url)
    if "{{" in rendered:
        raise ValueError(
            f"unreplaced placeholder in sample: {rendered[rendered.index('{{') :][:40]}"
        )
    return rendered
