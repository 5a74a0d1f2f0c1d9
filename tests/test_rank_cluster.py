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
