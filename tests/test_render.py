"""The render stage: one edition rendered once, then personalized per subscriber."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from digest.config import Settings, load_settings
from digest.errors import RenderError
from digest.render import (
    PLACEHOLDERS,
    DigestItem,
    Personalization,
    RenderedEdition,
    Renderer,
    personalize,
)
from digest.render.renderer import shorten, wrap

DATA = Path(__file__).parent / "data"
DAY = date(2026, 11, 25)
GMAIL_CLIP_BYTES = 102 * 1024
WHO = Personalization(
    email="anna+news@example.com",
    name="Anna",
    unsubscribe_url="https://news.example.com/unsubscribe?token=abc&list=ki",
    preferences_url="https://news.example.com/preferences?token=abc&tab=topics",
)


def sample_items() -> list[DigestItem]:
    data = json.loads((DATA / "render" / "items.json").read_text(encoding="utf-8"))
    return [DigestItem.from_snapshot(entry) for entry in data]


def settings_for(tmp_path: Path, **env: str) -> Settings:
    environ = {"DIGEST_SECRET_KEY": "test-secret"}
    environ.update({f"DIGEST__{key.upper()}": value for key, value in env.items()})
    return load_settings(None, environ=environ, cwd=tmp_path)


def realistic_items(count: int) -> list[DigestItem]:
    """Worst-case-ish content: long teasers, an image each, long tracking URLs."""
    teaser = (
        "Die Bundesregierung hat sich nach wochenlangen Verhandlungen auf einen Kompromiss "
        "geeinigt, der Entlastungen für Familien und Investitionen in die Infrastruktur "
        "vorsieht. Kritiker bemängeln, dass die Finanzierung ab 2028 ungeklärt ist & die "
        "Länder deutlich mehr Geld verlangen."
    )
    assert 270 <= len(teaser) <= 290
    base = "https://www.example-zeitung.de/politik/deutschland/2026-11-25"
    return [
        DigestItem(
            title=f"Koalition einigt sich auf Entlastungspaket für Familien und Pendler ({n})",
            url=(
                f"{base}/koalition-einigt-sich-auf-entlastungspaket-{n}?utm_source=newsletter"
                f"&utm_medium=email&utm_campaign=morgenpost-2026-11-25&utm_content=item-{n}"
            ),
            teaser=teaser,
            source="Politik-Redaktion",
            author="Maximilian Mustermann",
            published_at=datetime(2026, 11, 25, 5, tzinfo=UTC) - timedelta(minutes=37 * n),
            image_url=f"https://images.example-zeitung.de/2026/11/25/entlastung-{n}.jpg?w=1104&q=80",
            image_alt="Die Koalitionsspitzen bei einer Pressekonferenz im Kanzleramt",
        )
        for n in range(count)
    ]


@pytest.fixture
def items() -> list[DigestItem]:
    return sample_items()


@pytest.fixture
def de_edition(sqlite_settings: Settings, items: list[DigestItem]) -> RenderedEdition:
    return Renderer(sqlite_settings).render(DAY, items)


@pytest.fixture
def en_edition(tmp_path: Path, items: list[DigestItem]) -> RenderedEdition:
    return Renderer(settings_for(tmp_path, newsletter__language="en")).render(DAY, items)


# --- content -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("edition_fixture", "date_label", "top_label"),
    [
        ("de_edition", "Mittwoch, 25. November 2026", "Top-Thema"),
        ("en_edition", "Wednesday, November 25, 2026", "Top story"),
    ],
)
def test_edition_shows_every_item(
    request: pytest.FixtureRequest,
    items: list[DigestItem],
    edition_fixture: str,
    date_label: str,
    top_label: str,
) -> None:
    edition: RenderedEdition = request.getfixturevalue(edition_fixture)
    assert edition.subject.startswith("KI-Morgenpost: Bundestag beschließt Haushalt")
    assert "Wintereinbruch: Bahn warnt" in edition.preheader
    assert date_label in edition.html and date_label in edition.text
    assert top_label in edition.html
    for item in items:
        html_title = item.title.replace("&", "&amp;")
        assert html_title in edition.html
        assert item.title in edition.text
        assert item.teaser in edition.html
        assert item.url.replace("&", "&amp;") in edition.html
        assert item.url in edition.text.splitlines()  # alone on its line
        assert f'alt="{item.image_alt or html_title}"' in edition.html or not item.image_url
        assert item.source is not None
        assert item.source in edition.html and item.source in edition.text
        if item.author:
            assert item.author in edition.html and item.author in edition.text
    assert '<html lang="' + ("de" if top_label == "Top-Thema" else "en") in edition.html


def test_item_times_are_local_and_dated_when_not_today(de_edition: RenderedEdition) -> None:
    # 05:40 UTC is 06:40 in Berlin; 17:40 UTC the day before carries its date.
    assert "Hauptstadtbüro · Miriam Keller · 06:40" in de_edition.text
    assert "Wirtschaftsredaktion · Jonas Weber · 24.11., 18:40" in de_edition.text


def test_images_are_fluid_and_width_limited(de_edition: RenderedEdition) -> None:
    images = re.findall(r"<img [^>]*>", de_edition.html)
    assert len(images) == 4
    for tag in images:
        assert 'width="552"' in tag and "width:100%" in tag


def test_html_escapes_content(sqlite_settings: Settings, items: list[DigestItem]) -> None:
    nasty = replace(items[0], title="<script>alert(1)</script> Müller & Söhne", teaser="a < b & c")
    quoted = replace(items[1], title='Er sagte "Nein" </mj-text>', image_alt=None)
    edition = Renderer(sqlite_settings).render(DAY, [nasty, quoted, *items[2:]])
    assert 'alt="Er sagte &#34;Nein&#34; &lt;/mj-text&gt;"' in edition.html
    assert "<script>alert" not in edition.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Müller &amp; Söhne" in edition.html
    assert "a &lt; b &amp; c" in edition.html
    # Text, subject and preheader are not HTML: no entities there.
    assert "<script>alert(1)</script> Müller & Söhne" in edition.text
    assert edition.subject == "KI-Morgenpost: <script>alert(1)</script> Müller & Söhne"


def test_subject_is_cut_at_a_word(sqlite_settings: Settings, items: list[DigestItem]) -> None:
    long_title = "Sehr lange Überschrift " * 8
    edition = Renderer(sqlite_settings).render(DAY, [replace(items[0], title=long_title)])
    assert len(edition.subject) <= 78
    full = f"KI-Morgenpost: {long_title.strip()}"
    kept = edition.subject.removesuffix("…")
    assert edition.subject.endswith("…") and full.startswith(kept) and full[len(kept)] == " "
    assert "\n" not in edition.subject and "\n" not in edition.preheader
    assert len(edition.preheader) <= 100


@pytest.mark.parametrize(
    ("text", "width", "expected"),
    [
        ("kurz", 10, "kurz"),
        ("EZB lässt Leitzins unverändert – Inflation sinkt", 33, "EZB lässt Leitzins unverändert…"),
        ("Donaudampfschifffahrtsgesellschaft", 10, "Donaudamp…"),
        ("zwei  Wörter\n", 20, "zwei Wörter"),
    ],
)
def test_shorten(text: str, width: int, expected: str) -> None:
    assert shorten(text, width) == expected
    assert len(shorten(text, width)) <= width


def test_wrap_never_splits_urls() -> None:
    url = "https://news.example.com/" + "a" * 90
    assert wrap(f"Lesen Sie {url} heute", 20).splitlines() == ["Lesen Sie", url, "heute"]


def test_preheader_without_more_items_uses_the_teaser(
    sqlite_settings: Settings, items: list[DigestItem]
) -> None:
    edition = Renderer(sqlite_settings).render(DAY, items[:1])
    assert edition.preheader.startswith("Nach mehr als zwölf Stunden Debatte")
    assert "Hier ist die Meldung, die Sie heute kennen sollten." in edition.html


def test_empty_edition_still_renders(sqlite_settings: Settings) -> None:
    edition = Renderer(sqlite_settings).render(DAY, [])
    assert edition.subject == "KI-Morgenpost: Mittwoch, 25. November 2026"
    assert "Heute gibt es keine neuen Meldungen." in edition.text
    assert PLACEHOLDERS["unsubscribe_url"] in edition.html


def test_greeting_follows_the_configured_send_time(tmp_path: Path, items: list[DigestItem]) -> None:
    evening = Renderer(settings_for(tmp_path, schedule__send_time="18:00")).render(DAY, items)
    assert "Guten Abend" in evening.text
    assert "Guten Morgen" not in evening.text


# --- placeholders and personalize ----------------------------------------------


def test_placeholders_survive_escaping_and_mjml(de_edition: RenderedEdition) -> None:
    html = de_edition.html
    assert f'href="{PLACEHOLDERS["unsubscribe_url"]}"' in html
    assert f'href="{PLACEHOLDERS["preferences_url"]}"' in html
    for token in PLACEHOLDERS.values():
        assert token in html, token
        assert token in de_edition.text, token


def test_personalize_escapes_per_part(de_edition: RenderedEdition) -> None:
    mine = personalize(de_edition, WHO)
    assert 'href="https://news.example.com/unsubscribe?token=abc&amp;list=ki"' in mine.html
    assert 'href="https://news.example.com/preferences?token=abc&amp;tab=topics"' in mine.html
    assert "https://news.example.com/unsubscribe?token=abc&list=ki" in mine.text.splitlines()
    assert "https://news.example.com/preferences?token=abc&tab=topics" in mine.text.splitlines()
    assert "Guten Morgen, Anna!" in mine.html and "Guten Morgen, Anna!" in mine.text
    assert "anna+news@example.com" in mine.html and "anna+news@example.com" in mine.text
    for part in (mine.subject, mine.preheader, mine.html, mine.text):
        assert "%%DIGEST_" not in part
    assert mine.subject == de_edition.subject


def test_personalize_without_a_name(de_edition: RenderedEdition) -> None:
    anonymous = personalize(de_edition, replace(WHO, name=None))
    assert "Guten Morgen!" in anonymous.html and "Guten Morgen!" in anonymous.text
    blank = personalize(de_edition, replace(WHO, name="  "))
    assert "Guten Morgen!" in blank.text


def test_personalize_escapes_html_in_values(de_edition: RenderedEdition) -> None:
    mine = personalize(de_edition, replace(WHO, name='<b>"Anna"</b>'))
    assert "Guten Morgen, &lt;b&gt;&quot;Anna&quot;&lt;/b&gt;!" in mine.html
    assert 'Guten Morgen, <b>"Anna"</b>!' in mine.text


def test_content_cannot_smuggle_placeholders(
    sqlite_settings: Settings, items: list[DigestItem]
) -> None:
    sneaky = replace(items[1], teaser=f"Click {PLACEHOLDERS['unsubscribe_url']} now")
    edition = Renderer(sqlite_settings).render(DAY, [items[0], sneaky])
    mine = personalize(edition, WHO)
    body, _footer = mine.text.split("-" * 72)
    assert "unsubscribe?token=abc" not in body
    assert "Click %\u200b%DIGEST_UNSUBSCRIBE_URL%% now" in body


# --- footer and text part ------------------------------------------------------


@pytest.mark.parametrize(
    ("edition_fixture", "unsubscribe", "preferences", "reason"),
    [
        (
            "de_edition",
            "Abmelden",
            "Einstellungen verwalten",
            "Sie erhalten diese E-Mail, weil Sie KI-Morgenpost mit der Adresse "
            "anna+news@example.com abonniert haben.",
        ),
        (
            "en_edition",
            "Unsubscribe",
            "Manage preferences",
            "You receive this email because anna+news@example.com subscribed to KI-Morgenpost.",
        ),
    ],
)
def test_footer_in_both_parts(
    request: pytest.FixtureRequest,
    edition_fixture: str,
    unsubscribe: str,
    preferences: str,
    reason: str,
) -> None:
    mine = personalize(request.getfixturevalue(edition_fixture), WHO)
    address = "Beispiel Medien GmbH, Musterstraße 1, 10115 Berlin, Deutschland"
    assert re.search(
        r'<a href="https://news\.example\.com/unsubscribe\?[^"]*"[^>]*>' + unsubscribe + "</a>",
        mine.html,
    )
    assert re.search(
        r'<a href="https://news\.example\.com/preferences\?[^"]*"[^>]*>' + preferences + "</a>",
        mine.html,
    )
    assert reason in mine.html
    assert address in mine.html
    text = " ".join(mine.text.split())  # the reason is wrapped over lines
    assert f"{unsubscribe}: https://news.example.com/unsubscribe?token=abc&list=ki" in text
    assert f"{preferences}: https://news.example.com/preferences?token=abc&tab=topics" in text
    assert reason in text
    assert address in text


def test_text_part_is_plain_and_wrapped(de_edition: RenderedEdition) -> None:
    text = personalize(de_edition, WHO).text
    assert not re.search(r"</?[a-zA-Z][^>]*>", text), "HTML tag in the text part"
    assert not re.search(r"&(#\d+|#x[0-9a-f]+|[a-z]+);", text), "HTML entity in the text part"
    titles = {item.title for item in sample_items()}
    for line in text.splitlines():
        if line in titles:  # headlines stay whole up to 100 characters
            assert len(line) <= 100, line
        elif " " in line:  # a line without spaces (a URL) may be longer
            assert len(line) <= 72, line
    assert text.endswith("\n") and "\n\n\n" not in text


def test_text_part_keeps_headlines_whole(
    sqlite_settings: Settings, items: list[DigestItem]
) -> None:
    headline = "EU-Parlament: Ausschüsse stimmen für Kennzeichnungspflicht bei KI-Wahlwerbung"
    assert 72 < len(headline) <= 100
    edition = Renderer(sqlite_settings).render(DAY, [items[0], replace(items[1], title=headline)])
    assert headline in edition.text.splitlines()


# --- determinism and size ------------------------------------------------------


def test_rendering_is_deterministic(sqlite_settings: Settings, items: list[DigestItem]) -> None:
    first = Renderer(sqlite_settings).render(DAY, items)
    again = Renderer(sqlite_settings).render(DAY, items)
    assert first == again
    assert Renderer(sqlite_settings).render(DAY, sample_items()) == first


def test_thirty_items_stay_under_gmail_clipping(sqlite_settings: Settings) -> None:
    edition = Renderer(sqlite_settings).render(DAY, realistic_items(30))
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
    text_size = len(mine.text.encode())
    print(f"30-item digest: {size} bytes HTML ({size / 1024:.1f} KiB), {text_size} bytes text")
    assert size < GMAIL_CLIP_BYTES
    assert mine.html.count("<img ") == 30


# --- snapshots -----------------------------------------------------------------


def test_snapshot_round_trip(items: list[DigestItem]) -> None:
    for item in items:
        snapshot = item.to_snapshot()
        assert json.loads(json.dumps(snapshot)) == snapshot
        assert DigestItem.from_snapshot(snapshot) == item
    assert items[0].to_snapshot()["published_at"] == "2026-11-25T05:40:00+00:00"


def test_snapshot_ignores_unknown_keys_and_rejects_missing_ones(items: list[DigestItem]) -> None:
    snapshot = {**items[0].to_snapshot(), "score": 3.5}
    assert DigestItem.from_snapshot(snapshot) == items[0]
    del snapshot["url"]
    with pytest.raises(RenderError, match="url"):
        DigestItem.from_snapshot(snapshot)


@pytest.mark.parametrize("field", ["url", "image_url"])
def test_only_web_urls_are_accepted(items: list[DigestItem], field: str) -> None:
    with pytest.raises(RenderError, match=f"{field} of .* is not an http"):
        replace(items[0], **{field: "javascript:alert(1)"})


def test_naive_publication_time_is_refused() -> None:
    with pytest.raises(RenderError, match="time zone"):
        DigestItem(
            title="T", url="https://x", teaser="", source=None, published_at=datetime(2026, 11, 25)
        )


# --- templates -----------------------------------------------------------------


def write_templates(folder: Path, **files: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, body in files.items():
        (folder / name.replace("__", ".")).write_text(body, encoding="utf-8")
    return folder


def custom_renderer(tmp_path: Path, **files: str) -> Renderer:
    write_templates(tmp_path / "mytemplates", **files)
    return Renderer(settings_for(tmp_path, render__templates_dir="mytemplates"))


def test_custom_template_overrides_only_what_it_contains(
    tmp_path: Path, items: list[DigestItem]
) -> None:
    renderer = custom_renderer(tmp_path, subject__txt__j2="Heute: {{ top.title }}")
    edition = renderer.render(DAY, items)
    assert edition.subject == "Heute: Bundestag beschließt Haushalt 2027 nach langer Nachtsitzung"
    assert "Weitere Meldungen" in edition.html  # the rest is shipped


def test_syntax_error_names_template_and_line(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match=r"digest\.mjml\.j2 line 3: .*") as caught:
        custom_renderer(tmp_path, digest__mjml__j2="<mjml>\n<mj-body>\n{% if %}\n</mj-body></mjml>")
    assert "mytemplates" in str(caught.value)


def test_undefined_variable_names_template_and_line(
    tmp_path: Path, items: list[DigestItem]
) -> None:
    renderer = custom_renderer(tmp_path, digest__txt__j2="Hallo\n\n{{ no_such_thing }}\n")
    with pytest.raises(
        RenderError, match=r"digest\.txt\.j2 line 3: UndefinedError: 'no_such_thing' is undefined"
    ):
        renderer.render(DAY, items)


def test_invalid_mjml_is_a_render_error(tmp_path: Path, items: list[DigestItem]) -> None:
    renderer = custom_renderer(
        tmp_path,
        digest__mjml__j2="<mjml><mj-body><mj-section><mj-column><mj-text>{{ top.title }}</mjml>",
    )
    with pytest.raises(RenderError, match=r"digest\.mjml\.j2 did not compile to HTML: "):
        renderer.render(DAY, items)


def test_missing_partial_is_a_render_error(tmp_path: Path, items: list[DigestItem]) -> None:
    renderer = custom_renderer(tmp_path, digest__txt__j2='{% include "partials/nope.txt.j2" %}')
    with pytest.raises(RenderError, match=r"partials/nope\.txt\.j2"):
        renderer.render(DAY, items)


def test_missing_templates_dir_is_reported(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match=r"render\.templates_dir"):
        Renderer(settings_for(tmp_path, render__templates_dir="nowhere"))
