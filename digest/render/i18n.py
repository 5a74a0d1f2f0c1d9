"""Translations and localized dates for the rendered email.

English is the source language: the msgids in the templates are the English
text, so English needs no catalog. Every other language has a ``.po`` file in
``digest/locale/<lang>/LC_MESSAGES/digest.po``. Only the ``.po`` is kept in
git; it is compiled in memory on first use, so a translator's edit shows up
without a build step and no stale ``.mo`` can ever be shipped.
"""

from __future__ import annotations

import gettext
from collections.abc import Iterable
from datetime import date, datetime
from functools import cache
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_skeleton, format_time
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from digest.errors import RenderError

DOMAIN = "digest"
SOURCE_LANGUAGE = "en"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"

# How the templates are scanned for messages. The options must match the
# Environment the renderer builds (trimmed trans blocks, newstyle gettext),
# otherwise the extracted msgids differ from the ones looked up at run time.
JINJA_EXTRACT_OPTIONS = {
    "extensions": "jinja2.ext.i18n",
    "trimmed": "true",
    "newstyle_gettext": "true",
    "trim_blocks": "true",
    "lstrip_blocks": "true",
}
JINJA_EXTRACT_METHOD = "jinja2.ext:babel_extract"

MessageId = str | tuple[str, ...]


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def load_catalog(language: str) -> Catalog:
    """Parse the ``.po`` file of one language; RenderError if missing or broken."""
    path = po_path(language)
    try:
        with path.open("rb") as fp:
            return read_po(fp, locale=language, domain=DOMAIN)
    except FileNotFoundError:
        raise RenderError(
            f"no translations for language {language!r}: {path} does not exist",
            hint="set newsletter.language to de or en",
        ) from None
    except (OSError, ValueError) as err:
        raise RenderError(f"{path} cannot be read as a .po file: {err}") from err


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The gettext translations for ``language``, compiled once per process."""
    if language == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    catalog = load_catalog(language)
    buffer = BytesIO()
    # Fuzzy entries are a translator's unfinished guesses; they stay English.
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def extract_messages(source_dirs: Iterable[Path]) -> dict[MessageId, list[str]]:
    """Every msgid used in ``*.j2`` templates and ``*.py`` files under ``source_dirs``.

    One catalog serves the email and the web pages, so pass both the
    templates folder and the ``digest`` package. Plural messages are keyed by
    the tuple (singular, plural), as Babel does. Values say where each is used.
    """
    found: dict[MessageId, list[str]] = {}
    for folder in source_dirs:
        for filename, lineno, message, _comments, _context in extract_from_dir(
            folder,
            method_map=[("**.j2", JINJA_EXTRACT_METHOD), ("**.py", "python")],
            options_map={"**.j2": JINJA_EXTRACT_OPTIONS},
        ):
            key: MessageId = message if isinstance(message, str) else tuple(message)
            found.setdefault(key, []).append(f"{folder.name}/{filename}:{lineno}")
    return found


def format_newsletter_date(day: date, language: str) -> str:
    """The date in the masthead: "Mittwoch, 25. November 2026"."""
    return format_date(day, format="full", locale=language)


def format_item_time(
    published_at: datetime, newsletter_date: date, tz: ZoneInfo, language: str
) -> str:
    """When an item was published, as short as is unambiguous.

    "08:15" for the newsletter's own day (in the newsletter's time zone),
    "24.11., 18:40" for any other day.
    """
    local = published_at.astimezone(tz)
    clock = format_time(local, format="short", locale=language)
    if local.date() == newsletter_date:
        return clock
    day = format_skeleton("dM", local, locale=language)
    # CLDR's own glue ("{1}, {0}") rather than a hard-coded comma.
    pattern = str(Locale.parse(language).datetime_formats["short"])
    return pattern.replace("{1}", day).replace("{0}", clock)
