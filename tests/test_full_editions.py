"""Full editions from real publishers' shapes, with the default config, end to end.

The shapes are what real data looked like when `digest` fell apart on it: a
public broadcaster's RSS with 40 items and no categories beside a tech site's
Atom with 150 and none either (a 4-item edition), and one publisher's own feed
alone (3 items). The feeds are generated here, in those shapes, so their dates
follow the test's clock; the wording is ours.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from digest import cli
from tests.conftest import ClockFrom

# 05:00 UTC: before the 06:30 Berlin send time, so the window ends now.
CLOCK = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)

_NOUNS = (
    "Bahn", "Klinik", "Hafen", "Schule", "Brücke", "Fabrik", "Stadtrat", "Museum", "Flughafen",
    "Gericht", "Polizei", "Feuerwehr", "Universität", "Bank", "Reederei", "Theater", "Zoo",
    "Bäckerei", "Werft", "Sender", "Verlag", "Orchester", "Bauamt", "Kita", "Stadion",
)  # fmt: skip
_PLACES = (
    "Kiel", "Bremen", "Erfurt", "Passau", "Görlitz", "Trier", "Ulm", "Rostock", "Gießen",
    "Bamberg", "Lübeck", "Koblenz", "Jena", "Schwerin", "Freiburg", "Cottbus", "Wetzlar",
)  # fmt: skip
_VERBS = (
    "eröffnet", "schließt", "verschiebt", "erweitert", "prüft", "verkauft", "saniert",
    "plant", "stoppt", "feiert", "meldet", "sucht",
)  # fmt: skip
_THINGS = (
    "neuen Standort", "Sparprogramm", "Jubiläum", "Ausbau", "Nachtbetrieb", "Sommerfest",
    "Umbau", "Rekordjahr", "Tarifvertrag", "Pilotprojekt", "Neubau", "Ausstellung",
)  # fmt: skip
_NAMES = ("Philippa Eckardt", "Jonas Wendel", "Mira Santos", "Tobias Kern", "Lea Brandt")


def _stories(count: int, seed: str) -> list[tuple[str, str]]:
    """(title, teaser) pairs about distinct made-up local events: none is another's story."""
    rng = random.Random(seed)
    seen: set[tuple[str, str]] = set()
    stories = []
    while len(stories) < count:
        noun, place = rng.choice(_NOUNS), rng.choice(_PLACES)
        if (noun, place) in seen:
            continue
        seen.add((noun, place))
        verb, thing = rng.choice(_VERBS), rng.choice(_THINGS)
        figure = rng.randint(2, 990)
        title = f"{noun} in {place} {verb} {thing}"
        teaser = (
            f"Die {noun} in {place} {verb} {thing}: {figure} Beschäftigte sind betroffen, "
            f"teilte die Leitung am Abend mit. Von {rng.choice(_NAMES)}.[mehr]"
        )
        stories.append((title, teaser))
    return stories


def rss(name: str, site: str, count: int, spacing: timedelta) -> str:
    """A broadcaster's RSS 2.0: title, link, date, description; no <category> at all."""
    items = "".join(
        f"<item><title>{escape(title)}</title><link>{site}/meldung/{n}.html</link>"
        f"<guid>{site}/meldung/{n}.html</guid>"
        f"<pubDate>{format_datetime(CLOCK - spacing * (n + 1))}</pubDate>"
        f"<description>{escape(teaser)}</description></item>"
        for n, (title, teaser) in enumerate(_stories(count, name))
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{name}</title><link>{site}/</link><language>de</language>{items}"
        "</channel></rss>"
    )


def atom(name: str, site: str, count: int, spacing: timedelta) -> str:
    """A tech site's Atom feed: entries with summary and content, no <category>."""
    entries = "".join(
        f"<entry><title>{escape(title)}</title><link href='{site}/news/{n}'/>"
        f"<id>tag:{site.split('//')[1]},2026:{n}</id>"
        f"<updated>{(CLOCK - spacing * (n + 1)).isoformat()}</updated>"
        f"<summary>{escape(teaser)}</summary>"
        f"<content type='html'>{escape(f'<p>{teaser}</p><p>Mehr dazu im Laufe des Tages.</p>')}"
        "</content></entry>"
        for n, (title, teaser) in enumerate(_stories(count, name))
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{name}</title><id>{site}/</id><updated>{CLOCK.isoformat()}</updated>"
        f"{entries}</feed>"
    )


@pytest.fixture
def at_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli.state, "clock", ClockFrom(CLOCK))


def edition(run) -> dict:  # type: ignore[no-untyped-def]
    result = run("rank", "--explain", "--json")
    assert result.code == 0, result.err
    return json.loads(result.out)  # type: ignore[no-any-return]


def test_untagged_feeds_from_two_sources_give_a_full_edition(run, tmp_path: Path, at_clock) -> None:  # type: ignore[no-untyped-def]
    broadcaster = tmp_path / "rundfunk.xml"
    broadcaster.write_text(
        rss("Rundfunk24", "https://rundfunk24.example", 40, timedelta(minutes=30)), "utf-8"
    )
    tech = tmp_path / "technik.atom"
    tech.write_text(
        atom("Technikwelt", "https://technikwelt.example", 150, timedelta(minutes=9)), "utf-8"
    )
    ingested = run("ingest", str(broadcaster), str(tech))
    assert ingested.code == 0, ingested.err
    data = edition(run)
    items = data["items"]
    assert len(items) == 12
    per_source = {
        s: sum(1 for i in items if i["source"] == s) for s in ("Rundfunk24", "Technikwelt")
    }
    # Variety holds: the prolific source does not take the edition.
    assert per_source == {"Rundfunk24": 6, "Technikwelt": 6}
    notes = data["explanation"]["notes"]
    assert any("max_per_source raised from 3 to 6" in note for note in notes)
    kinds = {row["reason"]["kind"] for row in data["explanation"]["rows"] if row["reason"]}
    assert "topic_cap" not in kinds


def test_one_publishers_own_feed_gives_a_full_edition(run, tmp_path: Path, at_clock) -> None:  # type: ignore[no-untyped-def]
    own = tmp_path / "eigene.xml"
    own.write_text(
        rss("Morgenblatt", "https://morgenblatt.example", 25, timedelta(minutes=50)), "utf-8"
    )
    assert run("ingest", str(own)).code == 0
    data = edition(run)
    assert len(data["items"]) == 12
    assert {item["source"] for item in data["items"]} == {"Morgenblatt"}
    rows = [r for r in data["explanation"]["rows"] if r["status"] == "selected"]
    assert sum(1 for r in rows if r["note"] and "over max_per_source 3" in r["note"]) == 9


def test_a_one_source_day_with_few_items_sends_them_all(run, tmp_path: Path, at_clock) -> None:  # type: ignore[no-untyped-def]
    own = tmp_path / "eigene.xml"
    own.write_text(
        rss("Morgenblatt", "https://morgenblatt.example", 7, timedelta(hours=2)), "utf-8"
    )
    assert run("ingest", str(own)).code == 0
    assert len(edition(run)["items"]) == 7
