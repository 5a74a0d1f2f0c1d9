"""Story clustering on the hard fixtures (tests/data/rank/hard_stories.yaml) and its normalisers.

The fixtures are written to be hard where the first version failed: reports of
one story in other words, in German and English, whose shared evidence is
inflected names and figures written differently, beside near misses that
share names, places or figures with a story but are other events.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from digest.rank import ClusterParams, Document, find_stories
from digest.rank.cluster import _same_story
from digest.rank.lexicon import read_number
from digest.rank.text import (
    FeatureExtractor,
    base_name,
    distinctive_figure,
    fold,
    number_feature,
)
from tests.rank_support import REFERENCE

HARD = Path(__file__).parent / "data" / "rank" / "hard_stories.yaml"


@cache
def hard() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(HARD.read_text(encoding="utf-8"))
    data["articles"] = sorted(data["articles"], key=lambda a: a["id"])
    return data


def clusters(articles: list[dict[str, Any]]) -> list[frozenset[int]]:
    documents = [
        Document(
            f"{a['title']}\n{a['text']}",
            a["language"],
            REFERENCE - timedelta(hours=float(a["hours"])),
        )
        for a in articles
    ]
    result = find_stories(documents, ClusterParams())
    groups: dict[int, set[int]] = {}
    for article, label in zip(articles, result.labels, strict=True):
        groups.setdefault(label, set()).add(article["id"])
    return [frozenset(group) for group in groups.values()]


def pairs(groups: list[frozenset[int]]) -> set[tuple[int, int]]:
    return {(min(a, b), max(a, b)) for group in groups for a, b in itertools.combinations(group, 2)}


def stories(articles: list[dict[str, Any]]) -> dict[str, frozenset[int]]:
    found: dict[str, set[int]] = {}
    for article in articles:
        found.setdefault(article["story"], set()).add(article["id"])
    return {name: frozenset(ids) for name, ids in found.items()}


def test_the_hard_fixtures_have_what_the_issue_asks_for() -> None:
    data = hard()
    articles = data["articles"]
    by_story = stories(articles)
    reported = {name: ids for name, ids in by_story.items() if len(ids) >= 2}
    assert len(reported) >= 30
    assert all(2 <= len(ids) <= 3 for ids in reported.values())
    language = {a["id"]: a["language"] for a in articles}
    kinds = Counter(
        "/".join(sorted((language[a], language[b])))
        for ids in reported.values()
        for a, b in itertools.combinations(sorted(ids), 2)
    )
    assert kinds["de/de"] >= 8 and kinds["en/en"] >= 8 and kinds["de/en"] >= 25, kinds
    near_misses = {a["story"] for a in articles if "near_miss_of" in a}
    assert len(near_misses) >= 15
    assert {a["near_miss_of"] for a in articles if "near_miss_of" in a} <= set(by_story)
    assert sum(1 for a in articles if a.get("background")) >= 8
    assert all({"source", "language", "hours", "title", "text"} <= set(a) for a in articles)
    assert len({a["id"] for a in articles}) == len(articles)
    for first, second, *_why in data["hard_negatives"]:
        assert first in by_story and second in by_story, (first, second)


def test_precision_and_recall_on_the_hard_fixtures() -> None:
    articles = hard()["articles"]
    truth = pairs(list(stories(articles).values()))
    found = pairs(clusters(articles))
    hits = len(found & truth)
    precision, recall = hits / len(found), hits / len(truth)
    assert precision >= 0.95, (f"precision {precision:.3f}", sorted(found - truth))
    assert recall >= 0.90, (f"recall {recall:.3f}", sorted(truth - found))


def test_most_hard_stories_are_shown_once_and_near_misses_stay_apart() -> None:
    data = hard()
    articles = data["articles"]
    groups = set(clusters(articles))
    by_story = stories(articles)
    reported = [ids for ids in by_story.values() if len(ids) >= 2]
    shown_once = sum(1 for ids in reported if ids in groups)
    assert shown_once >= 0.9 * len(reported), f"{shown_once} of {len(reported)}"
    found = pairs(list(groups))
    for first, second, *why in data["hard_negatives"]:
        merged = {(min(a, b), max(a, b)) for a in by_story[first] for b in by_story[second]} & found
        assert not merged, (first, second, why)


def test_hard_clustering_does_not_depend_on_input_order() -> None:
    articles = list(hard()["articles"])
    expected = set(clusters(articles))
    for seed in range(3):
        shuffled = articles[:]
        random.Random(seed).shuffle(shuffled)
        assert set(clusters(shuffled)) == expected


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2 million", "#2000000"),
        ("zwei Millionen", "#2000000"),
        ("2 Mio.", "#2000000"),
        ("2.000.000", "#2000000"),
        ("2,000,000", "#2000000"),
        ("$2m", "#2000000"),
        ("1,2 Milliarden", "#1200000000"),
        ("1.2bn", "#1200000000"),
        ("$1.2 billion", "#1200000000"),
        ("€2.3m", "#2300000"),
        ("4,8 Mio.", "#4800000"),
        ("3,1 Mrd.", "#3100000000"),
        ("zweieinhalb Milliarden", "#2500000000"),
        ("eine Million", "#1000000"),
        ("4,1 Billionen", "#4100000000000"),
        ("1,5 Billion", "#1500000000000"),
        ("1.5 Billion", "#1500000000"),
        ("400\u00a0000", "#400000"),
        ("15,80", "#15.8"),
        ("0,25", "#0.25"),
        ("zwölf", "#12"),
        ("Zwölf", "#12"),
        ("twelve", "#12"),
        ("Seventeen", "#17"),
        ("dreihundert", "#300"),
        ("zweitausend", "#2000"),
        ("dreiundzwanzig", "#23"),
        ("vierhunderttausend", "#400000"),
        ("twenty-three", "#23"),
        ("forty-five million", "#45000000"),
        ("£45m", "#45000000"),
        ("dozen", "#12"),
    ],
)
def test_figures_are_read_one_way_in_words_and_formats(written: str, expected: str) -> None:
    extractor = FeatureExtractor()
    (doc,) = extractor.batch([f"Bericht: {written} Menschen"])
    assert expected in {extractor.vocabulary[f] for f in doc.entities}


@pytest.mark.parametrize(
    "text",
    [
        "ein Haus",  # an article, not 1
        "one of them",
        "die Millionen Nutzer",  # no figure before the scale word
        "die dritte Runde",  # ordinals are not figures
        "thousands of people",
        "Linie 4 300 Fahrgäste",  # a plain space never groups thousands
    ],
)
def test_words_that_look_like_figures_are_not(text: str) -> None:
    extractor = FeatureExtractor()
    (doc,) = extractor.batch([text])
    figures = {extractor.vocabulary[f] for f in doc.words if extractor.vocabulary[f][0] == "#"}
    assert figures <= {"#4", "#300"}, figures


def test_number_reader_contract() -> None:
    assert read_number("2,5 Millionen") == Decimal(2_500_000)
    assert read_number("anderthalb Milliarden") == Decimal(1_500_000_000)
    assert read_number("die Millionen") is None
    assert read_number("Haus") is None
    assert read_number("7.4.2") is None
    assert number_feature("7.4.2") == "#7.4.2"
    assert number_feature("0042") == "#42"


@pytest.mark.parametrize(
    ("word", "known", "base"),
    [
        ("pariser", {"paris"}, "paris"),
        ("parisian", {"paris"}, "paris"),
        ("dresdner", {"dresden"}, "dresden"),
        ("bremer", {"bremen"}, "bremen"),
        ("vindos", {"vindo"}, "vindo"),
        ("deutschlands", set(), "deutschland"),
        ("munchner", set(), "munchen"),
        ("zurcher", set(), "zurich"),
        ("kolner", set(), "koln"),
        ("bavarian", set(), "bavaria"),
        # Without a known base a word stays itself...
        ("pariser", set(), "pariser"),
        ("siemens", {"siemen"}, "siemen"),
        ("siemens", set(), "siemens"),
        # ...and "n" is only cut to reach a place: Bayern is not Bayer.
        ("bayern", {"bayer"}, "bayern"),
        ("paris", {"pari"}, "pari"),
    ],
)
def test_inflected_names_reduce_to_a_known_base(word: str, known: set[str], base: str) -> None:
    assert base_name(word, known) == base


def test_names_and_places_meet_across_inflection_compounds_and_languages() -> None:
    extractor = FeatureExtractor()
    german, english = extractor.batch(
        [
            "Pariser Hexwell-Chefin: Deutschlands Vindos Werk in Münchner Vorort, "
            "Kölner Dom, Genfer See, die französische Regierung, Bun\u00addes\u00adtag",
            "Paris-based Hexwell chief: Germany's Vindo plant in a Munich suburb, "
            "Cologne cathedral, Lake Geneva, the French government, Bundestag",
        ]
    )
    shared = {extractor.vocabulary[f] for f in german.entities & english.entities}
    assert {
        "paris",
        "hexwel",
        "@germany",
        "vindo",
        "@munich",
        "@cologne",
        "@geneva",
        "@france",
        "bundes",
    } <= shared
    assert fold("Kjærgaard Øresund Łódź") == "kjaergaard oresund lodz"


def test_distinctive_figures() -> None:
    assert distinctive_figure("#12")
    assert distinctive_figure("#0.3")
    assert distinctive_figure("#1200000000")
    assert not distinctive_figure("#4")  # "Linie 4", "vier Tote"
    assert not distinctive_figure("#2026")  # a year
    assert not distinctive_figure("paris")


def test_figures_that_disagree_keep_names_from_linking() -> None:
    params = ClusterParams()
    # Same company, chief executive and city, no shared figure, both give figures.
    assert not _same_story(0.2, 0.8, 5, False, params, figures=0, conflict=True)
    assert not _same_story(0.1, 0.8, 6, True, params, figures=0, conflict=True)
    # Same-language text similarity still links.
    assert _same_story(0.35, 0.8, 5, False, params, figures=0, conflict=True)
    # With a shared figure the usual thresholds hold; without one, one entity more.
    assert _same_story(0.1, 0.5, 4, True, params, figures=1)
    assert not _same_story(0.1, 0.5, 4, True, params, figures=0)
    assert _same_story(0.1, 0.5, 5, True, params, figures=0)
    relaxed = ClusterParams(figures_must_agree=False)
    assert _same_story(0.2, 0.8, 5, False, relaxed, figures=0, conflict=True)


def test_a_shared_city_alone_never_links_two_events() -> None:
    articles = [
        {
            "id": 1,
            "language": "de",
            "hours": 2,
            "title": "Brand in Pariser Metrostation",
            "text": "In Paris sind zwölf Menschen verletzt worden, 300 Fahrgäste "
            "mussten die Station Porte de Valmy verlassen.",
        },
        {
            "id": 2,
            "language": "en",
            "hours": 1,
            "title": "Paris council approves new tram line",
            "text": "The city of Paris will build a 14km tram line costing €900m, "
            "mayor Claire Dufresne said.",
        },
    ]
    assert pairs(clusters(articles)) == set()


def test_places_come_from_capitalized_words_and_german_adjectives() -> None:
    extractor = FeatureExtractor()
    english, german = extractor.batch(
        [
            "Tell us about the turkey you roasted",
            "Die türkische Regierung und die USA",
        ]
    )
    # "Tell" opens a sentence (never written in lower case here): a name as
    # far as the batch can tell. "us" and "turkey" are words, not places.
    assert {extractor.vocabulary[f] for f in english.entities} == {"tell"}
    assert "@turkey" in {extractor.vocabulary[f] for f in german.entities}
