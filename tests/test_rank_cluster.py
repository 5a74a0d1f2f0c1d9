"""Story clustering on the project's labelled fixtures, and its building blocks."""

from __future__ import annotations

import random
from datetime import timedelta

import numpy as np
import pytest

from digest.rank import ClusterParams, Document, find_stories
from digest.rank.minhash import HashTable, band_keys, candidate_pairs, signatures
from digest.rank.text import FeatureExtractor, fold, number_feature, stable_hash
from tests.rank_support import REFERENCE, fixtures


def documents(articles: list[dict[str, object]]) -> list[Document]:
    return [
        Document(
            f"{a['title']}\n{a['text']}",
            str(a["language"]),
            REFERENCE - timedelta(hours=float(str(a["hours"]))),
        )
        for a in articles
    ]


def predicted_pairs(articles: list[dict[str, object]]) -> set[tuple[int, int]]:
    result = find_stories(documents(articles), ClusterParams())
    ids = [int(str(a["id"])) for a in articles]
    groups: dict[int, list[int]] = {}
    for index, label in enumerate(result.labels):
        groups.setdefault(label, []).append(ids[index])
    return {
        (min(a, b), max(a, b))
        for members in groups.values()
        for i, a in enumerate(members)
        for b in members[i + 1 :]
    }


def test_the_fixtures_are_big_enough_and_mixed() -> None:
    data = fixtures()
    assert len(data.same) >= 40
    assert len(data.different) >= 40
    languages = {
        frozenset({a["language"], b["language"]})
        for a in data.articles
        for b in data.articles
        if a["id"] < b["id"] and (a["id"], b["id"]) in data.same
    }
    assert languages == {frozenset({"de"}), frozenset({"en"}), frozenset({"de", "en"})}
    assert any("translation_of" in a for a in data.articles)


def test_precision_and_recall_on_the_labelled_pairs() -> None:
    data = fixtures()
    found = predicted_pairs(list(data.articles))
    hits = len(found & data.same)
    precision = hits / len(found)
    recall = hits / len(data.same)
    assert precision >= 0.9, f"precision {precision:.3f}"
    assert recall >= 0.8, f"recall {recall:.3f}"
    # The hard negatives (same company or topic, another story) stay apart...
    merged = found & data.different
    assert len(merged) <= 0.1 * len(data.different), sorted(merged)
    # ...and so does nearly every other cross-story pair.
    assert len(found & data.all_different) <= 0.1 * hits


def test_cross_language_pairs_and_translations_are_found() -> None:
    data = fixtures()
    found = predicted_pairs(list(data.articles))
    language = {a["id"]: a["language"] for a in data.articles}
    cross = {pair for pair in data.same if language[pair[0]] != language[pair[1]]}
    assert len(cross) >= 15
    assert len(found & cross) >= 0.8 * len(cross)
    translations = {
        (min(a["id"], a["translation_of"]), max(a["id"], a["translation_of"]))
        for a in data.articles
        if "translation_of" in a
    }
    assert translations <= found


def test_clustering_does_not_depend_on_input_order() -> None:
    articles = list(fixtures().articles)
    expected = predicted_pairs(articles)
    for seed in range(3):
        shuffled = articles[:]
        random.Random(seed).shuffle(shuffled)
        assert predicted_pairs(shuffled) == expected


def test_lsh_compares_far_fewer_than_all_pairs() -> None:
    articles = list(fixtures().articles)
    result = find_stories(documents(articles), ClusterParams())
    all_pairs = len(articles) * (len(articles) - 1) // 2
    assert result.candidate_pairs < 0.1 * all_pairs


def test_reports_days_apart_are_not_one_story() -> None:
    data = fixtures()
    first, second = (a for a in data.articles if a["id"] in (101, 102))
    late = {**second, "hours": -60}
    assert predicted_pairs([first, second]) == {(101, 102)}
    assert predicted_pairs([first, late]) == set()


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2,3", "#2.3"),
        ("2.3", "#2.3"),
        ("9.000", "#9000"),
        ("9,000", "#9000"),
        ("463.000", "#463000"),
        ("1.024", "#1024"),
        ("71,4", "#71.4"),
        ("7.4.2", "#7.4.2"),
        ("2026", "#2026"),
    ],
)
def test_numbers_are_written_one_way(written: str, expected: str) -> None:
    assert number_feature(written) == expected


def test_features_meet_across_languages() -> None:
    extractor = FeatureExtractor()
    german, english = extractor.batch(
        [
            "Lumara Systems aus München: 2,3 Millionen für KI-Chips in Brüssel",
            "Munich's Lumara Systems: €2.3m for AI chips in Brussels",
        ]
    )
    shared = {extractor.vocabulary[f] for f in german.entities & english.entities}
    assert {"lumara", "system", "@munich", "#2300000", "@brussels"} <= shared
    assert fold("Straße Müller") == "strasse muller"


def test_stable_hash_is_fixed() -> None:
    # The same value in every process: MinHash signatures must not vary by run.
    assert stable_hash("veltri") == stable_hash("veltri")
    assert stable_hash("veltri") == 906296829 << 32 | 152830615


def test_minhash_estimates_jaccard_and_lsh_finds_the_pair() -> None:
    rng = np.random.default_rng(3)
    base = rng.integers(0, 2**62, size=40, dtype=np.int64)
    other = np.concatenate((base[:30], rng.integers(0, 2**62, size=10, dtype=np.int64)))
    unrelated = rng.integers(0, 2**62, size=40, dtype=np.int64)
    flat = np.concatenate((base, other, unrelated)).astype(np.uint64)
    owners = np.repeat(np.arange(3, dtype=np.int64), 40)
    sigs = signatures(flat, owners, 4, num_perm=128, seed=5)
    agreement = (sigs[0] == sigs[1]).mean()
    assert agreement == pytest.approx(30 / 50, abs=0.12)
    assert (sigs[0] == sigs[2]).mean() < 0.05
    # Document 3 has no features: it collides with nothing.
    pairs = candidate_pairs(band_keys(sigs, bands=32, rows=2), max_bucket=10)
    assert pairs.tolist() == [[0, 1]]
    again = signatures(flat, owners, 4, num_perm=128, seed=5)
    assert (again == sigs).all()


def test_hash_table_maps_every_key() -> None:
    rng = np.random.default_rng(0)
    keys = np.unique(rng.integers(-(2**62), 2**62, size=5000, dtype=np.int64))
    values = np.arange(keys.size, dtype=np.int64)
    table = HashTable(keys, values)
    order = rng.permutation(keys.size)
    assert (table.get(keys[order]) == values[order]).all()


# One source's template: real feeds phrase every item alike (a closing byline, a
# stock sentence). Single-link clustering once chained a whole feed into one story
# through such words; these are regression cases in that shape.
_TEMPLATE = (
    "Das teilte die Stadtverwaltung am Abend in einer Mitteilung mit. Weitere "
    "Einzelheiten will sie am Dienstag nennen. Von Jana Roth, Landesstudio Nord."
)
_EVENTS = [
    ("Brücke in Kiel wird ab Montag gesperrt", "Die Holtenauer Brücke bleibt sechs Wochen zu"),
    ("Hafen Rostock meldet Rekord bei Fähren", "Im Oktober legten 412 Fähren an"),
    ("Zoo Schwerin bekommt zwei Elefanten", "Die Tiere kommen aus einem Park in Dänemark"),
    (
        "Klinik in Lübeck eröffnet Kinderstation",
        "Die Station hat 24 Betten und kostete 9 Millionen",
    ),
    ("Feuerwehr Wismar löscht Brand in Werft", "Ein Schweißgerät hatte Holz entzündet"),
    ("Theater Stralsund sagt Premiere ab", "Zwei Sänger sind erkrankt, neuer Termin im Januar"),
    ("Bahnstrecke nach Greifswald wieder frei", "Nach dem Sturm räumten Helfer 40 Bäume weg"),
    ("Universität Rostock startet Meeresstudie", "Forscher messen ein Jahr lang die Ostsee"),
]


def _templated(source: str = "Nordwelle", *, hours: float = 1.0) -> list[Document]:
    return [
        Document(
            f"{title}\n{_TEMPLATE}",
            "de",
            REFERENCE - timedelta(hours=hours * n),
            source,
        )
        for n, (title, lead) in enumerate(_EVENTS)
    ]


def test_one_sources_template_does_not_make_its_items_one_story() -> None:
    clustering = find_stories(_templated(), ClusterParams())
    assert len(set(clustering.labels)) == len(_EVENTS)
    # Each guard holds alone; without both, the feed was one story.
    for params in (ClusterParams(template_share=2.0), ClusterParams(same_source_cosine=0.0)):
        assert len(set(find_stories(_templated(), params).labels)) == len(_EVENTS)
    unguarded = ClusterParams(template_share=2.0, same_source_cosine=0.0)
    assert len(set(find_stories(_templated(), unguarded).labels)) == 1


def test_a_repost_by_the_same_source_is_still_the_same_story() -> None:
    docs = _templated()
    title, _lead = _EVENTS[0]
    docs.append(
        Document(
            f"{title} (aktualisiert)\n{_TEMPLATE} Umleitungen sind ausgeschildert.",
            "de",
            REFERENCE,
            "Nordwelle",
        )
    )
    labels = find_stories(docs, ClusterParams()).labels
    assert labels[-1] == labels[0]
    assert len(set(labels)) == len(_EVENTS)


def test_another_sources_report_still_joins_despite_the_template() -> None:
    docs = _templated()
    docs.append(
        Document(
            "Holtenauer Brücke in Kiel: sechs Wochen Sperrung ab Montag\n"
            "Autofahrer müssen ab Montag für sechs Wochen auf die Holtenauer Brücke "
            "in Kiel verzichten.",
            "de",
            REFERENCE,
            "Kieler Bote",
        )
    )
    labels = find_stories(docs, ClusterParams()).labels
    assert labels[-1] == labels[0]
    assert len(set(labels)) == len(_EVENTS)


def test_a_sites_follow_up_sharing_the_figures_joins_its_first_report() -> None:
    docs = _templated()
    first = Document(
        "Sanierung der Levensauer Hochbrücke kostet 38,5 Millionen Euro\n"
        "Die Levensauer Hochbrücke bei Kiel wird für 38,5 Millionen Euro saniert, "
        "sagte Baudezernentin Maren Voss. Der Bund trägt 80 Prozent.",
        "de",
        REFERENCE - timedelta(hours=5),
        "Nordwelle",
    )
    later = Document(
        "Levensauer Hochbrücke: Kritik an Plänen für 38,5-Millionen-Sanierung\n"
        "Anwohner fürchten monatelange Umwege. Voss verteidigt das Vorhaben, das zu "
        "80 Prozent der Bund bezahlt.",
        "de",
        REFERENCE,
        "Nordwelle",
    )
    labels = find_stories([*docs, first, later], ClusterParams()).labels
    assert labels[-1] == labels[-2]
    assert len(set(labels)) == len(_EVENTS) + 1
