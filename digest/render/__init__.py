"""Rendering: Jinja2 templates to MJML to HTML, plus text, subject and preheader.

This package is the only place that knows MJML. An edition is rendered once
with placeholders for per-recipient values (see :data:`PLACEHOLDERS`);
:func:`personalize` fills them in for one subscriber, escaping for each part.

    renderer = Renderer(settings)
    edition = renderer.render(date(2026, 11, 25), items)   # items: DigestItem, in order
    who = Personalization(email=..., unsubscribe_url=..., preferences_url=...)
    copy = personalize(edition, who)
"""

from digest.render.personalize import PLACEHOLDERS, Personalization, personalize, substitutions
from digest.render.renderer import (
    AlsoReported,
    DigestItem,
    RenderedEdition,
    Renderer,
    shipped_templates_dir,
)

__all__ = [
    "PLACEHOLDERS",
    "AlsoReported",
    "DigestItem",
    "Personalization",
    "RenderedEdition",
    "Renderer",
    "personalize",
    "shipped_templates_dir",
    "substitutions",
]
