"""Sections and "also reported by" links in the rendered email."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from digest.config import Settings
from digest.errors import RenderError
from digest.render import (
    PLACEHOLDERS,
    AlsoReported,
    DigestItem,
    Personalization,
    RenderedEdition,
    Renderer,
    personalize,
)
from tests.test_render import (
    DAY,
    GMAIL_CLIP_BYTES,
    WHO,
    custom_renderer,
    realistic_items,
    sample_items,
    settings_for,
)

DATA = Path(__file__).parent / "data"
SPIEGEL = "https://www.spiegel.example/politik/haushalt-2027?utm_source=rss&utm_medium=feed"
# The order the fixture's sections must appear in, as (German, English) headings.
HEADINGS = [
    ("Top-Themen", "Top stories"),
    ("Wirtschaft & Finanzen", "Wirtschaft & Finanzen"),
    ("Wissen", "Wissen"),
    ("Sport", "Sport"),
    ("Weitere Meldungen", "More news"),
]
# Section by section, the first words of the titles under each heading.
TITLES = [
    ["Bundestag beschließt", "Wintereinbruch"],
    ["EZB lässt Leitzins"],
    ["Forschende & Ärzte"],
    ["Bayern München"],
    ["Berliner Museumsinsel"],
]


def sectioned_items() -> list[DigestItem]:
    data = json.loads((DATA / "render" / "sections.json").read_text(encoding="utf-8"))
    return [DigestItem.from_snapshot(entry) for entry in data]


@pytest.fixture
def items() -> list[DigestItem]:
    return sectioned_items()


@pytest.fixture
def de_edition(sqlite_settings: Settings, items: list[DigestItem]) -> RenderedEdition:
    return Renderer(sqlite_settings).render(DAY, items)


@pytest.fixture
def en_edition(tmp_path: Path, items: list[DigestItem]) -> RenderedEdition:
    return Renderer(settings_for(tmp_path, newsletter__language="en")).render(DAY, items)


def kickers(html: str) -> list[str]:
    """The section headings of the HTML part, in order (the kicker is its own block)."""
    return [
        " ".join(text.split())
        for text in re.findall(r"text-transform:uppercase;[^>]*>([^<]+)</div>", html)
    ]


def in_order(haystack: str, needles: list[str]) -> bool:
    at = 0
    for needle in needles:
        found = haystack.find(needle, at)
        if found < 0:
            return False
        at = found + len(needle)
    return True


# --- sections ------------------------------------------------------------------


@pytest.mark.parametrize(("edition_fixture", "column"), [("de_edition", 0), ("en_edition", 1)])
def test_sections_render_in_order_with_headings(
    request: pytest.FixtureRequest, edition_fixture: str, column: int
) -> None:
    edition: RenderedEdition = request.getfixturevalue(edition_fixture)
    headings = [pair[column] for pair in HEADINGS]
    assert kickers(edition.html) == [h.replace("&", "&amp;") for h in headings]
    # Each heading is followed by its own items, before the next heading.
    html_order = []
    text_order = []
    for heading, titles in zip(headings, TITLES, strict=True):
        html_order += [heading.replace("&", "&amp;"), *(t.replace("&", "&amp;") for t in titles)]
        text_order += ["=" * 72 + "\n" + heading.upper() + "\n", *titles]
    assert in_order(edition.html, html_order)
    assert in_order(edition.text, text_order)
    # The text part has exactly one heading per section.
    assert edition.text.count("=" * 72) == len(HEADINGS)


def test_only_the_first_top_story_is_big(de_edition: RenderedEdition) -> None:
    assert de_edition.html.count("font-size:26px") == 1
    assert de_edition.html.count("Weiterlesen") == 1
    # The big headline is the first item's; the second top story comes after "Read more".
    assert in_order(
        de_edition.html,
        ["font-size:26px", ">Bundestag beschließt", "Weiterlesen", ">Wintereinbruch"],
    )
    # A rule under every story but the last one of the email.
    assert de_edition.html.count("border-bottom:1px solid #e3e6ea") == 5


def test_one_top_story_is_headed_in_the_singular(
    sqlite_settings: Settings, items: list[DigestItem]
) -> None:
    one_top = [items[0], replace(items[1], section="Wissen"), *items[2:]]
    edition = Renderer(sqlite_settings).render(DAY, one_top)
    assert kickers(edition.html)[:2] == ["Top-Thema", "Wissen"]
    assert "Top-Themen" not in edition.html


def test_without_a_top_section_no_story_is_big(
    sqlite_settings: Settings, items: list[DigestItem]
) -> None:
    no_top = [
        replace(item, section="Wissen" if item.section == "top" else item.section) for item in items
    ]
    edition = Renderer(sqlite_settings).render(DAY, no_top)
    assert kickers(edition.html)[0] == "Wissen"
    assert "font-size:26px" not in edition.html
    # The subject still names the first item.
    assert edition.subject.startswith("KI-Morgenpost: Bundestag beschließt")


# Prints the context: each section as key=label:positions, then top|rest|count.
SECTIONS_PROBE = (
    "{% for s in sections %}{{ s.key }}={{ s.label }}:"
    "{{ s.items|map(attribute='position')|join(',') }};{% endfor %}"
    "#{{ top.position }}|{{ rest|map(attribute='position')|join(',') }}|{{ items|length }}"
)


def test_sections_in_the_context(tmp_path: Path, items: list[DigestItem]) -> None:
    renderer = custom_renderer(tmp_path, digest__txt__j2=SECTIONS_PROBE)
    text = renderer.render(DAY, items).text
    assert text == (
        "top=Top-Themen:1,2;Wirtschaft & Finanzen=Wirtschaft & Finanzen:3;"
        "Wissen=Wissen:4;Sport=Sport:5;other=Weitere Meldungen:6;#1|2,3,4,5,6|6\n"
    )


def test_items_without_sections_keep_the_old_grouping(tmp_path: Path) -> None:
    renderer = custom_renderer(tmp_path, digest__txt__j2=SECTIONS_PROBE)
    assert renderer.render(DAY, sample_items()).text == (
        "top=Top-Thema:1;other=Weitere Meldungen:2,3,4,5,6;#1|2,3,4,5,6|6\n"
    )
    assert renderer.render(DAY, sample_items()[:1]).text == "top=Top-Thema:1;#1||1\n"


def test_items_without_a_section_among_sectioned_ones_go_last(
    tmp_path: Path, items: list[DigestItem]
) -> None:
    renderer = custom_renderer(tmp_path, digest__txt__j2=SECTIONS_PROBE)
    mixed = [items[0], replace(items[1], section=None), replace(items[2], section="KI"), items[5]]
    assert renderer.render(DAY, mixed).text == (
        "top=Top-Thema:1;KI=KI:3;other=Weitere Meldungen:2,4;#1|2,3,4|4\n"
    )


def test_blank_section_is_refused(items: list[DigestItem]) -> None:
    with pytest.raises(RenderError, match=r"section of 'Wintereinbruch.*' is blank"):
        replace(items[1], section="  ")


# --- also reported by ----------------------------------------------------------


def test_also_reported_links_in_html(de_edition: RenderedEdition) -> None:
    html = de_edition.html
    spiegel = SPIEGEL.replace("&", "&amp;")
    assert re.search(rf'<a href="{re.escape(spiegel)}"[^>]*>Spiegel</a>', html)
    assert re.search(r'<a href="https://www\.zeit\.example/[^"]*"[^>]*>Zeit Online</a>', html)
    # No source: the title, shortened and escaped, is the link text.
    assert re.search(
        r'<a href="https://blog\.example\.org/haushalt"[^>]*>'
        r"Haushalt: &#34;Kompromiss&#34; &amp; Kürzungen bei…</a>",
        html,
    )
    # At most three: the fourth report (FAZ) is left out.
    assert "faz.example" not in html
    assert html.count("Auch berichtet von:") == 3
    line = re.search(r"Auch berichtet von:.*?</p>", html)
    assert line is not None and "Spiegel</a>, <a" in line.group(0)
    # Under its own item: between the first item's meta line and "Read more".
    assert in_order(html, ["Hauptstadtbüro · Miriam Keller", "Auch berichtet von:", "Weiterlesen"])
    assert in_order(html, ["Wintereinbruch", "Auch berichtet von:", "BR24</a>", "EZB lässt"])


def test_also_reported_links_in_text(de_edition: RenderedEdition) -> None:
    text = " ".join(de_edition.text.split())
    assert (
        f"Auch berichtet von: Spiegel {SPIEGEL} · Zeit Online "
        "https://www.zeit.example/politik/2026-11/haushalt · "
        'Haushalt: "Kompromiss" & Kürzungen bei… https://blog.example.org/haushalt'
    ) in text
    assert "Auch berichtet von: Handelsblatt https://www.handelsblatt.example/ezb" in text
    assert "faz.example" not in text
    # The long URL stays whole, on a line of its own.
    assert SPIEGEL in de_edition.text.splitlines()


def test_text_part_with_sections_is_plain_and_wrapped(de_edition: RenderedEdition) -> None:
    text = personalize(de_edition, WHO).text
    assert not re.search(r"</?[a-zA-Z][^>]*>", text), "HTML tag in the text part"
    titles = {item.title for item in sectioned_items()}
    for line in text.splitlines():
        if line not in titles and " " in line:
            assert len(line) <= 72, line


def test_also_reported_is_escaped(sqlite_settings: Settings, items: list[DigestItem]) -> None:
    nasty = AlsoReported(
        title="x", url='https://evil.example/?q="><script>', source="<script>alert(1)</script>"
    )
    edition = Renderer(sqlite_settings).render(DAY, [replace(items[0], also_reported_by=(nasty,))])
    assert "<script>" not in edition.html
    assert 'href="https://evil.example/?q=&#34;&gt;&lt;script&gt;"' in edition.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;</a>" in edition.html
    text = " ".join(edition.text.split())  # not HTML: no entities in the text part
    assert '<script>alert(1)</script> https://evil.example/?q="><script>' in text


def test_also_reported_cannot_smuggle_placeholders(
    sqlite_settings: Settings, items: list[DigestItem]
) -> None:
    sneaky = AlsoReported(
        title="t", url="https://x.example/", source=PLACEHOLDERS["unsubscribe_url"]
    )
    edition = Renderer(sqlite_settings).render(DAY, [replace(items[0], also_reported_by=(sneaky,))])
    mine = personalize(edition, WHO)
    body, _footer = mine.text.split("-" * 72)
    assert "unsubscribe?token=abc" not in body
    assert mine.html.count("unsubscribe?token=abc") == 1  # the footer's link only


def test_a_repeated_source_is_labelled_by_title(
    sqlite_settings: Settings, items: list[DigestItem]
) -> None:
    others = (
        AlsoReported(title="Schnee im Süden", url="https://a.example/1", source="dpa"),
        AlsoReported(title="Bahn rechnet mit Ausfällen", url="https://a.example/2", source="DPA"),
        AlsoReported(title="Glatteis", url="https://a.example/3", source="BR24"),
    )
    # items[1] is from dpa itself: no link may just say "dpa".
    edition = Renderer(sqlite_settings).render(DAY, [replace(items[1], also_reported_by=others)])
    line = re.search(r"Auch berichtet von:.*?</p>", edition.html)
    assert line is not None
    assert re.findall(r">([^<>]+)</a>", line.group(0)) == [
        "Schnee im Süden",
        "Bahn rechnet mit Ausfällen",
        "BR24",
    ]


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "data:text/html,<b>x</b>", "ftp://files.example/a", "//x"]
)
def test_also_reported_needs_a_web_url(items: list[DigestItem], url: str) -> None:
    bad = AlsoReported(title="Andere Meldung", url=url, source="X")
    with pytest.raises(
        RenderError, match=r"also_reported_by url of 'Bundestag beschließt.*' is not an http"
    ):
        replace(items[0], also_reported_by=(bad,))


def test_no_also_line_without_other_reports(
    sqlite_settings: Settings, items: list[DigestItem]
) -> None:
    edition = Renderer(sqlite_settings).render(
        DAY, [replace(i, also_reported_by=()) for i in items]
    )
    assert "Auch berichtet von" not in edition.html
    assert "Auch berichtet von" not in edition.text


def test_english_labels(en_edition: RenderedEdition) -> None:
    assert en_edition.html.count("Also reported by:") == 3
    assert "Also reported by: Spiegel https://www.spiegel.example/" in " ".join(
        en_edition.text.split()
    )
    assert "Auch berichtet" not in en_edition.html


def test_german_edition_has_no_english_section_text(de_edition: RenderedEdition) -> None:
    for english in ("Top stories", "Top story", "Also reported by", "More news"):
        assert english not in de_edition.html
        assert english not in de_edition.text
    assert "TOP-THEMEN" in de_edition.text and "WEITERE MELDUNGEN" in de_edition.text


# --- snapshots -----------------------------------------------------------------


def test_snapshot_round_trip_with_sections(items: list[DigestItem]) -> None:
    for item in items:
        snapshot = item.to_snapshot()
        assert json.loads(json.dumps(snapshot)) == snapshot
        assert DigestItem.from_snapshot(snapshot) == item
    first = items[0].to_snapshot()
    assert first["section"] == "top"
    assert first["also_reported_by"][1] == {
        "title": "Der Haushalt ist beschlossen",
        "url": "https://www.zeit.example/politik/2026-11/haushalt",
        "source": "Zeit Online",
    }
    assert len(first["also_reported_by"]) == 4  # the snapshot keeps all; the email shows 3


def test_snapshot_round_trip_without_the_new_fields() -> None:
    item = sample_items()[0]
    snapshot = item.to_snapshot()
    assert snapshot["section"] is None and snapshot["also_reported_by"] == []
    assert DigestItem.from_snapshot(json.loads(json.dumps(snapshot))) == item


def test_old_snapshot_loads(items: list[DigestItem]) -> None:
    old = {
        key: value
        for key, value in items[0].to_snapshot().items()
        if key not in {"section", "also_reported_by"}
    }
    loaded = DigestItem.from_snapshot(old)
    assert loaded.section is None and loaded.also_reported_by == ()
    assert loaded == replace(items[0], section=None, also_reported_by=())
    # An entry without a source is fine; one without a url is not.
    entry = {"title": "T", "url": "https://x.example/"}
    assert DigestItem.from_snapshot({**old, "also_reported_by": [entry]}).also_reported_by == (
        AlsoReported(title="T", url="https://x.example/", source=None),
    )
    with pytest.raises(RenderError, match="also_reported_by entry needs a title and a url"):
        DigestItem.from_snapshot({**old, "also_reported_by": [{"title": "T"}]})
    with pytest.raises(RenderError, match="not an http"):
        DigestItem.from_snapshot({**old, "also_reported_by": [{"title": "T", "url": "x:y"}]})


def test_also_reported_by_given_as_a_list_becomes_a_tuple(items: list[DigestItem]) -> None:
    others = [AlsoReported(title="T", url="https://x.example/", source=None)]
    item = replace(items[0], also_reported_by=others)  # type: ignore[arg-type]
    assert item.also_reported_by == tuple(others)
    assert hash(item) == hash(replace(items[0], also_reported_by=tuple(others)))


# --- size ----------------------------------------------------------------------


def test_thirty_items_with_sections_stay_under_gmail_clipping(
    sqlite_settings: Settings,
) -> None:
    topics = ["top"] * 3 + ["Politik"] * 7 + ["KI"] * 7 + ["Robotik"] * 7 + ["other"] * 6
    items = [
        replace(
            item,
            section=topic,
            also_reported_by=tuple(
                AlsoReported(
                    title=f"Entlastungspaket: Was die Einigung bedeutet ({n}, {k})",
                    url=(
                        f"https://www.andere-zeitung-{k}.example/politik/2026-11-25/"
                        f"entlastungspaket-familien-pendler-{n}?utm_source=rss&utm_medium=feed"
                    ),
                    source=f"Andere Zeitung {k}",
                )
                for k in range(2)
            ),
        )
        for n, (item, topic) in enumerate(zip(realistic_items(30), topics, strict=True))
    ]
    edition = Renderer(sqlite_settings).render(DAY, items)
    long_token = "t" * 120
    mine = personalize(
        edition,
        Personalization(
            email="maximilian.mustermann@example.com",
            name="Maximilian Mustermann",
            unsubscribe_url=f"https://news.example.com/unsubscribe?token={long_token}&list=ki",
            preferences_url=f"https://news.example.com/preferences?token={long_token}",
        ),
    )
    size = len(mine.html.encode())
    print(f"30-item digest with sections: {size} bytes HTML ({size / 1024:.1f} KiB)")
    assert size < GMAIL_CLIP_BYTES
    assert kickers(mine.html) == ["Top-Themen", "Politik", "KI", "Robotik", "Weitere Meldungen"]
    assert mine.html.count("Auch berichtet von:") == 30
    assert mine.html.count("<img ") == 30
