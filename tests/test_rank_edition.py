"""select_edition: one item per story, signals, history, editor actions, caps, thin days, explain."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import date, timedelta

import pytest

from digest.rank import (
    Candidate,
    EditorActions,
    History,
    RankingConfig,
    RankingParams,
    ReasonKind,
    SentItem,
    explain,
    explanation_dict,
    format_explanation,
    rank,
    select_edition,
)
from tests.rank_support import REFERENCE, candidates, fixtures

OWN = frozenset({"Techblick"})
CONFIG = RankingConfig(own_sources=OWN, section_order=("Politik", "KI", "Chips", "Sicherheit"))


def by_id(items: list[Candidate]) -> dict[int, Candidate]:
    return {c.id: c for c in items}


def reasons(selection: object) -> dict[int, tuple[str, int | None]]:
    rows = explain(selection)  # type: ignore[arg-type]
    return {
        row.article_id: (str(row.reason.kind), row.reason.related_article_id)
        for row in rows
        if row.reason is not None
    }


def test_each_story_goes_in_once_represented_by_the_own_site() -> None:
    roomy = replace(CONFIG, max_items=40, max_per_source=None, max_per_topic=None)
    selection = select_edition(candidates(), now=REFERENCE, config=roomy)
    stories = {fixtures().story_of(item.candidate.id) for item in selection.items}
    assert len(stories) == len(selection.items)
    assert len(selection.items) == len({a["story"] for a in fixtures().articles})
    chosen = {item.candidate.id: item for item in selection.items}
    # The Veltrion pilot line: Techblick (own site) represents it, the others are links.
    assert 101 in chosen
    assert {c.id for c in chosen[101].also_reported_by} == {102, 103}
    why = reasons(selection)
    assert why[103] == ("duplicate", 101)
    assert why[102] == ("duplicate", 101)


def test_without_own_site_preference_the_best_score_represents() -> None:
    config = replace(CONFIG, max_items=40, prefer_own_site=False)
    selection = select_edition(candidates(), now=REFERENCE, config=config)
    chosen = {item.candidate.id for item in selection.items}
    # 103 (The Circuit Ledger) is the newest report of the pilot line.
    assert 103 in chosen and 101 not in chosen


def test_every_candidate_is_explained() -> None:
    selection = select_edition(candidates(), now=REFERENCE, config=CONFIG)
    rows = explain(selection)
    assert sorted(row.article_id for row in rows) == sorted(c.id for c in candidates())
    for row in rows:
        assert set(row.signals) >= {"recency", "priority", "source_weight", "coverage"}
        assert sum(row.contributions.values()) == pytest.approx(row.score)
        if row.status == "selected":
            assert row.reason is None and row.position is not None
        else:
            assert row.reason is not None and row.reason.detail
    assert [row.position for row in rows if row.status == "selected"] == list(range(1, 13))
    data = explanation_dict(selection)
    json.dumps(data)
    assert len(data["rows"]) == len(rows)
    text = format_explanation(selection)
    assert "same story as article 101" in text


def test_same_input_in_any_order_gives_the_same_selection() -> None:
    items = candidates()
    first = select_edition(items, now=REFERENCE, config=CONFIG)
    expected = ([i.candidate.id for i in first.items], [r.to_dict() for r in explain(first)])
    for seed in range(3):
        shuffled = items[:]
        random.Random(seed).shuffle(shuffled)
        again = select_edition(shuffled, now=REFERENCE, config=CONFIG)
        assert ([i.candidate.id for i in again.items], [r.to_dict() for r in explain(again)]) == (
            expected
        )


def test_defaults_match_the_old_scoring() -> None:
    items = [replace(c, text="") for c in candidates()[:1]]
    params = RankingParams(max_items=5, half_life=timedelta(hours=8), priority_weight=0.25)
    old = rank(items, now=REFERENCE, params=params)[0]
    new = select_edition(items, now=REFERENCE, config=RankingConfig.from_params(params))
    assert new.items[0].score == pytest.approx(old.score)


def test_popularity_and_topic_weights_lift() -> None:
    items = by_id(candidates())
    plain = [items[231], items[291]]
    config = replace(CONFIG, min_items=1)
    base = {
        i.candidate.id: i.score for i in select_edition(plain, now=REFERENCE, config=config).items
    }
    lifted = [replace(items[231], popularity=10_000), items[291]]
    weighted = replace(config, topic_weights={"Forschung": 2.0})
    after = {
        i.candidate.id: i.score
        for i in select_edition(lifted, now=REFERENCE, config=weighted).items
    }
    assert after[231] == pytest.approx(base[231] + config.popularity_weight)
    assert after[291] == pytest.approx(2 * base[291])


def test_sent_articles_and_stories_are_not_repeated() -> None:
    items = by_id(candidates())
    sent_date = date(2026, 11, 24)
    history = History(
        sent=(
            # The same article, unchanged.
            SentItem(sent_date, 331, items[331].url, content_hash="abc"),
            # Another source's report of the Nordgate story, with its text.
            SentItem(
                sent_date,
                9001,
                "https://elsewhere.example/nordgate",
                title="Nordgate VPN flaw CVE-2026-41877 exploited",
                text="Attackers exploit CVE-2026-41877 in Nordgate VPN gateways; firmware 7.4.2 "
                "fixes it. The BSI counts 3,100 vulnerable devices.",
                language="en",
            ),
        )
    )
    pool = [replace(c, content_hash="abc") for c in candidates()]
    selection = select_edition(pool, now=REFERENCE, config=CONFIG, history=history)
    why = {e.candidate.id: e.reason for e in selection.excluded}
    assert why[331].kind == ReasonKind.ALREADY_SENT and why[331].date == sent_date
    # Every report of the rain-forecast story is out, not just the sent one.
    assert why[332].kind == ReasonKind.STORY_SENT and why[332].related_article_id == 331
    for article in (141, 142, 143):
        assert why[article].kind == ReasonKind.STORY_SENT
        assert why[article].related_article_id == 9001
    # An updated article may go out again, marked by its novelty signal.
    updated = [replace(c, content_hash="new") if c.id == 331 else c for c in pool]
    again = select_edition(updated, now=REFERENCE, config=CONFIG, history=history)
    chosen = {i.candidate.id: i for i in again.items}
    assert 331 in chosen and chosen[331].signals["novelty"] == CONFIG.updated_factor
    # Older than novelty_editions: it counts as new again.
    many = History(
        sent=history.sent
        + tuple(
            SentItem(sent_date + timedelta(days=k), None, f"https://x.example/{k}")
            for k in range(1, CONFIG.novelty_editions + 1)
        )
    )
    fresh = select_edition(pool, now=REFERENCE, config=CONFIG, history=many)
    assert ReasonKind.ALREADY_SENT not in {e.reason.kind for e in fresh.excluded}


def test_editor_pins_boosts_and_drops() -> None:
    config = replace(CONFIG, max_items=3)
    plain = select_edition(candidates(), now=REFERENCE, config=config)
    assert 271 not in {i.candidate.id for i in plain.items}
    editor = EditorActions(pins=frozenset({271}), boosts={291: 10.0}, drops=frozenset({103}))
    selection = select_edition(candidates(), now=REFERENCE, config=config, editor=editor)
    ids = [i.candidate.id for i in selection.items]
    assert ids[0] == 271 and selection.items[0].pinned
    assert 291 in ids
    why = {e.candidate.id: e.reason for e in selection.excluded}
    # Dropping one report drops the story: no other source's copy takes its place.
    assert why[103].kind == ReasonKind.DROPPED and why[103].detail == "dropped by the editor"
    assert why[101].kind == ReasonKind.DROPPED and why[101].related_article_id == 103
    unknown = select_edition(
        candidates(), now=REFERENCE, config=config, editor=EditorActions(pins=frozenset({5}))
    )
    assert unknown.notes == ("pinned article 5 is not among the candidates",)


def test_caps_keep_one_source_or_topic_from_filling_the_email() -> None:
    # Without an own site, Techblick is just a prolific source.
    config = replace(CONFIG, own_sources=frozenset(), max_per_source=2, max_per_topic=2)
    selection = select_edition(candidates(), now=REFERENCE, config=config)
    sources = [i.candidate.source for i in selection.items]
    assert max(sources.count(s) for s in set(sources)) <= 2
    kinds = {e.reason.kind for e in selection.excluded}
    assert ReasonKind.SOURCE_CAP in kinds
    capped = next(e for e in selection.excluded if e.reason.kind == ReasonKind.SOURCE_CAP)
    assert "max_per_source" in capped.reason.detail
    # Own sources are exempt by default.
    own = select_edition(candidates(), now=REFERENCE, config=replace(config, own_sources=OWN))
    assert [i.candidate.source for i in own.items].count("Techblick") > 2


def test_mmr_trades_score_for_variety() -> None:
    pure = select_edition(candidates(), now=REFERENCE, config=replace(CONFIG, mmr_lambda=1.0))
    varied = select_edition(candidates(), now=REFERENCE, config=replace(CONFIG, mmr_lambda=0.3))
    scores = [i.score for i in sorted(pure.items, key=lambda i: -i.score)]
    assert [i.candidate.id for i in pure.items] != [i.candidate.id for i in varied.items]
    assert sum(i.score for i in varied.items) <= sum(scores)


def test_thin_days_are_skipped_or_shortened_with_a_reason() -> None:
    items = candidates()[:4]
    strict = replace(CONFIG, min_score=0.9, min_items=3)
    short = select_edition(items, now=REFERENCE, config=strict)
    assert short.thin_day is not None and short.thin_day.action == "shorten"
    assert len(short.items) == short.thin_day.cleared < 3
    assert "shortened" in short.thin_day.reason
    below = [e for e in short.excluded if e.reason.kind == ReasonKind.BELOW_THRESHOLD]
    assert below and "min_score" in below[0].reason.detail
    skip = select_edition(items, now=REFERENCE, config=replace(strict, thin_day="skip"))
    assert skip.skipped and skip.items == ()
    assert ReasonKind.THIN_DAY in {e.reason.kind for e in skip.excluded}
    assert "THIN DAY" in format_explanation(skip)
    nothing = select_edition(items, now=REFERENCE, config=replace(strict, min_score=99))
    assert nothing.skipped


def test_sections_follow_the_configured_order_after_the_top_stories() -> None:
    selection = select_edition(candidates(), now=REFERENCE, config=CONFIG)
    keys = [s.key for s in selection.sections]
    assert keys[0] == "top" and len(selection.sections[0].items) == CONFIG.top_stories
    configured = [k for k in keys if k in CONFIG.section_order]
    assert configured == [k for k in CONFIG.section_order if k in configured]
    flat = [i for s in selection.sections for i in s.items]
    assert flat == list(selection.items)
    assert all(i.section == s.key for s in selection.sections for i in s.items)


def test_duplicate_ids_are_refused() -> None:
    item = candidates()[0]
    with pytest.raises(ValueError, match="distinct ids"):
        select_edition([item, item], now=REFERENCE, config=CONFIG)
