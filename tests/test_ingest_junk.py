"""Junk that reached readers (issue 9.6): teaser bylines and link labels, boilerplate in
the middle of a body, reprint notices, invisible characters, markup not taken for HTML.

Every example is written for these tests, in German and English.
"""

from __future__ import annotations

import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from digest.errors import IngestError
from digest.ingest.blocks import Block, html_to_text, split_blocks
from digest.ingest.boilerplate import classify, is_prose, remove_boilerplate
from digest.ingest.clean import clean_record, make_teaser, strip_trailing_junk
from digest.ingest.feed import parse_feed
from digest.ingest.markup import drop_invisible, looks_like_html, normalize_space
from digest.ingest.records import ArticleRecord, FetchedDoc, validate_record

DATA = Path(__file__).parent / "data" / "ingest"
BERLIN = ZoneInfo("Europe/Berlin")


def record(**fields: object) -> ArticleRecord:
    data: dict[str, object] = {
        "url": "https://news.example/a",
        "title": "Ein Titel für die Tests",
        "published_at": "2026-11-24T08:00:00+01:00",
        "body": "Ein Absatz mit genug Inhalt, damit etwas übrig bleibt, auch nach der Reinigung.",
    }
    data.update(fields)
    return validate_record(data, default_tz=BERLIN)


def _p(text: str) -> Block:
    return Block("p", text, text)


PROSE = [
    _p(
        f"Absatz {n}: Die Stadtwerke haben am Montag erste Zahlen zum Betrieb der neuen Anlage "
        "vorgelegt. Demnach lief sie in den ersten Wochen ohne größere Störung, auch bei Frost "
        "und starkem Wind, und lieferte mehr Strom als im Plan vorgesehen war."
    )
    for n in range(1, 6)
]


# ------------------------------------------------------------- bylines, link labels


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Die Fähren sollen im Frühjahr starten. Von Philippa Eckhardt.[mehr]",
            "Die Fähren sollen im Frühjahr starten.",
        ),
        (
            "Die Fähren sollen im Frühjahr starten. Von Lena Brandt, NDR. [mehr]",
            "Die Fähren sollen im Frühjahr starten.",
        ),
        (
            "Die Fähren sollen starten. Von Anna-Lena von der Heide, ARD-Hauptstadtstudio.",
            "Die Fähren sollen starten.",
        ),
        ("Die Fähren sollen starten. Von Jonas Weber und Mira Stein", "Die Fähren sollen starten."),
        ("Die Fähren sollen starten. Eine Analyse von Mira Stein.", "Die Fähren sollen starten."),
        ("Die Fähren sollen starten. Weiterlesen »", "Die Fähren sollen starten."),
        ("Die Fähren sollen starten. Mehr", "Die Fähren sollen starten."),
        ("Die Fähren sollen starten … mehr", "Die Fähren sollen starten …"),
        ("Die Fähren sollen starten. (mehr…)", "Die Fähren sollen starten."),
        ("The ferries start in spring. By Tom Ashby", "The ferries start in spring."),
        ("The ferries start in spring. By Jane Roe and Tom Ashby.", "The ferries start in spring."),
        ("The ferries start in spring. [Read more]", "The ferries start in spring."),
        ("The ferries start in spring. Continue reading →", "The ferries start in spring."),
        ("The ferries start behind the pier andRead More", "The ferries start behind the pier and"),
        ("The ferries start in spring. [more]", "The ferries start in spring."),
        ("Er sagte: „Das kommt.“ Von Jan Ruhm", "Er sagte: „Das kommt.“"),
        ("Die Fähren sollen im Grunde […]", "Die Fähren sollen im Grunde…"),
        ("Die Fähren sollen starten. […]", "Die Fähren sollen starten."),
    ],
)
def test_trailing_byline_and_link_label_are_removed(text: str, expected: str) -> None:
    assert strip_trailing_junk(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Das zeigt die Studie von Forschern der TU München.",
        "Die Studie stammt von Forschern der TU.",
        "Die Fähren fahren los. Von Kiel aus geht es nach Oslo.",
        "Die Fähren fahren los. Von Siemens, Bosch und SAP kamen Zusagen.",
        "Weniger ist mehr",
        "Es gibt nichts mehr.",
        "Sie fährt weiter",
        "The vote is close. By Tuesday.",
        "The ferry service will spread on",
        "Die Arbeit “Dynamical bias in the coin toss” von Persi Diaconis und Susan Holmes.",
    ],
)
def test_sentences_ending_in_names_or_common_words_are_kept(text: str) -> None:
    assert strip_trailing_junk(text) == text


def test_broadcaster_feed_teasers_lose_byline_and_link_label() -> None:
    doc = FetchedDoc((DATA / "feed-teasers.xml").read_bytes(), "application/rss+xml", "file:///f")
    parsed = parse_feed(doc, default_tz=BERLIN)
    assert not parsed.problems
    articles = [clean_record(rec) for _, rec in parsed.records]
    assert len(articles) == 5
    for article in articles:
        for text in (article.teaser, article.body_text, article.body_html):
            assert "[mehr]" not in text and "Read more" not in text
            assert not text.rstrip("</p>").endswith(("mehr", "NDR.", "Stein.", "Ashby."))
    assert articles[0].teaser.endswith("geringeren Kosten pro Fahrt.")
    assert "<a" not in articles[1].body_html
    assert articles[1].body_text.endswith("für zu lang.")
    # A sentence with "von" in it is reporting, not a byline.
    assert articles[2].body_text.endswith("kommt zu einem ähnlichen Ergebnis.")
    assert articles[3].body_text.endswith("mehr Personal …")
    assert articles[4].teaser == (
        "The terminal can unload two tankers a week and starts operating in March."
    )


def test_given_teaser_loses_byline_and_link() -> None:
    teaser = make_teaser(
        "<p>Die Stadt plant neue Radwege. Von Mira Stein. <a href='/x'>[mehr]</a>", []
    )
    assert teaser == "Die Stadt plant neue Radwege."


def test_body_that_is_only_a_byline_and_link_falls_back_to_nothing() -> None:
    data = clean_record(record(body=f"{PROSE[0].text}\n\nVon Mira Stein.[mehr]"))
    assert data.body_text == PROSE[0].text


# ---------------------------------------------------------- boilerplate mid-body

# Our own wordings of each kind of junk the issue names, German and English.
JUNK_BY_KIND = {
    "also on": [
        "Also on Harbour Ledger: Robot taxis reach a third city",
        "Also on The Quayside Review → Why ferries are going electric",
        "More on Harbour Ledger Business: Gold hits a six-week high",
        "Read more on The Quayside Review",
        "Auch auf Laborfunk: Wie Mais mit weniger Wasser auskommt",
        "Lesen Sie auch auf Nordfunk: Die Fähre fährt wieder",
        "Mehr dazu bei nordfunk.example.de",
        "Lesen Sie mehr auf KURZSCHLUSS+",
    ],
    "top stories": [
        "Alle Top-News im Überblick",
        "Zurück zu den Top-Meldungen",
        "Hier geht's zu den Top-Themen!",
        "Zu allen Schlagzeilen »",
        "Back to top stories",
        "See all headlines",
        "More top stories",
    ],
    "paid partnership": [
        "Paid partnership",
        "Paid partnership with Lumen Audio",
        "Bezahlte Partnerschaft mit Nordlicht Reisen",
        "In Kooperation mit der Stadtsparkasse",
        "Sponsored by Voltwerk",
        "Anzeige: Dieser Beitrag entstand in Zusammenarbeit mit einem Möbelhaus.",
        "[Werbung] Ein Ratgeber zum Thema Geldanlage, erschienen im Beispielverlag",
    ],
    "stay connected": [
        "Stay connected: Twitter · Telegram · Mastodon",
        "Stay in touch with us on LinkedIn and Bluesky!",
        "Bleiben Sie mit uns in Kontakt: Facebook, Instagram, Threads",
        "Vernetzen Sie sich mit uns auf LinkedIn und Xing!",
        "Folgen Sie uns",
        "Jetzt unserem WhatsApp-Kanal folgen!",
        "Join our Telegram channel for breaking news",
    ],
    "corrections": [
        "Spotted a mistake? Let us know at fixes@ledger.example",
        "Found an error in this story? Email the desk.",
        "Fehler entdeckt? Schreiben Sie uns an korrektur@nordfunk.example",
        "Haben Sie einen Fehler gefunden? Melden Sie ihn bitte der Redaktion.",
        "Ist Ihnen ein Fehler aufgefallen? Dann geben Sie uns einen Hinweis.",
    ],
    "previous / next": [
        "Zum vorherigen Artikel",
        "Zum nächsten Artikel",
        "Zum vorherigen/nächsten Artikel",
        "Weiter zum nächsten Beitrag »",
        "Up next: The battery start-up that wants to build in Saxony",
        "Go to the previous article",
        "Nächste Seite",
    ],
    "opinion question": [
        "Was meinen Sie: Reichen die neuen Regeln aus?",
        "Was halten Sie von autonomen Fähren? Schreiben Sie uns in den Kommentaren!",
        "Wie sehen Sie das? Diskutieren Sie mit.",
        "Was denkst du: Würdest du einsteigen?",
        "What do you think: should ferries run without a captain?",
        "What's your take on driverless ferries? Tell us in the comments.",
        "Ihre Meinung ist gefragt",
    ],
    "book advert": [
        "Buchtipp: Maschinen am Meer. Eine Geschichte der Hafenautomatisierung.",
        "Unser Buchtipp – Fähren, Fjorde, Fernweh",
        "Book recommendation: The Quiet Harbour, a history of port robots",
        "Further reading: our guide to electric ferries",
        "Häfen im Wandel: Logistik zwischen Kran und Algorithmus (Beispielverlag, Taschenbuch)",
        "Harbour Machines: How Robots Took the Quay (Northlight Books)",
        "Das Buch ist jetzt bei Amazon und im Buchhandel erhältlich – hier bestellen!",
        "Buy the book now on Amazon, available as paperback and Kindle edition.",
    ],
}
JUNK = [(kind, text) for kind, texts in JUNK_BY_KIND.items() for text in texts]


@pytest.mark.parametrize(("kind", "text"), JUNK)
def test_each_kind_is_recognised(kind: str, text: str) -> None:
    assert classify(text) is not None, f"{kind}: {text}"


@pytest.mark.parametrize(("kind", "text"), JUNK)
def test_each_kind_is_removed_mid_body(kind: str, text: str) -> None:
    blocks = [PROSE[0], _p(text), *PROSE[1:4]]
    assert remove_boilerplate(blocks) == [PROSE[0], *PROSE[1:4]], kind


@pytest.mark.parametrize(("kind", "text"), JUNK)
def test_each_kind_is_removed_at_the_end(kind: str, text: str) -> None:
    blocks = [*PROSE[:2], _p(text)]
    assert remove_boilerplate(blocks) == PROSE[:2], kind


def test_end_marker_takes_the_unrecognisable_tail_with_it() -> None:
    blocks = [
        *PROSE[:2],
        _p("Zum vorherigen/nächsten Artikel"),
        _p("Häfen im Wandel"),  # a book title: nothing marks it as junk by itself
        _p("Ein Handbuch für Entscheider in der Logistik"),
    ]
    assert remove_boilerplate(blocks) == PROSE[:2]


# Two paragraphs after an interruption: fewer than the three long ones that used to be
# needed for the article to go on.
OFFER = "Partnerinhalt: Mit dem Feuchtesensor von Beispielmarkt behalten Sie den Garten im Blick. Jetzt bestellen » bis zu 30 % Rabatt!"
LATER = [
    _p(
        "Der Leiter der Stadtwerke rechnet dennoch mit Verzögerungen. Die Ersatzteile für "
        "die zweite Turbine seien bestellt, würden aber frühestens im Februar geliefert."
    ),
    _p(
        "Bis dahin soll die Anlage mit halber Leistung laufen. Der Stadtrat will im "
        "Januar über eine Entschädigung für die Anwohner beraten."
    ),
]


@pytest.mark.parametrize(
    "interruption",
    [
        OFFER,
        "Get our free morning newsletter delivered straight to your inbox. Sign up now!",
        "Folgen Sie uns auf Mastodon und LinkedIn, um keine Nachricht zu verpassen.",
        "Buchtipp: Maschinen am Meer. Eine Geschichte der Hafenautomatisierung.",
    ],
)
def test_an_interruption_mid_article_is_removed_alone(interruption: str) -> None:
    share = _p("Share this article")
    blocks = [*PROSE[:2], _p(interruption), *LATER, share, _p("Häfen im Wandel")]
    assert remove_boilerplate(blocks) == [*PROSE[:2], *LATER]


def test_an_interruption_is_looked_through_labels_and_subheadings() -> None:
    label = _p("Gesponsert")
    heading = Block("h3", "Wie es weitergeht", "Wie es weitergeht")
    blocks = [*PROSE[:2], label, _p(OFFER), heading, *LATER]
    assert remove_boilerplate(blocks) == [*PROSE[:2], heading, *LATER]


BIO = _p(
    "Mira Stein ist Redakteurin im Ressort Wirtschaft und schreibt seit 2015 über "
    "Energie, Verkehr und die Frage, wer am Ende die Rechnung dafür bezahlt."
)


@pytest.mark.parametrize(
    ("marker", "below"),
    [
        # A section marker: what follows is what it announces, prose or not.
        ("Über die Autorin:", [BIO]),
        ("Kommentare", [_p("Nordlicht77"), *LATER]),
        (
            "To view the full story, please subscribe to the Harbour Ledger. Annual plans "
            "start at $60.",
            [LATER[0]],
        ),
        # An interruption followed by short lines or book titles: the tail.
        (OFFER, [_p("Häfen im Wandel"), _p("Ein Handbuch für Entscheider"), LATER[0]]),
        # A label of a plug box over its own blurb.
        ("Newsletter", [LATER[0]]),
    ],
)
def test_prose_below_a_tail_marker_does_not_keep_the_tail(marker: str, below: list[Block]) -> None:
    blocks = [*PROSE[:2], _p(marker), *below]
    assert remove_boilerplate(blocks) == PROSE[:2]


def test_a_teaser_of_another_article_is_not_prose() -> None:
    # Sentence length and a sentence end, but nearly all of it is a link.
    teaser = (
        '<a href="https://news.example/b">Die Stadtwerke erhöhen zum Jahreswechsel die '
        "Preise für Fernwärme um ein Viertel, und die Mieter der Südstadt sollen das "
        "Nachsehen haben.</a> (12.11.)"
    )
    text = html_to_text(teaser)
    blocks = [*PROSE[:2], _p(OFFER), Block("p", teaser, text)]
    assert remove_boilerplate(blocks) == PROSE[:2]
    assert not is_prose(Block("p", teaser, text))
    assert is_prose(Block("p", f"Laut <a href='/x'>Bericht</a> {LATER[0].text}", LATER[0].text))


@pytest.mark.parametrize(
    "block",
    [
        _p("Künstliche Intelligenz und Robotik: Ein Handbuch für Entscheider und Planer"),
        _p("Kurz: Die Anlage läuft."),
        Block("h3", LATER[0].text, LATER[0].text),
        Block("ul", LATER[0].text, f"- {LATER[0].text}"),
    ],
)
def test_titles_short_lines_and_non_paragraphs_are_not_prose(block: Block) -> None:
    assert not is_prose(block)


KEEP = [
    "Also on Tuesday, the council voted to close the pool for the winter.",
    "Also on Tuesday: a vote on the budget",
    "Also on the agenda: a vote on next year's budget.",
    "Also on board were two doctors from the university hospital.",
    "More on that later, the mayor told reporters.",
    "Read more on page 4 of the report, the authors suggest.",
    "Auch auf Sylt wurden Schäden gemeldet.",
    "Auch auf der Insel: Der Sturm richtete große Schäden an",
    "Auch bei Siemens gab es Ärger mit den Lieferanten.",
    "Der Artikel 5 des Grundgesetzes schützt die Pressefreiheit, betonte die Richterin.",
    "Zum nächsten Artikel der Verordnung äußerte sich der Minister nicht.",
    "Musk kaufte Twitter 2022 und benannte die Plattform später um; Telegram wuchs stark.",
    "Users want to stay connected with their families on WhatsApp and Telegram, the survey found.",
    "Ihr neues Buch erscheint im März (Verlag C.H. Beck).",
    "Das Buch kostet 24 Euro und hat 320 Seiten, sagte der Verlag.",
    "Die Partnerschaft zwischen Bosch und dem Start-up soll bis 2030 laufen.",
    "The influencer failed to label the post as a paid partnership, regulators said.",
    "„Was meinen Sie: Sollen wir noch warten?“, fragte die Ministerin in die Runde.",
    "“We could fly two a year from 2024,” he said. “What do you think?”",
    "„Wir könnten sofort anfangen“, sagte sie. „Was halten Sie davon?“",
    "Was meinen Sie, wie lange das dauert? Der Minister wusste es auch nicht.",
    "Spotted an error in the firmware, the researchers alerted the vendor in March.",
    "Fehler entdeckt haben die Prüfer vor allem in der Abrechnung der Jahre 2021 und 2022.",
    "Die Schlagzeilen der Boulevardpresse drehten sich tagelang um den Skandal.",
    "Back to the lab, the team repeated the experiment with a larger sample.",
    "Top-Themen der Konferenz waren Datenschutz und Energieeffizienz.",
    "Werbung für Zigaretten ist in Deutschland weitgehend verboten.",
    "Anzeige gegen den Betreiber wurde am Montag erstattet.",
    "Der Verlag hat die Vervielfältigung nur mit Genehmigung erlaubt, sagte ein Anwalt.",
    "Newsletter-Anbieter wie Substack wachsen seit Jahren.",
    "Über den Link im Newsletter gelangen Teilnehmer nach der Anmeldung zum Fragebogen.",
    "Nutzer können nach oben scrollen, um ältere Beiträge zu sehen.",
    "Sie wollen den Roman jetzt auch als Hörbuch verkaufen, sagte die Autorin.",
    "Kritiker sagen, die Plattform habe Werbung: versteckt, aber allgegenwärtig.",
    # A long paragraph that quotes the question.
    "Auf dem Podium fragte die Moderatorin zunächst nur: Was meinen Sie, wer zahlt am Ende? "
    "Die Antworten fielen erwartbar aus. Der Verband verwies auf den Bund, der Bund auf die "
    "Länder, die Länder auf die Kommunen, und die Kommunen darauf, dass ihnen schlicht das "
    "Personal fehle, um die Anträge überhaupt zu bearbeiten.",
]


@pytest.mark.parametrize("text", KEEP)
def test_real_prose_with_the_same_words_is_kept(text: str) -> None:
    rule = classify(text)
    assert rule is None, f"{rule.kind if rule else ''}: {text}"


# ------------------------------------------------------------------ reprint notice

REPRINT_EN = (
    "This copy is for your personal, non-commercial use only. To order copies of this "
    "article for colleagues or clients, contact our licensing desk at rights@ledger.example."
)
REPRINT_DE = (
    "Dieser Text ist nur für den privaten, nicht-kommerziellen Gebrauch bestimmt. Eine "
    "Weiterverbreitung ist ohne vorherige Zustimmung des Verlags nicht gestattet."
)


@pytest.mark.parametrize("notice", [REPRINT_EN, REPRINT_DE])
def test_reprint_notice_as_the_whole_article_is_refused_by_name(notice: str) -> None:
    with pytest.raises(IngestError, match="no article text left") as caught:
        clean_record(record(url="https://news.example/reprinted", body=notice))
    assert "body" in str(caught.value) and "https://news.example/reprinted" in str(caught.value)


@pytest.mark.parametrize("notice", [REPRINT_EN, REPRINT_DE])
def test_reprint_notice_after_the_article_is_cut(notice: str) -> None:
    body = "\n\n".join([PROSE[0].text, PROSE[1].text, notice])
    data = clean_record(record(body=body, teaser=None))
    assert data.body_text == f"{PROSE[0].text}\n\n{PROSE[1].text}"


def test_reprint_body_with_a_real_teaser_keeps_the_teaser_only() -> None:
    data = clean_record(record(body=REPRINT_EN, teaser="Ferries without captains start in May."))
    assert (data.teaser, data.body_text) == ("Ferries without captains start in May.", "")


# --------------------------------------------------------------- invisible chars


def test_soft_hyphens_and_zero_width_characters_are_removed_everywhere() -> None:
    data = clean_record(
        record(
            title="Ver\u00adteidigungs\u00administer bera\u200bten",
            teaser="Die Ver&shy;tei&#173;digungs&#x200B;minister\u00a0beraten.",
            body="<p>Die Verteidigungs\u00adausgaben steigen, sagte die Minis&shy;terin in "
            "Brüssel.\u2060 Die Bünd\u200cnis\u200dpartner sollen mehr zahlen.\ufeff</p>",
        )
    )
    assert data.title == "Verteidigungsminister beraten"
    assert data.teaser == "Die Verteidigungsminister beraten."
    assert data.body_text == (
        "Die Verteidigungsausgaben steigen, sagte die Ministerin in Brüssel. "
        "Die Bündnispartner sollen mehr zahlen."
    )
    for text in (data.title, data.teaser, data.body_text, data.body_html):
        assert not any(char in text for char in "\u00ad\u200b\u200c\u200d\u2060\ufeff")
        assert "&shy;" not in text and "&#173;" not in text


def test_nbsp_is_a_space_and_an_emoji_joiner_stays() -> None:
    assert normalize_space("10\u00a0Prozent") == "10 Prozent"
    woman_tipping_hand = "\U0001f481\u200d\u2640"
    assert drop_invisible(f"Haar {woman_tipping_hand}") == f"Haar {woman_tipping_hand}"


# --------------------------------------------------------------------- HTML or text


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ("<pre>pip install digest</pre>", "pip install digest"),
        ("Der Befehl <code>ls -la</code> listet alles.", "Der Befehl ls -la listet alles."),
        ("Es gilt E = mc<sup>2</sup> und H<sub>2</sub>O.", "Es gilt E = mc2 und H2O."),
        ("Das ist <u>wichtig</u>.", "Das ist wichtig."),
        ('Das ist <font color="red">rot</font>.', "Das ist rot."),
        ("<td>Zelle eins</td><td>Zelle zwei</td>", "Zelle eins\n\nZelle zwei"),
        (
            "<table><tr><td>Modell</td><td>Preis</td></tr><tr><td>X1</td><td>499 Euro</td></tr>"
            "</table>",
            "Modell | Preis\n\nX1 | 499 Euro",
        ),
        ('<span class="x">Ein Satz</span> im Span.', "Ein Satz im Span."),
        ("<div>Erster Absatz</div><div>Zweiter Absatz</div>", "Erster Absatz\n\nZweiter Absatz"),
        ('Text vor dem Bild <img src="a.png"> und danach.', "Text vor dem Bild und danach."),
        ("Oben<hr>Unten", "Oben\n\nUnten"),
        ("Das <small>Kleingedruckte</small> zählt.", "Das Kleingedruckte zählt."),
        ("Das ist <mark>markiert</mark>.", "Das ist markiert."),
        (
            "Der Preis liegt bei <s>500</s> <del>550</del> 600 Euro.",
            "Der Preis liegt bei 600 Euro.",
        ),
        ("Neu <ins>eingefügt</ins>.", "Neu eingefügt."),
        ("Ein Satz.<!-- cms:teaser-end --> Noch einer.", "Ein Satz. Noch einer."),
        (
            "Tom &amp; Jerry&#8217;s Show\n\nZweiter &quot;Absatz&quot;",
            'Tom & Jerry’s Show\n\nZweiter "Absatz"',
        ),
    ],
)
def test_any_html_markup_is_parsed_not_shown(body: str, text: str) -> None:
    assert looks_like_html(body) or "&" in body
    data = clean_record(record(body=body))
    assert data.body_text == text
    assert "&lt;" not in data.body_html and "&amp;amp;" not in data.body_html
    for tag in (
        "<pre",
        "<code",
        "<u>",
        "<font",
        "<td",
        "<table",
        "<span",
        "<div",
        "<img",
        "<hr",
        "<small",
        "<mark",
        "<s>",
        "<del",
        "<ins",
        "<!--",
    ):
        assert tag not in data.body_html


def test_sup_and_sub_survive_sanitizing() -> None:
    data = clean_record(record(body="Es gilt E = mc<sup>2</sup> und H<sub>2</sub>O."))
    assert data.body_html == "<p>Es gilt E = mc<sup>2</sup> und H<sub>2</sub>O.</p>"


@pytest.mark.parametrize(
    "body",
    [
        "Wenn a < b und b > c, dann gilt a < c.",
        "Ich <3 Berlin, schreibt die Leserin.",
        "Die Schleife läuft, solange i<n gilt.",
        "Schreiben Sie an <Vorname.Nachname> bei der Stadt.",
        "Der Wert lag bei <5 Prozent.",
        "AT&T; und R&D sind keine Entitäten.",
    ],
)
def test_plain_text_with_angle_brackets_stays_text(body: str) -> None:
    assert not looks_like_html(body)
    data = clean_record(record(body=body))
    assert data.body_text == body
    assert data.body_html == f"<p>{split_blocks(body)[0].html}</p>"


# ------------------------------------------------------------ a whole raw article


def _phrases() -> list[str]:
    lines = (DATA / "boilerplate-phrases.txt").read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


def test_raw_articles_with_junk_in_the_middle_and_at_the_end() -> None:
    items = json.loads((DATA / "raw-midbody.json").read_text(encoding="utf-8"))
    german, english = (clean_record(validate_record(i, default_tz=BERLIN)) for i in items)
    assert german.title == "Kiel lässt fahrerlose Fähren über die Förde pendeln"
    assert german.teaser == (
        "Ab dem Frühjahr pendeln zwei Elektrofähren ohne Kapitän zwischen Kiel und Laboe."
    )
    assert german.body_text.startswith("Ab dem Frühjahr sollen zwei elektrische Fähren")
    assert german.body_text.count("\n\n") == 4  # five paragraphs of reporting
    assert "ohne Zwischenfall zurück." in german.body_text
    assert german.body_text.endswith("ohne jede Besatzung.")
    assert english.title == "Hamburg opens its first hydrogen terminal"
    assert english.body_text.startswith("The port of Hamburg has opened")
    assert english.body_text.count("\n\n") == 4
    assert english.body_text.endswith("up to four years to build.")
    for article in (german, english):
        texts = (article.teaser, article.body_text, article.body_html)
        found = [p for p in _phrases() for t in texts if p.lower() in t.lower()]
        assert not found, f"boilerplate reached the article: {found}"
        assert "\u00ad" not in article.body_html + article.teaser
