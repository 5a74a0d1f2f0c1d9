"""Topics for articles that carry none of ours: categories via aliases, URL rules, keywords."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from digest import cli
from digest.rank.topics import TopicMapper, TopicRules, topic_key
from tests.conftest import ClockFrom, Result

TOPICS = ("KI", "Robotik", "Chips", "Politik", "Forschung", "Start-ups", "Sicherheit", "Mobilität")


def mapper(**rules: object) -> TopicMapper:
    return TopicMapper(TopicRules(topics=TOPICS, **rules))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Start-ups", "startups"),
        ("Startup", "Start-ups"),
        ("Mobilität", "MOBILITAET"),
        ("Mobilität", "mobilitat"),
        ("IT-Sicherheit", "it sicherheit"),
        ("Straße", "strasse"),
    ],
)
def test_names_compare_without_case_accents_hyphens_or_plural(a: str, b: str) -> None:
    assert topic_key(a) == topic_key(b)


def test_categories_reach_topics_across_languages() -> None:
    topics = mapper()
    cases = {
        "Robotics": ("Robotik",),
        "robotik": ("Robotik",),
        "Artificial Intelligence": ("KI",),
        "Tech > AI": ("KI",),
        "KI & Robotik": ("KI", "Robotik"),
        "Semiconductors": ("Chips",),
        "Cybersecurity": ("Sicherheit",),
        "Forschung und Entwicklung": ("Forschung",),
    }
    for category, expected in cases.items():
        assigned = topics.assign([category])
        assert assigned.topics == expected, category
        assert assigned.origins[0] == f"category {category!r}"
        assert assigned.unmapped == ()


def test_unmapped_categories_are_kept_apart_not_made_topics() -> None:
    assigned = mapper().assign(["Robotics", "Gadget-Ticker", "Wirtschaft"])
    assert assigned.topics == ("Robotik",)
    assert assigned.unmapped == ("Gadget-Ticker", "Wirtschaft")
    counts = {"Gadget-Ticker": 3, "Robotics": 5, "Wirtschaft": 7}
    assert mapper().unmapped(counts) == [("Wirtschaft", 7), ("Gadget-Ticker", 3)]


def test_configured_aliases_and_switching_builtins_off() -> None:
    custom = mapper(aliases={"Robotik": ["Automation"]}, builtin_aliases=False)
    assert custom.assign(["Automation"]).topics == ("Robotik",)
    assert custom.assign(["Robotics"]).topics == ()
    assert custom.assign(["robotik"]).topics == ("Robotik",)  # its own name always counts


def test_url_rules_and_url_sections() -> None:
    rules = mapper(url_rules={"Chips": ["/halbleiter/"]})
    url = "https://news.example/wirtschaft/halbleiter/fab-in-sachsen-1234.html"
    assigned = rules.assign([], url)
    assert assigned.topics == ("Chips",)
    assert assigned.origins == ("URL /halbleiter/",)
    section = rules.assign([], "https://news.example/politik/neues-gesetz-ki-robotik")
    # The folder counts; the slug's words ("ki", "robotik") do not.
    assert section.topics == ("Politik",)
    assert section.origins == ("URL section /politik/",)
    off = mapper(url_sections=False).assign([], "https://news.example/politik/x")
    assert off.topics == ()


def test_keywords_match_whole_words_or_word_starts() -> None:
    rules = mapper(keywords={"Robotik": ["Roboter*", "Cobot"], "KI": ["künstliche Intelligenz"]})
    arm = rules.assign([], title="Neuer Roboterarm sortiert Pakete")
    assert arm.topics == ("Robotik",) and arm.origins == ("keyword 'Roboter*'",)
    assert rules.assign([], title="Cobots im Mittelstand").topics == ()  # not a whole word
    lead = rules.assign([], title="Studie", text="Forscher setzen Künstliche  Intelligenz ein.")
    assert lead.topics == ("KI",)
    # Categories come first; a keyword adds only topics not found already.
    both = rules.assign(["Robotics"], title="Roboter mit künstliche Intelligenz")
    assert both.topics == ("Robotik", "KI")
    assert both.origins == ("category 'Robotics'", "keyword 'künstliche Intelligenz'")


# --------------------------------------------------------------------------- end to end

CLOCK = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)  # before the 06:30 send time in Berlin


def _feed(now: datetime) -> str:
    items = []
    for n, (title, category) in enumerate(
        [
            ("Warehouse robot learns to fold parcels", "Robotics"),
            ("Gadget roundup: three new e-readers", "Gadget Weekly"),
            ("Chipmaker opens second fab in Ohio", "Semiconductors"),
        ]
    ):
        date = format_datetime(now - timedelta(hours=2 + n))
        items.append(
            f"<item><title>{title}</title><link>https://circuit.example/{n}</link>"
            f"<pubDate>{date}</pubDate><category>{category}</category>"
            f"<description>{title}. A report of {n + 3} sentences about it.</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        "<title>The Circuit Ledger</title><link>https://circuit.example/</link>"
        "<language>en</language>" + "".join(items) + "</channel></rss>"
    )


def _jsonl(now: datetime) -> str:
    rows = [
        {
            "url": f"https://techblick.example/{n}",
            "title": title,
            "published_at": (now - timedelta(hours=1 + n)).isoformat(),
            "body": f"{title}. Ein ausführlicher Bericht mit {n + 2} Absätzen.",
            "topics": topics,
            "source": "Techblick",
        }
        for n, (title, topics) in enumerate(
            [
                ("Bundestag berät über Regeln für Gesichtserkennung", ["Politik"]),
                ("Start-up aus Jena baut Lidar für Traktoren", ["Gründerszene"]),
            ]
        )
    ]
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


@pytest.fixture
def stored(run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Result:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(cli.state, "clock", ClockFrom(CLOCK))
    feed = tmp_path / "circuit.xml"
    feed.write_text(_feed(CLOCK), encoding="utf-8")
    articles = tmp_path / "techblick.jsonl"
    articles.write_text(_jsonl(CLOCK), encoding="utf-8")
    result = run("ingest", str(feed), str(articles))
    assert result.code == 0, result.err
    return result


def test_an_english_category_joins_the_german_topic_in_the_email(
    run, stored: Result, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    # No top stories: every item sits under its topic's heading.
    monkeypatch.setenv("DIGEST__RANKING__TOP_STORIES", "0")
    data = json.loads(run("rank", "--explain", "--json").out)
    rows = {row["title"]: row for row in data["explanation"]["rows"]}
    robot = rows["Warehouse robot learns to fold parcels"]
    assert robot["topics"] == [{"topic": "Robotik", "origin": "category 'Robotics'"}]
    chips = rows["Chipmaker opens second fab in Ohio"]
    assert chips["topics"] == [{"topic": "Chips", "origin": "category 'Semiconductors'"}]
    gadget = rows["Gadget roundup: three new e-readers"]
    assert gadget["topics"] == [] and gadget["unmapped_categories"] == ["Gadget Weekly"]
    unmapped = {u["category"]: u["articles"] for u in data["explanation"]["unmapped_categories"]}
    assert unmapped == {"Gadget Weekly": 1, "Gründerszene": 1}
    # Sections are newsletter topics only; the untagged items go to "other".
    sections = {s["key"] for s in data["explanation"]["sections"]}
    assert sections <= {"top", "other", *TOPICS}
    assert "Robotics" not in sections and "Gadget Weekly" not in sections
    assert {"Robotik", "Chips", "Politik", "other"} <= sections

    run("render", "--out", str(tmp_path / "out"), "--date", "today")
    html = (tmp_path / "out" / "digest.html").read_text(encoding="utf-8")
    assert ">Robotik<" in html or "Robotik</" in html
    assert "Robotics<" not in html and "Gadget Weekly" not in html


def test_a_reader_who_chose_the_german_topic_gets_the_english_story(run, stored: Result) -> None:  # type: ignore[no-untyped-def]
    assert run("subscribers", "add", "rob@example.com", "--language", "de").code == 0
    from digest.config import load_settings
    from digest.store.db import Database
    from digest.subscribers import find

    cfg = load_settings(None, environ={"DIGEST_SECRET_KEY": "x"}, cwd=Path.cwd())
    db = Database(cfg.database_url)
    try:
        with db.session() as session:
            subscriber = find(session, "rob@example.com")
            assert subscriber is not None
            subscriber.topics = ["Robotik"]
    finally:
        db.dispose()
    data = json.loads(run("rank", "--subscriber", "rob@example.com", "--json").out)
    assert [item["title"] for item in data["items"]] == ["Warehouse robot learns to fold parcels"]


def test_rank_explain_and_config_list_unmapped_categories(run, stored: Result, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COLUMNS", "200")
    table = run("rank", "--explain")
    assert table.code == 0, table.err
    text = " ".join(table.out.split())
    assert "Categories that reach none of newsletter.topics" in text
    assert "Gadget Weekly (1)" in text and "Gründerszene (1)" in text
    assert "Robotik (category 'Robotics')" in text

    config = run("config")
    assert config.code == 0, config.err
    assert "Gadget Weekly (1)" in config.out and "Gründerszene (1)" in config.out
    data = json.loads(run("config", "--json").out)
    assert {u["category"] for u in data["unmapped_categories"]} == {"Gadget Weekly", "Gründerszene"}

    # Mapping it in the config applies to the articles already stored.
    monkeypatch.setenv("DIGEST__TOPICS__ALIASES", "{Start-ups: [Gründerszene]}")
    mapped = json.loads(run("rank", "--explain", "--json").out)
    rows = {row["title"]: row for row in mapped["explanation"]["rows"]}
    lidar = rows["Start-up aus Jena baut Lidar für Traktoren"]
    assert lidar["topics"] == [{"topic": "Start-ups", "origin": "category 'Gründerszene'"}]


def test_config_refuses_rules_for_unknown_topics(run, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DIGEST__TOPICS__ALIASES", "{Robots: [Robotics]}")
    result = run("config")
    assert result.code == 1
    assert "topics.aliases: 'Robots' is not one of newsletter.topics" in result.err
    assert "Traceback" not in result.err


def test_config_without_a_database_does_not_create_one(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert run("config").code == 0
    assert not (tmp_path / "var" / "digest.db").exists()
