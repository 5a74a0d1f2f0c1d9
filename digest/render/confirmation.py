"""The double opt-in email: one button that leads to the confirmation page.

Transactional, so unlike an edition it is rendered per recipient (no
placeholders) and in the language the person chose on the sign-up form.
The templates are ``confirm.mjml.j2``, ``confirm.txt.j2`` and
``confirm_subject.txt.j2``; like the edition's, each may be overridden in
``render.templates_dir``.

    renderer = ConfirmationRenderer(settings, "en")
    email = renderer.render(Confirmation(email=..., confirm_url=..., valid_for=...))
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

import mjml
from babel.dates import format_timedelta

from digest.config import Settings
from digest.errors import RenderError
from digest.render.renderer import Renderer, text_on_accent

CONFIRM_SUBJECT_TEMPLATE: Final = "confirm_subject.txt.j2"
CONFIRM_TEXT_TEMPLATE: Final = "confirm.txt.j2"
CONFIRM_HTML_TEMPLATE: Final = "confirm.mjml.j2"
CONFIRM_TEMPLATES: Final = (CONFIRM_SUBJECT_TEMPLATE, CONFIRM_TEXT_TEMPLATE, CONFIRM_HTML_TEMPLATE)


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    html: str
    text: str


@dataclass(frozen=True)
class Confirmation:
    """What one confirmation email says."""

    email: str
    confirm_url: str
    # How long the link works (web.confirm_max_age), said in words in the email.
    valid_for: timedelta


def settings_in(settings: Settings, language: str) -> Settings:
    """``settings`` with the newsletter's language replaced by ``language``."""
    if language == settings.newsletter.language:
        return settings
    newsletter = settings.newsletter.model_copy(update={"language": language})
    return settings.model_copy(update={"newsletter": newsletter})


class ConfirmationRenderer(Renderer):
    """Renders the confirmation email in one language.

    Shares the edition renderer's environment (template search path,
    translations, filters) and its error reporting: a broken template raises
    RenderError naming the file and line, when the renderer is built.
    """

    def __init__(self, settings: Settings, language: str) -> None:
        super().__init__(settings_in(settings, language))
        self.language = language
        for name in CONFIRM_TEMPLATES:
            self._template(name)

    def render_confirmation(self, confirmation: Confirmation) -> RenderedEmail:
        """Subject, HTML and text of one confirmation email."""
        newsletter = self._settings.newsletter
        context: dict[str, Any] = {
            "newsletter": newsletter,
            "language": self.language,
            "accent": newsletter.accent_color,
            "on_accent": text_on_accent(newsletter.accent_color),
            "email": confirmation.email,
            "confirm_url": confirmation.confirm_url,
            "valid_for": format_timedelta(
                confirmation.valid_for, locale=self.language, threshold=1.5
            ),
        }
        subject = " ".join(self._render(CONFIRM_SUBJECT_TEMPLATE, context).split())
        context["subject"] = subject
        text = self._render(CONFIRM_TEXT_TEMPLATE, context)
        lines = [line.rstrip() for line in text.strip("\n").splitlines()]
        source = self._render(CONFIRM_HTML_TEMPLATE, context)
        try:
            html = mjml.mjml2html(source, disable_comments=True)
        except ValueError as err:
            label = self._label(self._template(CONFIRM_HTML_TEMPLATE).filename)
            raise RenderError(f"{label} did not compile to HTML: {err}") from err
        return RenderedEmail(subject=subject, html=html, text="\n".join(lines) + "\n")
