"""The `digest` command: run in-process through its real entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from digest import cli
from tests.conftest import ClockFrom

ROOT = Path(__file__).resolve().parent.parent
BERLIN = ZoneInfo("Europe/Berlin")


def test_help_lists_every_command(run) -> None:  # type: ignore[no-untyped-def]
    result = run("--help")
    assert result.code == 0
    for command in (
        "demo",
        "ingest",
        "rank",
        "render",
        "send",
        "subscribers",
        "run",
        "preview",
        "serve",
        "config",
    ):
        assert command in result.out


def test_every_command_is_documented_in_the_readme() -> None:
    import typer.main

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    group = typer.main.get_command(cli.app)
    names = []
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        sub = getattr(command, "commands", None)
        names += [f"digest {name} {s}" for s in sub] if sub else [f"digest {name}"]
        assert command.help or getattr(command, "short_help", None), f"{name} has no help"
    for name in names:
        assert f"`{name}" in readme, f"{name} is not in the README"


def test_demo_then_rank_render_send_again(run, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # 12:50 in Berlin, after the send time: the hour at which the samples, dated
    # from now instead of from the edition's cutoff, once gave 11 items.
    monkeypatch.setattr(
        cli.state, "clock", ClockFrom(datetime(2026, 11, 25, 12, 50, tzinfo=BERLIN))
    )
    demo = run("demo")
    assert demo.code == 0, demo.err
    outbox = next((tmp_path / "var" / "outbox").iterdir())
    assert len(list(outbox.glob("*.eml"))) == 3
    assert "var/outbox" in demo.out and "digest.html" in demo.out

    again = run("send")
    assert again.code == 0
    assert "Nothing to send: all 3 active subscriber(s) already have this edition." in again.out

    status = run("status", "--json")
    assert status.code == 0
    counts = json.loads(status.out)["counts"]
    assert counts["accepted"] == 3 and counts["pending"] == counts["uncertain"] == 0
    assert run("send", "--resolve-uncertain", "maybe").code == 2  # usage error from the parser
    assert run("send", "--resolve-uncertain", "skip").code == 0

    ranked = run("rank", "--json")
    data = json.loads(ranked.out)
    assert data["frozen"] is True and len(data["items"]) == 12
    assert data["items"][0]["score"] >= data["items"][-1]["score"]

    table = run("rank")
    assert table.code == 0 and "score" in table.out

    render = run("render", "--out", str(tmp_path / "rendered"))
    assert render.code == 0
    assert {p.name for p in (tmp_path / "rendered").iterdir()} == {
        "digest.html",
        "digest.txt",
        "subject.txt",
        "preheader.txt",
    }

    listed = json.loads(run("subscribers", "list", "--json").out)
    assert {s["email"] for s in listed} == {
        "anna.beispiel@example.com",
        "karl.muster@example.net",
        "ben@example.org",
    }


@pytest.mark.parametrize("day", ["2026-01-14", "2026-07-15"], ids=["winter", "summer"])
@pytest.mark.parametrize("hour", ["00:05", "06:29", "06:31", "12:00", "23:55"])
def test_demo_gives_a_full_edition_at_any_hour(run, monkeypatch, day: str, hour: str) -> None:  # type: ignore[no-untyped-def]
    """After midnight, just before and after the send time (06:30), midday, late evening."""
    moment = datetime.fromisoformat(f"{day}T{hour}").replace(tzinfo=BERLIN)
    monkeypatch.setattr(cli.state, "clock", ClockFrom(moment))
    demo = run("demo")
    assert demo.code == 0, demo.err
    assert "0 problem(s)" in demo.out and "(12 items)" in demo.out
    assert "Sent 3 via outbox" in demo.out
    ranked = json.loads(run("rank", "--json").out)
    assert ranked["date"] == day
    assert ranked["frozen"] is True
    assert len(ranked["items"]) == 12, [item["title"] for item in ranked["items"]]
    explained = json.loads(run("rank", "--explain", "--json").out)
    # Every sample inside the window is a candidate: none fell after the cutoff.
    assert explained["candidates"] >= 12


def test_subscriber_commands(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert (
        run("subscribers", "add", "eva@example.com", "--name", "Eva", "--language", "en").code == 0
    )
    bad = run("subscribers", "add", "eva(at)example.com")
    assert bad.code == 1
    assert "Error: 'eva(at)example.com' is not a valid email address" in bad.err
    assert "Traceback" not in bad.err
    assert run("subscribers", "remove", "eva@example.com").code == 0
    readd = run("subscribers", "add", "eva@example.com")
    assert readd.code == 1 and "--resubscribe" in readd.err

    csv_file = tmp_path / "s.csv"
    csv_file.write_text("email,name\nok@example.com,Ok\nbroken,No\n", encoding="utf-8")
    imported = run("subscribers", "import", str(csv_file))
    assert imported.code == 1
    assert "s.csv line 3" in imported.err
    assert "1 added" in imported.out


def test_ingest_reports_bad_records_and_loads_the_rest(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "articles.jsonl"
    source.write_text(
        '{"url": "https://news.example.com/a", "title": "Gut", "published_at": "2026-11-24T10:00:00+01:00", "body": "Text."}\n'
        '{"url": "https://news.example.com/b", "title": "Kaputt", "published_at": "gestern", "body": "Text."}\n',
        encoding="utf-8",
    )
    result = run("ingest", str(source), str(tmp_path / "missing.json"))
    assert result.code == 1
    assert "articles.jsonl" in result.err and "published_at" in result.err
    assert "missing.json" in result.err
    assert "1 added" in result.out
    assert "Traceback" not in result.err


def test_config_errors_are_one_line(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "bad.yaml"
    config.write_text("ranking:\n  max_items: lots\n", encoding="utf-8")
    result = run("--config", str(config), "rank")
    assert result.code == 1
    assert "ranking.max_items" in result.err
    assert "Traceback" not in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_config_shows_values_not_secrets(run) -> None:  # type: ignore[no-untyped-def]
    result = run("config", "--json")
    data = json.loads(result.out)
    assert data["settings"]["ranking"]["max_items"] == 12
    assert data["secrets"]["DIGEST_SECRET_KEY"] == "set"
    assert "test-secret" not in result.out


def test_bad_date(run) -> None:  # type: ignore[no-untyped-def]
    result = run("rank", "--date", "25.11.2026")
    assert result.code == 1 and "YYYY-MM-DD" in result.err


def test_send_with_nothing_ingested(run) -> None:  # type: ignore[no-untyped-def]
    result = run("send")
    assert result.code == 1
    assert "has no articles" in result.err and "digest ingest" in result.err


def test_unreachable_database_is_one_line(run) -> None:  # type: ignore[no-untyped-def]
    os.environ["DIGEST__DATABASE__URL"] = "postgresql://nobody@127.0.0.1:1/nothing"
    try:
        result = run("subscribers", "list")
    finally:
        del os.environ["DIGEST__DATABASE__URL"]
    assert result.code == 1
    assert result.err.startswith("Error: cannot open database")
    assert "Traceback" not in result.err


def test_console_script_reports_errors_without_traceback(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    script = Path(sys.executable).parent / "digest"
    assert script.exists(), "the digest console script is not installed"
    proc = subprocess.run(
        [str(script), "subscribers", "add", "not-an-address"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith("Error:")
    assert "Traceback" not in proc.stderr
