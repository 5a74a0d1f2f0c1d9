"""Cleaning: titles, datelines, boilerplate, teasers, sanitizing. Pure functions, no database."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import lxml.html
import pytest
from lxml import etree

from digest.errors import IngestError
from digest.ingest.blocks import Block, html_to_text, sanitize_html, split_blocks
from digest.ingest.boilerplate import classify, remove_boilerplate
from digest.ingest.clean import (
    clean_record,
    clean_title,
    content_hash,
    dateline_length,
    guess_language,
    make_teaser,
    shorten,
    strip_dateline,
)
from digest.ingest.markup import normalize_space
from digest.ingest.records import TOPIC_MAX_LEN, ArticleRecord, validate_record

DATA = Path(__file__).parent / "data" / "ingest"
BERLIN = ZoneInfo("Europe/Berlin")


def boilerplate_phrases() -> list[str]:
    lines = (DATA / "boilerplate-phrases.txt").read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


def assert_no_boilerplate(*texts: str) -> None:
    for text in texts:
        found = [phrase for phrase in boilerplate_phrases() if phrase.lower() in text.lower()]
        assert not found, f"boilerplate reached the article: {found}"


def fixture_record(name: str) -> ArticleRecord:
    document = json.loads((DATA / name).read_text(encoding="utf-8"))
    items = document["articles"] if isinstance(document, dict) else document
    return validate_record(items[0], default_tz=BERLIN)


def record(**fields: object) -> ArticleRecord:
    data: dict[str, object] = {
        "url": "https://news.example/a",
        "title": "Ein Titel für die Tests",
        "published_at": "2026-11-24T08:00:00+01:00",
        "body": "Ein Absatz mit genug Inhalt, damit etwas übrig bleibt, auch nach der Reinigung.",
    }
    data.update(fields)
    return validate_record(data, default_tz=BERLIN)


# ----------------------------------------------------------------------------- titles


@pytest.mark.parametrize(
    ("raw", "source", "expected"),
    [
        (
            "NATO-Minister beraten über Ausgaben (original) (raw)",
            None,
            "NATO-Minister beraten über Ausgaben",
        ),
        ("Neue Smartwatch vorgestellt (Sponsored)", None, "Sponsored: Neue Smartwatch vorgestellt"),
        ("Server-Ausfall bei Cloud-Anbieter [Update]", None, "Server-Ausfall bei Cloud-Anbieter"),
        ("Outage at cloud provider [Update 2: 14:30]", None, "Outage at cloud provider"),
        (
            "[Anzeige] Die besten Laptops für Studierende",
            None,
            "Anzeige: Die besten Laptops für Studierende",
        ),
        (
            "Roboterhand lernt Eier sortieren | Kurzschluss Magazin",
            None,
            "Roboterhand lernt Eier sortieren",
        ),
        (
            "Roboterhand lernt Eier sortieren | Kurzschluss Magazin",
            "Kurzschluss Magazin",
            "Roboterhand lernt Eier sortieren",
        ),
        ("Chip plant for Dresden - The Ledger", "The Ledger", "Chip plant for Dresden"),
        ("Chip plant for Dresden – The Ledger", "the ledger", "Chip plant for Dresden"),
        ("Chip plant for Dresden — THE LEDGER", "The Ledger", "Chip plant for Dresden"),
        ("Chip plant for Dresden - theledger.example", "The Ledger", "Chip plant for Dresden"),
        ("Tesla kündigt neues Modell an - Video", None, "Tesla kündigt neues Modell an"),
        ("Tesla kündigt neues Modell an – Liveblog", None, "Tesla kündigt neues Modell an"),
        ("Warum Banken KI fürchten +", None, "Plus: Warum Banken KI fürchten"),
        ("Warum Banken KI fürchten (+)", None, "Plus: Warum Banken KI fürchten"),
        ("[PREMIUM] Warum Banken KI fürchten", None, "Plus: Warum Banken KI fürchten"),
        ("Anzeige: Laptops im Test (Anzeige)", None, "Anzeige: Laptops im Test"),
        ("C++ im Test", None, "C++ im Test"),
        ("Apple – ein Rückblick", "Kurzschluss Magazin", "Apple – ein Rückblick"),
        ("Apple – ein Rückblick", None, "Apple – ein Rückblick"),
        ("Neues Sprachmodell – KI", "KI-Magazin", "Neues Sprachmodell – KI"),
        (
            "Apple – ein Rückblick – Kurzschluss Magazin",
            "Kurzschluss Magazin",
            "Apple – ein Rückblick",
        ),
        (
            "Apple | Ein Rückblick auf vierzig Jahre Firmengeschichte",
            None,
            "Apple | Ein Rückblick auf vierzig Jahre Firmengeschichte",
        ),
        ("Tom &amp; Jerry&#8217;s   neue\u00a0Folge", None, "Tom & Jerry’s neue Folge"),
        ("Der <em>beste</em> Titel", None, "Der beste Titel"),
        ("  Mehrfach   Leerzeichen\n im Titel ", None, "Mehrfach Leerzeichen im Titel"),
        ("Ein Titel (original) (raw) | IT-Kurier", "IT-Kurier", "Ein Titel"),
        ("Ein Titel – IT-Kurier (Sponsored)", "IT-Kurier – Magazin für KI", "Sponsored: Ein Titel"),
        (
            "Bitcoin steigt über 100.000 Dollar: Was Anleger wissen müssen",
            None,
            "Bitcoin steigt über 100.000 Dollar: Was Anleger wissen müssen",
        ),
        ("Die Zahl der Woche: 3", None, "Die Zahl der Woche: 3"),
        ("Wi-Fi 7 im Test", None, "Wi-Fi 7 im Test"),
    ],
)
def test_clean_title(raw: str, source: str | None, expected: str) -> None:
    assert clean_title(raw, source=source) == expected


def test_title_that_is_only_junk_is_taken_from_the_text() -> None:
    data = clean_record(record(title="(Sponsored)"))
    assert (
        data.title
        == "Ein Absatz mit genug Inhalt, damit etwas übrig bleibt, auch nach der Reinigung"
    )


# -------------------------------------------------------------------------- datelines


@pytest.mark.parametrize(
    ("lead", "rest"),
    [
        ("BERLIN (Kurzschluss) – Die Bundesregierung will", "Die Bundesregierung will"),
        ("BRÜSSEL / MÜNCHEN (TECHFUNK) – Die Verteidigungsminister", "Die Verteidigungsminister"),
        ("LONDON (Reuters) - Britain's economy grew", "Britain's economy grew"),
        ("LONDON, March 3 (Reuters) - Britain's economy grew", "Britain's economy grew"),
        ("San Francisco, 3. März (dpa) – Der Konzern hat am Montag", "Der Konzern hat am Montag"),
        ("Frankfurt/Main (dpa-AFX) – Die Aktie legte deutlich zu", "Die Aktie legte deutlich zu"),
        ("WASHINGTON (AP) — The Senate voted on Tuesday", "The Senate voted on Tuesday"),
        (
            "(dpa) - Der Verband kritisierte die Pläne scharf",
            "Der Verband kritisierte die Pläne scharf",
        ),
        (
            "HAMBURG – Der Hafen testet neue Kräne im Terminal",
            "Der Hafen testet neue Kräne im Terminal",
        ),
        (
            "NEW YORK — Stocks rose sharply on Wall Street today",
            "Stocks rose sharply on Wall Street today",
        ),
    ],
)
def test_strip_dateline(lead: str, rest: str) -> None:
    assert strip_dateline(lead) == rest


@pytest.mark.parametrize(
    "lead",
    [
        "Die Bundesregierung will das Gesetz noch in diesem Jahr verabschieden.",
        "NATO – das Bündnis steht vor seiner größten Herausforderung seit Jahren.",
        "Apple – ein Rückblick auf vierzig Jahre Firmengeschichte",
        "KI-Modelle (wie GPT) werden immer größer, sagen Forschende.",
        "Berlin ist die größte Stadt Deutschlands (Stand 2026) und wächst weiter.",
        "BERLIN (dpa) –",
    ],
)
def test_no_dateline(lead: str) -> None:
    assert dateline_length(lead) == 0


def test_dateline_removed_through_inline_markup() -> None:
    data = clean_record(
        record(
            body="<p><strong>KIEL (Kurzschluss)</strong> – "
            "Ein Start-up aus Kiel hat etwas gebaut.</p>"
        )
    )
    assert data.body_html == "<p>Ein Start-up aus Kiel hat etwas gebaut.</p>"
    assert data.teaser == "Ein Start-up aus Kiel hat etwas gebaut."
    nested = clean_record(
        record(
            body="<p><b>BERLIN <em>(dpa)</em></b> – Die <em>Regierung</em> plant "
            "ein <a href='https://x.example/g'>Gesetz</a>.</p>"
        )
    )
    assert nested.body_html == (
        'Die <em>Regierung</em> plant ein <a href="https://x.example/g" rel="noopener">Gesetz</a>.'
    ).join(("<p>", "</p>"))


@pytest.mark.parametrize(
    ("lead", "rest"),
    [
        # Glued to the lead, as a <cite> before the first sentence gives it.
        (
            "Singapore (Harbour Ledger)Stock markets in Asia opened lower",
            "Stock markets in Asia opened lower",
        ),
        ("Hong Kong (CNN Business)Shares of the carrier jumped", "Shares of the carrier jumped"),
        ("Kiel (Kurzschluss)Ein Start-up aus Kiel hat etwas gebaut", "Ein Start-up aus Kiel hat"),
        # Spaced, naming a news agency.
        ("BERLIN (dpa) Die Bundesregierung will das Gesetz ändern", "Die Bundesregierung will"),
        ("Hamburg (dpa/lno) Die Polizei sucht nach einem Zeugen", "Die Polizei sucht nach"),
        ("Washington (CNN) President Harlow signed the bill", "President Harlow signed the bill"),
        ("LONDON, March 3 (Reuters) Britain's economy grew", "Britain's economy grew"),
        ("(AFP) Die Regierung in Paris kündigte Reformen an", "Die Regierung in Paris"),
        ("ST. JOSEPH, Mich. (AP) A federal judge ruled on Monday", "A federal judge ruled"),
    ],
)
def test_dateline_without_dash_is_recognised(lead: str, rest: str) -> None:
    assert strip_dateline(lead).startswith(rest)


def test_dateline_naming_the_source_itself_is_recognised() -> None:
    lead = "Singapore (Harbour Ledger) Stock markets in Asia opened lower on Tuesday."
    assert strip_dateline(lead) == lead  # an unknown name in parentheses: running text
    assert strip_dateline(lead, source="Harbour Ledger").startswith("Stock markets")


@pytest.mark.parametrize(
    "lead",
    [
        # A place name with a parenthesis in running text.
        "Halle (Saale) hat im vergangenen Jahr mehr Gäste gezählt als je zuvor.",
        "Halle (Saale) Die Stadtwerke erhöhen die Preise zum Januar deutlich.",
        "Frankfurt (Oder) und Słubice wollen ihre Straßenbahn verbinden.",
        "Paris (AFP) ist die älteste Nachrichtenagentur der Welt, sagte der Chef.",
        "Apple (AAPL) Chief Executive Mara Quinn said sales would rise.",
        "Tesla (TSLA) shares fell 4% in early trading on Monday.",
        "Die Europäische Zentralbank (EZB) Präsidentin sprach von einer Wende.",
        "The Hague (Netherlands) Police said two men were arrested.",
        "Kiel (Kurzschluss) hat sein Büro in den Hafen verlegt, teilte die Firma mit.",
        "(Aktualisiert) Die Bahn hat den Streik beendet, teilte die Gewerkschaft mit.",
        "Berlin (dpa)",
    ],
)
def test_no_dateline_without_dash_in_running_text(lead: str) -> None:
    assert dateline_length(lead) == 0
    assert dateline_length(lead, source="Kurzschluss Blog") == 0


def test_glued_dateline_is_cut_from_body_and_given_teaser() -> None:
    body = (
        "<p><cite>Singapore (Harbour Ledger)</cite>Stock markets in Asia opened lower "
        "on Tuesday as tariff talks stalled again.</p><p>Tokyo's main index slipped.</p>"
    )
    data = clean_record(record(body=body, teaser=None, source="Harbour Ledger"))
    assert data.body_html.startswith("<p>Stock markets in Asia opened lower")
    assert data.teaser.startswith("Stock markets in Asia opened lower")
    # A feed's teaser with the same dateline, spaced: the source names the agency.
    teaser = "Singapore (Harbour Ledger) Stock markets in Asia opened lower on Tuesday."
    given = clean_record(record(body=body, teaser=teaser, source="Harbour Ledger"))
    assert given.teaser == "Stock markets in Asia opened lower on Tuesday."


# ------------------------------------------------------------------------ boilerplate

JUNK = [
    # German
    "Zu den Top-Stories!",
    "Zu den Top-Meldungen!",
    "Amazon-Trendangebote der letzten 24 Stunden mit bis zu 60 % Rabatt (Sponsored)",
    "Kopfhörer-Deals des Tages bei einem großen Versandhändler",
    "Bezahlte Produktplatzierung",
    "Anzeige",
    "– Werbung –",
    "Diese Seite enthält Affiliate-Links. Beim Kauf erhalten wir eine kleine Provision.",
    "Unser Morgen-Newsletter mit den wichtigsten Meldungen, gratis per E-Mail: "
    "Hier kostenlos eintragen!",
    "Aktuelle News zum Thema «Robotik» automatisch per E-Mail erhalten",
    "Jetzt kostenlos anmelden!",
    "Folgen Sie uns auf Twitter, Telegram, Facebook oder LinkedIn!",
    "Folgen Sie aktuellen Beiträgen über Robotik auf Mastodon und Bluesky!",
    "Teilen: Facebook | LinkedIn | WhatsApp | E-Mail",
    "Artikel teilen",
    "Hinweis: Teile dieses Artikels wurden mithilfe künstlicher Intelligenz erstellt. "
    "Die Informationen stellen keine Finanzberatung dar.",
    "Die auf dieser Website bereitgestellten Informationen stellen keine Anlageberatung dar.",
    "Haftungsausschluss: Keine Anlageberatung. Für Verluste übernehmen wir keine Haftung.",
    "Ergänzungen und Hinweise bitte per E-Mail an die Redaktion unter "
    "redaktion[at]beispiel.example.",
    "Lesen Sie auch: Warum Rechenzentren so viel Wasser brauchen",
    "Das könnte Sie auch interessieren",
    "Mehr zum Thema",
    "Nächster Artikel",
    "Vorheriger Artikel",
    "Du hast einen wertvollen Beitrag oder Kommentar zum Artikel für unsere Leser?",
    "Was halten Sie davon? Diskutieren Sie mit!",
    "Kommentare (12)",
    "Wir verwenden Cookies, um unsere Website zu verbessern. "
    "Mit einem Klick auf „Alle akzeptieren“ stimmen Sie zu.",
    "Cookie-Einstellungen",
    "Foto: dpa / Max Mustermann",
    "Eine Roboterhand beim Sortieren (Bild: Beispiel GmbH)",
    "Symbolbild: KI-generiert",
    "© 2026 Beispiel Medien GmbH",
    "Von Lena Brandt · 24. November 2026 · 4 Min. Lesezeit",
    "Von Lena Brandt",
    "4 Min. Lesezeit",
    "Schlagwörter: KI, Robotik, Logistik",
    "Dieser Artikel ist nur für Abonnenten verfügbar. Jetzt weiterlesen mit Plus!",
    "Der Beitrag Ein Titel erschien zuerst auf Datenwerk.",
    "Weiterlesen »",
    "Über die Autorin",
    # English
    "Advertisement",
    "Sponsored content",
    "We may earn a commission when you buy through links on our site.",
    "Deal of the day: noise-cancelling headphones, 40% off",
    "Get our free morning newsletter delivered straight to your inbox. Sign up now!",
    "Subscribe to our newsletter",
    "Follow us on X, Facebook and LinkedIn",
    "Follow The Ledger on Mastodon for more stories.",
    "Share this article",
    "Share on Facebook · Share on LinkedIn · Share via WhatsApp",
    "Disclaimer: This article was partly generated with AI and is not financial advice.",
    "This article may have been written with the help of artificial intelligence.",
    "This article was generated by AI and reviewed by an editor.",
    "The information on this site does not constitute investment advice.",
    "Got a tip? Email the newsroom at tips@example.com.",
    "Spotted an error? Send us your corrections.",
    "Read more: Why data centres need so much water",
    "Related articles",
    "You might also like",
    "More from Technology",
    "Next article: Battery start-up raises $40m",
    "Previous post",
    "Leave a comment",
    "Join the discussion",
    "We use cookies to improve your experience. Accept all | Manage preferences",
    "Photo: Jane Roe/Getty Images",
    "The plant near Dresden (Image: Example Corp)",
    "By Tom Ashby | November 24, 2026",
    "5 min read",
    "Subscribe to continue reading. Already a subscriber? Log in.",
    "The post A title appeared first on Signal & Noise.",
    "© 2026 Example Media Ltd. All rights reserved.",
    "About the author",
]


@pytest.mark.parametrize("text", JUNK)
def test_boilerplate_is_recognised(text: str) -> None:
    assert classify(text) is not None, text


KEEP = [
    # Mentions of trigger words in real reporting must survive.
    "Der Verlag will seinen Newsletter künftig kostenlos anbieten, sagte die Geschäftsführerin.",
    "Die Kunden sollen ihre Rechnung künftig per E-Mail erhalten.",
    "Der Sprecher wollte den Bericht auf Nachfrage nicht kommentieren.",
    "Amazon steigerte den Umsatz im dritten Quartal um 12 Prozent.",
    "Amazon will Händlern höhere Rabatte abverlangen, berichten mehrere Verkäufer.",
    "Meta teilte auf Facebook mit, dass die Funktion in Europa später startet.",
    "Nutzer können die neue Funktion ab sofort testen.",
    "Die Nutzer müssen die neuen Bedingungen bis Ende des Monats akzeptieren.",
    "„Wir setzen keine Tracking-Cookies ein“, sagte ein Sprecher des Ministeriums.",
    "Von Berlin aus fliegt die Maschine um 14:30 Uhr weiter nach Rom.",
    "Von dort ging es weiter nach Hamburg.",
    "By then the company had already lost half of its customers.",
    "Die Studie wertete 3000 Kommentare aus sozialen Netzwerken aus.",
    "The minister said at a press briefing that the plan would be signed next week.",
    "Die Redaktion des Magazins hat den Bericht nach eigenen Angaben zweimal geprüft.",
    "Das ist keine Anlageberatung, sagte der Analyst mit einem Lächeln.",
    "Note: The AI company did not respond to requests for comment.",
    "Die Bundesnetzagentur (BNetzA) prüft die Pläne noch.",
    "Apple – ein Rückblick auf vierzig Jahre Firmengeschichte",
    "Meta owns Facebook, Instagram and WhatsApp.",
    "Users can now share posts from Threads directly to other apps, the company said.",
    "The article was written by AI researchers at Stanford and published in Nature.",
    "Von Siemens, Bosch und SAP kamen Zusagen.",
    "Kunden sollen Updates künftig per E-Mail erhalten.",
    "Shares closed 5% off their high of the day.",
    "Buy now, pay later services are booming in Germany.",
    "Analysten raten, jetzt zu kaufen, solange die Preise niedrig sind.",
    "Regulators in Brussels said in their weekly newsletter that cookies and consent banners "
    "would be reviewed under the new rules, a process that usually takes several months, "
    "involves public consultations with publishers and advertisers, and can end with "
    "conditions attached that change how every site asks readers to accept tracking.",
    "Die Gewerkschaft hatte ihre Mitglieder im Frühjahr in einem Newsletter informiert. "
    "Wer sich anmelden will, muss Mitglied sein, und die Cookies-Debatte spielte dabei keine "
    "Rolle, weil die Plattform ohne Tracking auskommt und alle Daten auf Servern in "
    "Deutschland liegen, wie der Vorstand betonte. Eine Entscheidung soll im Herbst fallen.",
]


@pytest.mark.parametrize("text", KEEP)
def test_real_content_is_kept(text: str) -> None:
    rule = classify(text)
    assert rule is None, f"{rule.kind if rule else ''}: {text}"


def _p(text: str) -> Block:
    return Block("p", text, text)


LONG = (
    "Dies ist ein langer Absatz mit echtem Inhalt, der deutlich mehr als zweihundert Zeichen "
    "umfasst, damit er als Fließtext zählt. Er beschreibt, was passiert ist, wer beteiligt war "
    "und warum es für die Leserinnen und Leser wichtig ist."
)


def test_tail_is_cut_after_an_end_marker() -> None:
    blocks = [
        _p(LONG),
        _p("Zu den Top-Stories!"),
        _p("Ein Fachbuch über neuronale Netze für Entscheider. (Fachverlag)"),
        _p("Künstliche Intelligenz im Alltag: Ein Ratgeber"),
    ]
    assert remove_boilerplate(blocks) == [blocks[0]]


def test_mid_article_plug_does_not_cut_the_rest() -> None:
    blocks = [
        _p(LONG),
        _p("Get our free morning newsletter delivered straight to your inbox. Sign up now!"),
        _p(LONG + " Zwei."),
        _p(LONG + " Drei."),
        _p(LONG + " Vier."),
        _p("Share this article"),
        _p("An advert for a book nobody recognises as an advert."),
    ]
    assert remove_boilerplate(blocks) == [blocks[0], blocks[2], blocks[3], blocks[4]]


def test_marker_before_content_only_drops_itself() -> None:
    blocks = [_p("Artikel teilen"), _p(LONG), _p("Zweiter Absatz ohne Werbung.")]
    assert remove_boilerplate(blocks) == blocks[1:]


def test_block_repeating_the_title_is_dropped() -> None:
    title = "Roboterhand lernt Eier sortieren"
    blocks = [
        _p(LONG),
        _p(title),
        _p(f"{title} (Foto: Kurzschluss Magazin)"),
        _p(f"{title}: Wie das Start-up aus Kiel arbeitet und was als Nächstes kommt"),
    ]
    assert remove_boilerplate(blocks, titles=(title,)) == [blocks[0], blocks[3]]


def test_heading_left_without_section_is_dropped() -> None:
    blocks = [_p(LONG), Block("h3", "Mehr", "Mehr"), _p("Advertisement")]
    assert remove_boilerplate(blocks) == [blocks[0]]


def test_heading_over_subsections_is_kept_and_an_emptied_box_title_is_not() -> None:
    def heading(tag: str, text: str) -> Block:
        return Block(tag, text, text)

    section, subsection = heading("h3", "Status quo"), heading("h4", "Analoge Akten")
    box, nxt = heading("h3", "Unser Angebot"), heading("h3", "Wie es weitergeht")
    blocks = [_p(LONG), section, subsection, _p(LONG), box, _p("Anzeige"), nxt, _p(LONG)]
    assert remove_boilerplate(blocks) == [_p(LONG), section, subsection, _p(LONG), nxt, _p(LONG)]
    # A box title over an emptied box before a higher heading goes as well.
    blocks = [_p(LONG), heading("h4", "Mehr"), _p("Anzeige"), heading("h2", "Ausblick"), _p(LONG)]
    assert remove_boilerplate(blocks) == [_p(LONG), blocks[3], _p(LONG)]


# ------------------------------------------------------------------- blocks, sanitize


def test_text_fallback_drops_scripts_and_styles(monkeypatch: pytest.MonkeyPatch) -> None:
    # When lxml refuses a fragment, tags are stripped by regular expressions; a
    # script's code or a style sheet must not become words there either.
    def refuse(*args: object, **kwargs: object) -> None:
        raise etree.ParserError("Document is empty")

    monkeypatch.setattr(lxml.html, "fragment_fromstring", refuse)
    fragment = (
        "<p>Die Fähre <b>fährt</b> &amp; hält.<script type='text/javascript'>track('x');"
        "</script></p><STYLE>p { color: red }</STYLE><!-- Kommentar --><p>Wieder da."
        "<script>unclosed('y')"
    )
    text = normalize_space(html_to_text(fragment))
    assert text == "Die Fähre fährt & hält. Wieder da."
    blocks = split_blocks(fragment)
    assert [block.text for block in blocks] == ["Die Fähre fährt & hält. Wieder da."]
    assert blocks[0].html == "Die Fähre fährt &amp; hält. Wieder da."


def test_a_page_without_body_is_not_a_crash() -> None:
    # lxml fails an assertion on a "full page" with no <body>; the fallback takes it.
    fragment = "<!DOCTYPE html><head><script>track('x')</script><style>p{}</style></head>"
    assert normalize_space(html_to_text(fragment)) == ""
    assert split_blocks(fragment) == []
    assert normalize_space(html_to_text(f"{fragment}<p>Text</p>")) == "Text"
    with pytest.raises(IngestError, match="no text"):
        clean_record(record(title=fragment, body=fragment, teaser=None))


def test_plain_text_is_escaped_and_split_at_blank_lines() -> None:
    blocks = split_blocks("Erster Absatz: a < b & c > d\nmit Umbruch.\n\n\nZweiter Absatz.")
    assert [(b.tag, b.html, b.text) for b in blocks] == [
        (
            "p",
            "Erster Absatz: a &lt; b &amp; c &gt; d mit Umbruch.",
            "Erster Absatz: a < b & c > d mit Umbruch.",
        ),
        ("p", "Zweiter Absatz.", "Zweiter Absatz."),
    ]


def test_html_blocks_keep_structure_and_resolve_links() -> None:
    body = (
        "<div><h1>Titel</h1><p>Text mit <a href='/x?utm_source=a&id=2'>Link</a>.</p>"
        "Loser Text<br><br>Noch ein Absatz"
        "<ul><li>eins</li><li>zwei</li></ul><blockquote><p>Zitat</p></blockquote>"
        "<nav>Menü</nav><figure><img src='a.jpg'><figcaption>Bild</figcaption></figure></div>"
    )
    blocks = split_blocks(body, base_url="https://news.example/a/b")
    assert [(b.tag, b.text) for b in blocks] == [
        ("h2", "Titel"),
        ("p", "Text mit Link."),
        ("p", "Loser Text"),
        ("p", "Noch ein Absatz"),
        ("ul", "- eins\n- zwei"),
        ("blockquote", "Zitat"),
    ]
    assert 'href="https://news.example/x?id=2"' in blocks[1].html


def test_sanitize_strips_scripts_handlers_and_javascript_urls() -> None:
    dirty = (
        '<p onclick="steal()" style="color:red" class="x">Hallo <a href="javascript:alert(1)">'
        'klick</a> <a href="https://ok.example/" target="_blank" onmouseover="x()">ok</a>'
        "<script>alert(1)</script><style>p{}</style><iframe src='https://evil.example'>i</iframe>"
        '<img src="x" onerror="alert(1)"><em>kursiv</em> <span>weg</span></p>'
        "<h2>Zwischen</h2><table><tr><td>t</td></tr></table><h1>groß</h1>"
    )
    clean = sanitize_html(dirty)
    for bad in (
        "script",
        "alert",
        "onclick",
        "onmouseover",
        "onerror",
        "style",
        "iframe",
        "javascript:",
        "target",
        "class",
        "<img",
        "<span",
        "<table",
        "<h1",
    ):
        assert bad not in clean
    assert '<a href="https://ok.example/" rel="noopener">ok</a>' in clean
    assert "<em>kursiv</em>" in clean and "<h2>Zwischen</h2>" in clean


def test_clean_record_body_html_is_sanitized() -> None:
    data = clean_record(
        record(
            body="<p>Erster Absatz mit genug Text für einen Lead.<script>alert(1)</script></p>"
            '<p onclick="x()">Zweiter <a href="javascript:void(0)" onclick="y()">Link</a> '
            '<a href="/intern">intern</a></p>'
        )
    )
    assert data.body_html == (
        "<p>Erster Absatz mit genug Text für einen Lead.</p>\n"
        '<p>Zweiter Link <a href="https://news.example/intern" rel="noopener">intern</a></p>'
    )
    assert data.body_text == "Erster Absatz mit genug Text für einen Lead.\n\nZweiter Link intern"


# ---------------------------------------------------------------------------- teasers


def test_shorten_keeps_whole_sentences_or_cuts_at_a_word() -> None:
    sentence = "Dies ist ein Satz mit ungefähr sechzig Zeichen Länge, recht genau. "
    text = sentence * 8
    short = shorten(text)
    assert len(short) <= 300 and short.endswith("genau.") and "…" not in short
    words = "Wort " * 100
    cut = shorten(words)
    assert len(cut) <= 300 and cut.endswith("Wort…")
    assert shorten("Kurz.") == "Kurz."


def test_given_teaser_is_cleaned() -> None:
    teaser = make_teaser(
        "<p>BERLIN (dpa) – Die <b>Regierung</b> plant ein neues Gesetz. [&#8230;]</p>"
        "<p>Der Beitrag X erschien zuerst auf Y.</p>",
        [],
    )
    assert teaser == "Die Regierung plant ein neues Gesetz."


def test_teaser_falls_back_to_lead_when_given_one_is_junk() -> None:
    data = clean_record(record(teaser="Anzeige", body=LONG))
    assert data.teaser == shorten(LONG)


# -------------------------------------------------------------------- language, hash


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Die Regierung hat am Montag mitgeteilt, dass sie das Gesetz nicht ändern wird.", "de"),
        ("The government said on Monday that it will not change the law for now.", "en"),
        ("KI", None),
        ("Roboterhand", None),
    ],
)
def test_guess_language(text: str, expected: str | None) -> None:
    assert guess_language(text) == expected


def test_record_language_wins_over_guess() -> None:
    assert clean_record(record(language="en-GB")).language == "en"


def test_content_hash_changes_with_content_only() -> None:
    first = clean_record(record())
    again = clean_record(record(url="https://news.example/a?utm_source=x", topics=["KI"]))
    changed = clean_record(record(body="Ein anderer Absatz mit genug Inhalt für den Test hier."))
    assert (
        first.content_hash
        == again.content_hash
        == content_hash(first.title, first.teaser, first.body_text)
    )
    assert changed.content_hash != first.content_hash


def test_published_at_is_aware_utc() -> None:
    data = clean_record(record(published_at="2026-11-24T09:30:00"))
    assert data.published_at == datetime(2026, 11, 24, 8, 30, tzinfo=UTC)
    naive = ArticleRecord.model_validate(
        {
            "url": "https://x.example/a",
            "title": "T",
            "published_at": "2026-07-01T09:30:00",
            "body": LONG,
        }
    )
    assert naive.published_at.tzinfo is None
    assert clean_record(naive, default_tz=BERLIN).published_at == datetime(
        2026, 7, 1, 7, 30, tzinfo=UTC
    )


def test_body_of_only_boilerplate_is_a_problem() -> None:
    with pytest.raises(IngestError, match="body"):
        clean_record(record(body="Anzeige\n\nJetzt kostenlos anmelden!"))


# ------------------------------------------------------------------ fixture articles


def test_raw_german_article() -> None:
    data = clean_record(fixture_record("raw-de.json"))
    assert data.title == "Hamburger Hafen testet autonome Containerbrücken mit KI-Steuerung"
    assert data.teaser == (
        "Der Hamburger Hafen erprobt seit dieser Woche zwei Containerbrücken, die von einer "
        "KI-Software gesteuert werden und Schiffe ohne Kranführer in der Kabine entladen sollen."
    )
    assert data.body_text.startswith(data.teaser)
    assert data.body_text.endswith("statt lernender Software.")
    assert data.body_text.count("\n\n") == 4  # five paragraphs of reporting
    assert "in einem Newsletter über die Pläne informiert" in data.body_text
    assert_no_boilerplate(data.teaser, data.body_text, data.body_html)
    assert (
        data.canonical_url
        == "https://www.techfunk.example/news/hamburger-hafen-autonome-containerbruecken"
    )
    assert data.published_at == datetime(2026, 11, 24, 6, 45, tzinfo=UTC)
    assert (data.author, data.source, data.language) == ("Jana Koch", "TECHFUNK", "de")
    assert data.topics == ["KI", "Logistik"]


def test_raw_english_article() -> None:
    data = clean_record(fixture_record("raw-en.json"))
    assert data.title == "Norrland Semi picks Dresden for its first European chip plant"
    assert data.teaser.startswith("Norrland Semiconductor will build its first European chip plant")
    assert data.body_text.count("\n\n") == 5
    # The long paragraph that mentions cookies and a newsletter is reporting.
    assert "weekly newsletter that the subsidy" in data.body_text
    assert_no_boilerplate(data.teaser, data.body_text, data.body_html)
    assert (
        data.canonical_url
        == "https://news.theledger.example/tech/norrland-semi-dresden-plant?id=77"
    )
    assert (data.author, data.language, data.priority) == ("Tom Ashby", "en", 2.5)
    assert data.topics == ["Semiconductors", "Europe"]


# ----------------------------------------------------------------------------- topics


def test_topics_are_plain_text_labels() -> None:
    data = clean_record(
        record(
            topics=[
                "<script>alert('topic')</script>KI &amp; Ethik",
                "&lt;b&gt;Robotik&lt;/b&gt;",  # markup that came entity-encoded
                "Ver\u00adkehr\u0007 und\u202e Wende\x00",  # soft hyphen, controls, bidi
                "  \n ",
                "<br>",
                "ki &amp; ethik",  # the same label again
            ]
        )
    )
    assert data.topics == ["KI & Ethik", "Robotik", "Verkehr und Wende"]


def test_a_sentence_as_topic_is_cut_to_a_label() -> None:
    sentence = (
        "Die Stadtwerke haben am Montag erste Zahlen zum Betrieb der neuen Anlage "
        "vorgelegt und wollen im Sommer weitere nennen"
    )
    (topic,) = validate_record({"title": "T", "topics": [sentence]}).topics
    assert len(topic) <= TOPIC_MAX_LEN and topic.endswith("Anlage…")
    assert sentence.startswith(topic[:-1])


def test_a_long_tag_list_in_one_topic_is_split_and_a_short_one_is_kept() -> None:
    # A page's keywords come as one comma-separated string; cut, it would lose tags.
    keywords = (
        "Fähren,Hafen Kiel,Elektroantrieb,Werften, Schiffbau;Energiewende | Verkehr, "
        "Stadtwerke Kiel,Ostsee,Norwegen,Landstrom"
    )
    topics = validate_record({"title": "T", "topics": ["Hafen Kiel", keywords]}).topics
    assert topics == [
        *("Hafen Kiel", "Fähren", "Elektroantrieb", "Werften", "Schiffbau", "Energiewende"),
        *("Verkehr", "Stadtwerke Kiel", "Ostsee", "Norwegen", "Landstrom"),
    ]
    # Short enough to be one label: "Tech > KI" and "KI, Robotik" are tried part by
    # part when ranking, and "Washington, D.C." is one place.
    short = validate_record({"title": "T", "topics": ["Washington, D.C.", "KI, Robotik"]})
    assert short.topics == ["Washington, D.C.", "KI, Robotik"]
    # A string (not a list) is a CMS tag list and always split.
    listed = validate_record({"title": "T", "topics": "KI, <em>Robotik</em> , "}).topics
    assert listed == ["KI", "Robotik"]


def test_a_long_keyword_list_keeps_the_first_twenty_tags() -> None:
    from digest.ingest.records import TOPICS_MAX

    tags = ", ".join(f"Schlagwort {n}" for n in range(60))
    record = validate_record(
        {
            "url": "https://x.example/a",
            "title": "T",
            "published_at": "2026-11-25T06:00:00Z",
            "body": "B",
            "topics": [tags],
        }
    )
    assert record.topics == [f"Schlagwort {n}" for n in range(TOPICS_MAX)]
