"""The ranking inside the product: stored articles in, editions, explanations, variants out.

The ranking library has its own tests (test_rank_*.py); these check what the
store, the CLI, the send path and the preview make of it: one story once with
"also reported by", no repeats from earlier editions, editor decisions,
thin days and personalized variants per subscriber.
"""

from __future__ import annotations

import email
import email.policy
import json
from collections.abc import Callable
from datetime import date, timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import func, select

from digest import editions, pipeline, subscribers
from digest.config import Settings, load_settings
from digest.errors import EditionError, InputError
from digest.events import EventType
from digest.store.articles import ArticleData, upsert_article
from digest.store.db import Database
from digest.store.models import (
    Article,
    Delivery,
    Edition,
    EditionStatus,
    EditorAction,
    ProviderEvent,
)

from .conftest import NOW, Result

DAY = date(2026, 11, 25)
TOMORROW = DAY + timedelta(days=1)

# Written for these tests: two reports of one story (the publisher's own and
# another outlet's, different titles and wording), and four unrelated stories.
ARTICLES = [
    {
        "key": "port-own",
        "source": "Techblick",
        "topics": ["Robotik"],
        "hours": 1,
        "title": "Nordkai setzt in Bremerhaven 40 autonome Containerkräne ein",
        "teaser": "Der Hafenbetreiber Nordkai investiert 310 Millionen Euro in Bremerhaven.",
        "body": (
            "Der Hafenbetreiber Nordkai will bis 2028 am Terminal Bremerhaven 40 autonome "
            "Containerkräne in Betrieb nehmen. Die Investition beträgt 310 Millionen Euro, "
            "sagte Vorstand Jens Albrecht. Die Kräne sollen nachts ohne Fahrer arbeiten."
        ),
    },
    {
        "key": "port-other",
        "source": "Netzpuls",
        "topics": ["Robotik"],
        "hours": 2,
        "title": "Bremerhaven: Nordkai automatisiert Terminal mit 40 Kränen",
        "teaser": "310 Millionen Euro für fahrerlose Kräne bis 2028.",
        "body": (
            "Nordkai-Vorstand Jens Albrecht kündigte an, das Terminal in Bremerhaven bis 2028 "
            "mit 40 fahrerlosen Kränen auszustatten; 310 Millionen Euro fließen in das "
            "Projekt. Gewerkschaften fordern Zusagen für die Beschäftigten."
        ),
    },
    {
        "key": "fibre",
        "source": "Techblick",
        "topics": ["Politik"],
        "hours": 3,
        "title": "Bundesnetzagentur prüft Entgelte für Glasfaseranschlüsse",
        "teaser": "Die Behörde will Vorleistungspreise im ländlichen Raum untersuchen.",
        "body": (
            "Die Bundesnetzagentur hat ein Verfahren zu Vorleistungsentgelten im "
            "Glasfaserausbau eröffnet. Wettbewerber beklagen hohe Mieten für Leitungen."
        ),
    },
    {
        "key": "battery",
        "source": "Netzpuls",
        "topics": ["Forschung"],
        "hours": 4,
        "title": "Jenaer Team baut Natrium-Akku mit 5000 Ladezyklen",
        "teaser": "Ohne Lithium und Kobalt: ein Speicher für Solaranlagen auf Dächern.",
        "body": (
            "Forschende der Universität Jena haben einen Natrium-Ionen-Akku vorgestellt, der "
            "5000 Ladezyklen übersteht. Er soll Heimspeicher günstiger machen."
        ),
    },
    {
        "key": "chips",
        "source": "Chipwelt",
        "topics": ["Chips"],
        "hours": 5,
        "title": "Kryon zeigt Quantenprozessor mit 256 Qubits",
        "teaser": "Das Unternehmen aus Ulm will ihn ab Herbst in der Cloud anbieten.",
        "body": (
            "Das Ulmer Unternehmen Kryon hat einen supraleitenden Prozessor mit 256 Qubits "
            "gezeigt. Die Fehlerraten seien halbiert worden."
        ),
    },
    {
        "key": "startup",
        "source": "Netzpuls",
        "topics": ["Start-ups"],
        "hours": 6,
        "title": "Flinkwerk sammelt zwölf Millionen Euro für Lagerlogistik",
        "teaser": "Die Software plant Kommissionierwege in Echtzeit.",
        "body": (
            "Das Kölner Start-up Flinkwerk hat in einer Serie-A-Runde zwölf Millionen Euro "
            "eingesammelt. Kunden sind Versandhändler aus dem Mittelstand."
        ),
    },
]


def _settings(base: Settings, **env: str) -> Settings:
    environ = {
        "DIGEST__DATABASE__URL": base.database.url,
        "DIGEST__NEWSLETTER__BASE_URL": "https://news.example.com",
        "DIGEST_SECRET_KEY": "test-secret",
        # The articles are hours old; tomorrow's edition must still see them.
        "DIGEST__RANKING__WINDOW": "3d",
        # The publisher these articles come from (own_sources is empty by default).
        "DIGEST__RANKING__OWN_SOURCES": "[Techblick]",
        **{f"DIGEST__{k.upper()}": v for k, v in env.items()},
    }
    return load_settings(None, environ=environ, cwd=base.base_dir)


def store(db: Database, *, changed: str | None = None) -> dict[str, int]:
    """Store ARTICLES (``changed``: that one with a new paragraph); return ids by key."""
    ids = {}
    with db.session() as session:
        for entry in ARTICLES:
            body = str(entry["body"])
            if entry["key"] == changed:
                body += " Nachtrag: Die Kräne kommen aus Finnland."
            url = f"https://{str(entry['source']).lower()}.example/{entry['key']}"
            upsert_article(
                session,
                ArticleData(
                    canonical_url=url,
                    url=url,
                    title=str(entry["title"]),
                    teaser=str(entry["teaser"]),
                    body_html=f"<p>{body}</p>",
                    body_text=body,
                    published_at=NOW - timedelta(hours=int(str(entry["hours"]))),
                    content_hash=f"{entry['key']}:{len(body)}",
                    source=str(entry["source"]),
                    language="de",
                    topics=list(entry["topics"]),  # type: ignore[call-overload]
                ),
                now=NOW,
            )
        session.flush()
        for article in session.scalars(select(Article)):
            ids[article.canonical_url.rsplit("/", 1)[1]] = article.id
    return ids


def plan_for(db: Database, settings: Settings, day: date = DAY, **kw: bool) -> editions.EditionPlan:
    with db.session() as session:
        return editions.plan(session, settings, day, NOW, **kw)


def outbox(settings: Settings, day: date = DAY) -> dict[str, EmailMessage]:
    messages = {}
    for path in sorted((settings.outbox_dir / day.isoformat()).glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        messages[str(message["To"])] = message
    return messages


def html_of(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None
    return str(part.get_content())


@pytest.fixture
def ranked(settings: Settings) -> Settings:
    return _settings(settings)


def test_one_story_goes_out_once_with_the_own_report_and_also_reported_by(
    db: Database, ranked: Settings
) -> None:
    ids = store(db)
    plan = plan_for(db, ranked)
    chosen = [p.article_id for p in plan.items]
    assert ids["port-own"] in chosen and ids["port-other"] not in chosen
    port = next(p for p in plan.items if p.article_id == ids["port-own"])
    assert [a.url for a in port.item.also_reported_by] == ["https://netzpuls.example/port-other"]
    assert len(plan.items) == len(ARTICLES) - 1
    # Sections: the top stories first, then topics in newsletter.topics order.
    sections = [p.item.section for p in plan.items]
    assert sections[:3] == ["top"] * 3
    order = ranked.newsletter.topics
    rest = [s for s in sections[3:] if s is not None]
    assert rest == sorted(rest, key=order.index)
    assert plan.selection is not None
    out = {e.candidate.id: e.reason for e in plan.selection.excluded}
    assert out[ids["port-other"]].kind == "duplicate"
    assert out[ids["port-other"]].related_article_id == ids["port-own"]


def test_the_same_input_gives_the_same_edition(db: Database, ranked: Settings) -> None:
    store(db)
    first = [(p.article_id, round(p.score, 9)) for p in plan_for(db, ranked).items]
    second = [(p.article_id, round(p.score, 9)) for p in plan_for(db, ranked).items]
    assert first == second


def test_rank_explain_json_gives_every_candidate_its_signals_story_and_reason(
    db: Database, ranked: Settings, run_on_db: Callable[..., Result]
) -> None:
    ids = store(db)
    result = run_on_db("rank", "--date", "2026-11-25", "--explain", "--json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    rows = {row["article_id"]: row for row in data["explanation"]["rows"]}
    assert set(rows) == set(ids.values())
    duplicate = rows[ids["port-other"]]
    assert duplicate["status"] == "excluded"
    assert duplicate["reason"]["kind"] == "duplicate"
    assert duplicate["reason"]["related_article_id"] == ids["port-own"]
    assert duplicate["story"]["size"] == 2
    own = rows[ids["port-own"]]
    assert own["status"] == "selected" and own["position"] == 1
    assert own["also_reported_by"] == [ids["port-other"]]
    assert set(own["contributions"]) == {"recency", "priority", "popularity", "coverage"}
    assert own["contributions"]["coverage"] > 0  # two sources carry it
    assert abs(sum(own["contributions"].values()) - own["score"]) < 1e-3


def test_rank_explain_table_shows_clusters_and_reasons(
    db: Database,
    ranked: Settings,
    run_on_db: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids = store(db)
    monkeypatch.setenv("COLUMNS", "200")
    result = run_on_db("rank", "--date", "2026-11-25", "--explain")
    assert result.code == 0, result.err
    text = " ".join(result.out.split())
    assert "Stories reported more than once" in text
    assert f"S{min(ids['port-own'], ids['port-other'])}:" in text
    assert "duplicate" in text and "same story as article" in text


def test_a_sent_article_is_not_repeated_unless_it_changed(db: Database, ranked: Settings) -> None:
    ids = store(db)
    with db.session() as session:
        subscribers.add(session, "anna@example.com", now=NOW)
    pipeline.send(db, ranked, DAY, clock=lambda: NOW)
    tomorrow = plan_for(db, ranked, TOMORROW)
    assert tomorrow.items == [] and tomorrow.skipped
    assert tomorrow.selection is not None
    reasons = {e.candidate.id: e.reason for e in tomorrow.selection.excluded}
    assert reasons[ids["fibre"]].kind == "already_sent"
    assert reasons[ids["fibre"]].date == DAY

    store(db, changed="port-own")
    again = plan_for(db, ranked, TOMORROW)
    assert [p.article_id for p in again.items] == [ids["port-own"]]
    assert again.items[0].signals["novelty"] == pytest.approx(ranked.ranking.updated_factor)


def test_editor_pin_boost_drop_through_the_cli(
    db: Database, ranked: Settings, run_on_db: Callable[..., Result]
) -> None:
    ids = store(db)
    startup = ids["startup"]
    result = run_on_db("edition", "pin", str(startup), "--date", "2026-11-25")
    assert result.code == 0, result.err
    assert "pinned" in result.out
    plan = plan_for(db, ranked)
    assert plan.items[0].article_id == startup and plan.items[0].pinned

    # Dropping the own report keeps the whole story out (no other copy takes its place).
    assert (
        run_on_db(
            "edition",
            "drop",
            "https://techblick.example/port-own?utm_source=x",
            "--date",
            "2026-11-25",
        ).code
        == 0
    )
    plan = plan_for(db, ranked)
    chosen = {p.article_id for p in plan.items}
    assert not chosen & {ids["port-own"], ids["port-other"]}

    assert (
        run_on_db(
            "edition", "boost", str(ids["chips"]), "--factor", "3", "--date", "2026-11-25"
        ).code
        == 0
    )
    boosted = next(p for p in plan_for(db, ranked).items if p.article_id == ids["chips"])
    assert boosted.signals["editor_boost"] == 3

    listed = run_on_db("edition", "list", "--date", "2026-11-25", "--json")
    actions = {row["article_id"]: row["action"] for row in json.loads(listed.out)}
    assert actions == {startup: "pin", ids["port-own"]: "drop", ids["chips"]: "boost"}

    assert run_on_db("edition", "clear", str(ids["port-own"]), "--date", "2026-11-25").code == 0
    assert ids["port-own"] in {p.article_id for p in plan_for(db, ranked).items}


def test_editor_mistakes_are_one_line_errors(
    db: Database, ranked: Settings, run_on_db: Callable[..., Result]
) -> None:
    ids = store(db)
    unknown = run_on_db("edition", "pin", "999999")
    assert unknown.code == 1 and "no stored article 999999" in unknown.err
    assert "Traceback" not in unknown.err
    bad = run_on_db("edition", "boost", str(ids["fibre"]), "--factor", "0")
    assert bad.code == 1 and "--factor" in bad.err

    with db.session() as session:
        subscribers.add(session, "anna@example.com", now=NOW)
    pipeline.send(db, ranked, DAY, clock=lambda: NOW)
    frozen = run_on_db("edition", "drop", str(ids["fibre"]), "--date", "2026-11-25")
    assert frozen.code == 1 and "frozen" in frozen.err


def test_a_pin_brings_in_an_article_older_than_the_window(db: Database, settings: Settings) -> None:
    narrow = _settings(settings, ranking__window="2h")
    ids = store(db)
    from digest import editor

    with db.session() as session:
        editor.decide(session, DAY, str(ids["startup"]), EditorAction.PIN, now=NOW)
    chosen = [p.article_id for p in plan_for(db, narrow).items]
    assert chosen[0] == ids["startup"]


def test_a_thin_day_skips_the_edition_and_records_why(
    db: Database, settings: Settings, run_on_db: Callable[..., Result]
) -> None:
    skip = _settings(settings, ranking__min_items="10", ranking__thin_day="skip")
    store(db)
    with db.session() as session:
        subscribers.add(session, "anna@example.com", now=NOW)
    report = pipeline.send(db, skip, DAY, clock=lambda: NOW)
    assert report.edition_skipped and report.sent == 0
    assert report.thin_day is not None and "min_items is 10" in report.thin_day
    with db.session() as session:
        edition = session.scalar(select(Edition))
        assert edition is not None
        assert edition.status == EditionStatus.SKIPPED
        assert edition.thin_reason == report.thin_day
        assert edition.frozen_at is None
        assert session.scalar(select(func.count()).select_from(Delivery)) == 0


def test_a_thin_day_shortens_the_edition_and_says_so(db: Database, settings: Settings) -> None:
    shorten = _settings(settings, ranking__min_items="10")
    store(db)
    with db.session() as session:
        subscribers.add(session, "anna@example.com", now=NOW)
    report = pipeline.send(db, shorten, DAY, clock=lambda: NOW)
    assert report.sent == 1 and report.items == len(ARTICLES) - 1
    assert report.thin_day is not None and "shortened" in report.thin_day
    with db.session() as session:
        edition = session.scalar(select(Edition))
        assert edition is not None and edition.thin_reason == report.thin_day
    # The frozen edition keeps the reason: the preview and `digest rank` show it.
    assert pipeline.draft(db, shorten, DAY, NOW).plan.thin_reason == report.thin_day


def test_clicks_in_earlier_editions_raise_popularity(db: Database, ranked: Settings) -> None:
    ids = store(db)
    before = next(p for p in plan_for(db, ranked).items if p.article_id == ids["chips"])
    assert before.signals["popularity"] == 0
    with db.session() as session:
        for n in range(3):
            session.add(
                ProviderEvent(
                    provider="sendgrid",
                    provider_event_id=f"click-{n}",
                    event=EventType.CLICKED,
                    provider_event="click",
                    occurred_at=NOW,
                    received_at=NOW,
                    url="https://chipwelt.example/chips",
                )
            )
    after = next(p for p in plan_for(db, ranked).items if p.article_id == ids["chips"])
    assert after.signals["popularity"] > 0 and after.score > before.score


def _subscribe(db: Database, address: str, topics: list[str], muted: tuple[str, ...] = ()) -> None:
    with db.session() as session:
        subscriber, _ = subscribers.add(session, address, now=NOW)
        subscriber.topics = topics
        subscriber.muted_sources = list(muted)


def test_each_subscriber_gets_the_variant_for_their_topics(db: Database, ranked: Settings) -> None:
    ids = store(db)
    _subscribe(db, "all@example.com", [])
    _subscribe(db, "robots@example.com", ["Robotik"])
    _subscribe(db, "robots2@example.com", ["Robotik"])
    _subscribe(db, "chips@example.com", ["Chips"])
    _subscribe(db, "quiet@example.com", [], muted=("Netzpuls",))
    report = pipeline.send(db, ranked, DAY, clock=lambda: NOW)
    assert report.sent == 5
    mail = {address.split("@")[0]: html_of(m) for address, m in outbox(ranked).items()}
    titles = {key: str(entry["title"]) for entry in ARTICLES for key in [entry["key"]]}
    assert titles["chips"] in mail["all"] and titles["port-own"] in mail["all"]
    assert titles["port-own"] in mail["robots"] and titles["chips"] not in mail["robots"]
    assert titles["chips"] in mail["chips"] and titles["port-own"] not in mail["chips"]
    assert titles["battery"] not in mail["quiet"] and titles["chips"] in mail["quiet"]
    with db.session() as session:
        edition = session.scalar(select(Edition))
        assert edition is not None
        keys = sorted(v.key for v in edition.variants)
    # de and en, each: the full edition and three preference variants.
    assert len(keys) == 8 and "de" in keys and "en" in keys
    assert ids  # used above through the titles


def test_variants_are_bounded_and_rare_choices_join_the_nearest(
    db: Database, settings: Settings
) -> None:
    bounded = _settings(settings, ranking__max_variants="2")
    store(db)
    _subscribe(db, "robots@example.com", ["Robotik"])
    _subscribe(db, "robots2@example.com", ["Robotik"])
    _subscribe(db, "robotics-and-chips@example.com", ["Robotik", "Chips"])
    plan = plan_for(db, bounded, personalize=True)
    assert [v.preference.topics for v in plan.variants] == [frozenset({"Robotik"})]
    assert plan.variants[0].subscribers == 3
    report = pipeline.send(db, bounded, DAY, clock=lambda: NOW)
    assert report.sent == 3
    with db.session() as session:
        edition = session.scalar(select(Edition))
        assert edition is not None
        assert len(edition.variants) == 4  # de/en × (full, Robotik)
        chooser = editions.VariantChooser(edition, bounded)
        # Someone who changed their topics after the freeze gets the nearest variant.
        assert chooser.key("de", ["Robotik", "Forschung"]).startswith("de:v-")
        assert chooser.key("en", []) == "en"


def test_preview_and_rank_show_a_subscribers_variant(
    db: Database, ranked: Settings, run_on_db: Callable[..., Result]
) -> None:
    store(db)
    _subscribe(db, "chips@example.com", ["Chips"])
    result = run_on_db(
        "rank", "--date", "2026-11-25", "--subscriber", "chips@example.com", "--json"
    )
    assert result.code == 0, result.err
    items = json.loads(result.out)["items"]
    assert [item["title"] for item in items] == ["Kryon zeigt Quantenprozessor mit 256 Qubits"]
    draft = pipeline.draft(db, ranked, DAY, NOW, personalize=True)
    _language, key = pipeline.subscriber_variant(db, ranked, draft.plan, "chips@example.com")
    chips = pipeline.draft(db, ranked, DAY, NOW, variant=key)
    assert "Kryon" in chips.rendered.html and "Nordkai" not in chips.rendered.html
    with pytest.raises(InputError, match="no subscriber"):
        pipeline.subscriber_variant(db, ranked, draft.plan, "nobody@example.com")


def test_a_frozen_edition_keeps_its_variants(db: Database, ranked: Settings) -> None:
    store(db)
    _subscribe(db, "chips@example.com", ["Chips"])
    pipeline.send(db, ranked, DAY, clock=lambda: NOW)
    plan = plan_for(db, ranked)
    assert plan.frozen and len(plan.variants) == 1
    assert [p.item.title for p in plan.variants[0].items] == [
        "Kryon zeigt Quantenprozessor mit 256 Qubits"
    ]
    with pytest.raises(EditionError, match="frozen"):
        from digest import editor

        with db.session() as session:
            editor.decide(session, DAY, "1", EditorAction.DROP, now=NOW)
