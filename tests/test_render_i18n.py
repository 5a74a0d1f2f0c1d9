"""The German catalog is complete and current; dates and times are localized."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import digest
from digest.config import load_settings
from digest.render import DigestItem, Renderer, shipped_templates_dir
from digest.render.i18n import (
    extract_messages,
    format_item_time,
    format_newsletter_date,
    load_catalog,
    translations,
)

BERLIN = ZoneInfo("Europe/Berlin")
# The email templates and the web pages share one catalog, as do the few
# messages in Python code (digest/web).
SOURCES = [shipped_templates_dir(), Path(digest.__file__).parent]
PLACEHOLDER_RE = re.compile(r"%\((\w+)\)s")


def used_messages() -> dict[str | tuple[str, ...], list[str]]:
    return extract_messages(SOURCES)


def test_extraction_finds_the_email_messages() -> None:
    used = used_messages()
    assert "Top story" in used
    assert "You receive this email because %(email)s subscribed to %(newsletter)s." in used
    assert (
        "Here is the one story you should know about today.",
        "Here are the %(count)s stories you should know about today.",
    ) in used


def _strings(value: object) -> tuple[str, ...]:
    """Babel gives a str for simple messages and a tuple or list for plurals."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, tuple | list):
        return tuple(str(part) for part in value)
    return ()


def _key(msgid: object) -> str:
    return _strings(msgid)[0]


def test_every_message_has_a_german_translation() -> None:
    catalog = load_catalog("de")
    missing = []
    for msgid, where in used_messages().items():
        entry = catalog.get(_key(msgid))
        strings = () if entry is None else _strings(entry.string)
        if entry is None or entry.fuzzy or not strings or not all(s.strip() for s in strings):
            missing.append(f"{msgid!r} ({', '.join(where)})")
    assert not missing, "add to digest/locale/de/LC_MESSAGES/digest.po:\n" + "\n".join(missing)


def test_no_stale_entries() -> None:
    used = {_key(msgid) for msgid in used_messages()}
    catalog = load_catalog("de")
    stale = [message.id for message in catalog if message.id and _key(message.id) not in used]
    assert not stale, f"remove from digest.po (no longer used): {stale}"


def test_translations_keep_their_placeholders() -> None:
    for message in load_catalog("de"):
        if not message.id:
            continue
        ids = _strings(message.id)
        strings = _strings(message.string)
        expected = set().union(*(PLACEHOLDER_RE.findall(i) for i in ids))
        for translated in strings:
            found = set(PLACEHOLDER_RE.findall(translated))
            # A singular may leave out %(count)s ("die Meldung"), nothing else.
            assert found <= expected and expected - found <= {"count"}, (message.id, translated)


def test_translations_are_compiled_from_the_po() -> None:
    german = translations("de")
    assert german.gettext("Top story") == "Top-Thema"
    assert (
        german.ngettext(
            "Here is the one story you should know about today.",
            "Here are the %(count)s stories you should know about today.",
            3,
        )
        == "Hier sind die %(count)s Meldungen, die Sie heute kennen sollten."
    )
    assert translations("en").gettext("Top story") == "Top story"
    assert translations("de") is german  # compiled once


@pytest.mark.parametrize(
    ("language", "expected"),
    [("de", "Mittwoch, 25. November 2026"), ("en", "Wednesday, November 25, 2026")],
)
def test_newsletter_date(language: str, expected: str) -> None:
    assert format_newsletter_date(date(2026, 11, 25), language) == expected


@pytest.mark.parametrize(
    ("published", "language", "expected"),
    [
        (datetime(2026, 11, 25, 7, 15, tzinfo=UTC), "de", "08:15"),
        (datetime(2026, 11, 24, 17, 40, tzinfo=UTC), "de", "24.11., 18:40"),
        # 23:30 UTC is already the newsletter's day in Berlin.
        (datetime(2026, 11, 24, 23, 30, tzinfo=UTC), "de", "00:30"),
        # Summer time: UTC+2.
        (datetime(2026, 7, 1, 4, 5, tzinfo=UTC), "de", "1.7., 06:05"),
        (datetime(2026, 11, 25, 7, 15, tzinfo=UTC), "en", "8:15\u202fAM"),
        (datetime(2026, 11, 24, 17, 40, tzinfo=UTC), "en", "11/24, 6:40\u202fPM"),
    ],
)
def test_item_time(published: datetime, language: str, expected: str) -> None:
    assert format_item_time(published, date(2026, 11, 25), BERLIN, language) == expected


def test_german_edition_has_no_english_interface_text(tmp_path: Path) -> None:
    settings = load_settings(None, environ={"DIGEST_SECRET_KEY": "x"}, cwd=tmp_path)
    item = DigestItem(
        title="Titel",
        url="https://news.example.com/a",
        teaser="Anreißer",
        source="dpa",
        published_at=datetime(2026, 11, 25, 5, tzinfo=UTC),
    )
    edition = Renderer(settings).render(date(2026, 11, 25), [item, item])
    for english in (
        "Top story",
        "More news",
        "Unsubscribe",
        "Good morning",
        "You receive",
        "Also:",
    ):
        for part in (edition.html, edition.text, edition.preheader):
            assert english not in part
    assert "Sie erhalten diese E-Mail" in edition.text
