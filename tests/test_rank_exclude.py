"""ranking.exclude_titles: adverts and paywalled teasers are stored but left out, with a reason."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from digest import editions
from digest.config import EXCLUDE_TITLES, Settings, load_settings
from digest.errors import ConfigError
from digest.rank import (
    Candidate,
    EditorActions,
    RankingConfig,
    ReasonKind,
    explain,
    explanation_dict,
    format_explanation,
    select_edition,
)
from digest.rank.exclude import excluded_prefix
from digest.store.articles import ArticleData, upsert_article
from digest.store.db import Database
from tests.rank_support import REFERENCE, candidates

from .conftest import NOW, Result

DEFAULTS = tuple(EXCLUDE_TITLES)


@pytest.mark.parametrize(
    ("title", "prefix"),
    [
        ("Anzeige: Die besten Laptops für Studierende", "Anzeige:"),
        ("ANZEIGE | Die besten Laptops", "Anzeige:"),
        ("[Anzeige] Die besten Laptops", "Anzeige:"),
        ("  (Werbung) Ein Ratgeber fürs Sparen", "Werbung:"),
        ("Anzeige – Smartwatches im Angebot", "Anzeige:"),
        ("Angebot: Powerbank zum Bestpreis", "Angebot:"),
        ("heise-Angebot: Workshop zu Kubernetes", "heise-Angebot:"),
        ("Sponsored: Five laptops for students", "Sponsored:"),
        ("sponsored content: a webinar on cloud costs", "Sponsored content:"),
        ("Ad: The phone plan that pays you back", "Ad:"),
        ("Paid post: Why our bank is different", "Paid post:"),
        ("+ | Warum Banken KI fürchten", "+ |"),
        ("+| Warum Banken KI fürchten", "+ |"),
        ("heise+ | Mini-PCs im Test", "heise+ |"),
        ("Plus: Warum Banken KI fürchten", "Plus:"),
        ("Exklusiv für Abonnenten: Der Plan der Bahn", "Exklusiv für Abonnenten"),
        ("„Subscribers only“ – the plan of the railway", "Subscribers only"),
    ],
)
def test_advert_and_paywall_titles_match_their_prefix(title: str, prefix: str) -> None:
    assert excluded_prefix(title, DEFAULTS) == prefix


@pytest.mark.parametrize(
    "title",
    [
        "Anzeige gegen Betreiber erstattet",
        "Anzeigen-Umsatz bei Meta wächst",
        "Angebote der Woche: Was Händler planen",
        "Ad-Blocker: Verlage klagen erneut",
        "Adobe stellt neues Modell vor",
        "Werbung für Zigaretten bleibt verboten",
        "Sponsoring: Der Verein findet neue Geldgeber",
        "Plusminus: Die Preise im Check",
        "Plus 20 Prozent: Strom wird teurer",
        "Paid parental leave: what changes in 2027",
        "C++ | Neue Version freigegeben",
        "EU-Parlament: Ausschüsse stimmen für Kennzeichnungspflicht bei KI-Wahlwerbung",
        "Promotion an der Uni: Wie lange sie dauert",
    ],
)
def test_real_headlines_do_not_match(title: str) -> None:
    assert excluded_prefix(title, DEFAULTS) is None


def test_no_prefixes_match_nothing() -> None:
    assert excluded_prefix("Anzeige: Laptops", ()) is None
    assert excluded_prefix("Anzeige: Laptops", ("  ", ":")) is None


# ------------------------------------------------------------------------ ranking

CONFIG = RankingConfig(exclude_titles=DEFAULTS)


def _with_titles(titles: dict[int, str]) -> list[Candidate]:
    return [replace(c, title=titles.get(c.id, c.title)) for c in candidates()]


def _reasons(selection: object) -> dict[int, object]:
    return {row.article_id: row.reason for row in explain(selection)}  # type: ignore[arg-type]


def test_an_advert_is_left_out_with_its_prefix_as_the_reason() -> None:
    ad = max(c.id for c in candidates())  # a story of its own in the fixtures
    pool = _with_titles({ad: "Anzeige: Smartwatches bis zu 40 Prozent günstiger"})
    selection = select_edition(pool, now=REFERENCE, config=CONFIG)
    assert ad not in [item.candidate.id for item in selection.items]
    reason = _reasons(selection)[ad]
    assert reason is not None and reason.kind == ReasonKind.EXCLUDED_TITLE  # type: ignore[attr-defined]
    assert "'Anzeige:'" in reason.detail and "ranking.exclude_titles" in reason.detail  # type: ignore[attr-defined]
    row = next(r for r in explanation_dict(selection)["rows"] if r["article_id"] == ad)
    assert row["status"] == "excluded" and row["reason"]["kind"] == "excluded_title"
    text = format_explanation(selection)
    assert "out: excluded_title" in text and "title starts with 'Anzeige:'" in text


def test_the_rule_applies_to_the_same_candidates_when_the_config_changes() -> None:
    ad = max(c.id for c in candidates())
    pool = _with_titles({ad: "Sponsored: Five smartwatches on sale"})
    kept = select_edition(pool, now=REFERENCE, config=RankingConfig(max_items=60))
    left_out = select_edition(pool, now=REFERENCE, config=replace(CONFIG, max_items=60))
    assert ad in [item.candidate.id for item in kept.items]
    assert ad not in [item.candidate.id for item in left_out.items]


def test_a_sponsored_report_does_not_take_a_story_down_with_it() -> None:
    # 101, 102 and 103 report one story; the best-scored one becomes a paywall teaser.
    plain = select_edition(candidates(), now=REFERENCE, config=RankingConfig())
    story = next(item for item in plain.items if item.candidate.id in (101, 102, 103))
    teaser = story.candidate.id
    pool = _with_titles({teaser: f"+ | {story.candidate.title}"})
    selection = select_edition(pool, now=REFERENCE, config=CONFIG)
    chosen = [item for item in selection.items if item.candidate.id in (101, 102, 103)]
    assert len(chosen) == 1 and chosen[0].candidate.id != teaser
    assert teaser not in [c.id for c in chosen[0].also_reported_by]
    assert _reasons(selection)[teaser].kind == ReasonKind.EXCLUDED_TITLE  # type: ignore[union-attr]


def test_a_pin_brings_an_advert_back() -> None:
    ad = max(c.id for c in candidates())
    pool = _with_titles({ad: "Anzeige: Smartwatches bis zu 40 Prozent günstiger"})
    selection = select_edition(
        pool, now=REFERENCE, config=CONFIG, editor=EditorActions(pins=frozenset({ad}))
    )
    assert selection.items[0].candidate.id == ad and selection.items[0].pinned


# --------------------------------------------------------------- config and store


def test_the_default_config_carries_the_list_to_the_ranking(sqlite_settings: Settings) -> None:
    config = editions.ranking_config(sqlite_settings)
    assert config.exclude_titles == DEFAULTS and "Anzeige:" in config.exclude_titles


def test_the_list_can_be_emptied_or_replaced(tmp_path: Path) -> None:
    env = {"DIGEST_SECRET_KEY": "x", "DIGEST__RANKING__EXCLUDE_TITLES": "[]"}
    assert (
        editions.ranking_config(load_settings(None, environ=env, cwd=tmp_path)).exclude_titles == ()
    )
    env["DIGEST__RANKING__EXCLUDE_TITLES"] = "['Promo:']"
    settings = load_settings(None, environ=env, cwd=tmp_path)
    assert editions.ranking_config(settings).exclude_titles == ("Promo:",)


def test_an_empty_prefix_is_refused(tmp_path: Path) -> None:
    env = {"DIGEST_SECRET_KEY": "x", "DIGEST__RANKING__EXCLUDE_TITLES": "['Anzeige:', ' : ']"}
    with pytest.raises(ConfigError, match="exclude_titles"):
        load_settings(None, environ=env, cwd=tmp_path)


def _store(db: Database, key: str, title: str, body: str, hours: int) -> None:
    with db.session() as session:
        upsert_article(
            session,
            ArticleData(
                canonical_url=f"https://news.example/{key}",
                url=f"https://news.example/{key}",
                title=title,
                teaser=body[:60],
                body_html=f"<p>{body}</p>",
                body_text=body,
                published_at=NOW - timedelta(hours=hours),
                content_hash=key,
                source="Nordfunk",
                language="de",
                topics=["KI"],
            ),
            now=NOW,
        )


def test_stored_advert_is_explained_by_rank_explain(
    db: Database, run_on_db: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    _store(
        db,
        "laptops",
        "Anzeige: Die besten Laptops für Studierende",
        "Leichte Notebooks mit langer Akkulaufzeit gibt es diese Woche zum Sonderpreis.",
        1,
    )
    _store(
        db,
        "faehren",
        "Kiel testet fahrerlose Fähren",
        "Zwei elektrische Fähren pendeln ab März ohne Kapitän über die Förde.",
        2,
    )
    _store(
        db,
        "hafen",
        "Hafen Hamburg eröffnet Wasserstoff-Terminal",
        "Das Terminal kann zwei Tanker pro Woche entladen und soll 2027 wachsen.",
        3,
    )
    result = run_on_db("rank", "--date", "2026-11-25", "--explain", "--json")
    assert result.code == 0, result.err
    rows = {row["title"]: row for row in json.loads(result.out)["explanation"]["rows"]}
    ad = rows["Anzeige: Die besten Laptops für Studierende"]
    assert ad["status"] == "excluded"
    assert ad["reason"]["kind"] == "excluded_title"
    assert "'Anzeige:'" in ad["reason"]["detail"]
    assert rows["Kiel testet fahrerlose Fähren"]["status"] == "selected"
    table = run_on_db("rank", "--date", "2026-11-25", "--explain")
    assert table.code == 0, table.err
    text = " ".join(table.out.split())
    assert "advert/paywall title" in text and "title starts with 'Anzeige:'" in text
