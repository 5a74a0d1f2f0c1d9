"""Per-recipient values: placeholder tokens at render time, filled in per subscriber.

An edition is rendered once; the values that differ per subscriber appear in
every part as the tokens in :data:`PLACEHOLDERS`. The tokens use only ``%``,
capital letters and ``_``, so Jinja's autoescape, the MJML compiler and URL
attributes all leave them untouched, and they can double as SendGrid
substitution tags.

:func:`personalize` replaces them for one subscriber. Values are escaped for
the part they land in: HTML-escaped in the HTML part (an ``&`` in an
unsubscribe URL becomes ``&amp;`` inside ``href``), verbatim in the text part,
the subject and the preheader.

Names: the body greets with ``Good morning%%DIGEST_NAME_SUFFIX%%!``. The
suffix is ``", Anna"`` for a subscriber with a name and empty otherwise, so
the greeting reads right either way and no language-specific fallback word
("reader") is needed at send time.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Final, Literal

if TYPE_CHECKING:
    from digest.render.renderer import RenderedEdition

PLACEHOLDERS: Final = MappingProxyType(
    {
        "email": "%%DIGEST_EMAIL%%",
        "name_suffix": "%%DIGEST_NAME_SUFFIX%%",
        "unsubscribe_url": "%%DIGEST_UNSUBSCRIBE_URL%%",
        "preferences_url": "%%DIGEST_PREFERENCES_URL%%",
    }
)

Part = Literal["html", "text"]

_TOKEN_RE: Final = re.compile("|".join(re.escape(token) for token in PLACEHOLDERS.values()))
# Anything that looks like one of our tokens, in content we did not write.
_TOKEN_LOOKALIKE_RE: Final = re.compile(r"%%(DIGEST_)")


@dataclass(frozen=True)
class Personalization:
    """What one subscriber's copy of the edition needs."""

    email: str
    unsubscribe_url: str
    preferences_url: str
    name: str | None = None


def substitutions(who: Personalization, part: Part) -> dict[str, str]:
    """Token → value for one subscriber, escaped for ``part``.

    Exposed for providers that substitute themselves (SendGrid
    ``substitutions``): pass the ``"html"`` values with the HTML body.
    """
    name = (who.name or "").strip()
    raw = {
        PLACEHOLDERS["email"]: who.email,
        PLACEHOLDERS["name_suffix"]: f", {name}" if name else "",
        PLACEHOLDERS["unsubscribe_url"]: who.unsubscribe_url,
        PLACEHOLDERS["preferences_url"]: who.preferences_url,
    }
    if part == "html":
        return {token: html.escape(value, quote=True) for token, value in raw.items()}
    return raw


def fill(template: str, values: dict[str, str]) -> str:
    """Replace every token in one pass (a value is never scanned for tokens again)."""
    return _TOKEN_RE.sub(lambda match: values[match.group(0)], template)


def personalize(edition: RenderedEdition, who: Personalization) -> RenderedEdition:
    """One subscriber's copy of ``edition``; pure, so safe to call a million times."""
    as_html = substitutions(who, "html")
    as_text = substitutions(who, "text")
    return replace(
        edition,
        subject=fill(edition.subject, as_text),
        preheader=fill(edition.preheader, as_text),
        html=fill(edition.html, as_html),
        text=fill(edition.text, as_text),
    )


def defuse(content: str) -> str:
    """Break token look-alikes in article content so personalize never fills them.

    A zero-width space between the two ``%`` keeps the text looking the same
    while no token can match it.
    """
    return _TOKEN_LOOKALIKE_RE.sub("%\u200b%\\1", content)
