"""What every handler shares: settings, database, clock, signer, and the page templates.

Pages are rendered in one language per request: the subscriber's own where
the page belongs to a subscriber, else ``?lang=`` (the switch on the sign-up
form), else ``newsletter.language``. Every page is marked noindex, may not be
framed (no click-jacking of the one-click buttons), sends a Referer only to
this site (the URLs hold tokens; "no-referrer" would make browsers send
``Origin: null`` with the forms) and is not cached.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse

from digest import pipeline
from digest.config import Settings
from digest.render import Renderer
from digest.render.confirmation import ConfirmationRenderer
from digest.render.i18n import translations
from digest.render.renderer import shipped_templates_dir, text_on_accent
from digest.store.db import Database
from digest.store.models import Subscriber
from digest.subscribers import LANGUAGES
from digest.tokens import Purpose, TokenSigner
from digest.web.protection import FormGuard, RateLimiter

SECURITY_HEADERS: Mapping[str, str] = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


# Language names in their own language, never translated.
LANGUAGE_NAMES = (("de", "Deutsch"), ("en", "English"))
# Longest name accepted in the forms; the column holds 300.
MAX_NAME = 200


class FieldErrors(dict[str, str]):
    """Field name → message for a form; a field without an error reads as ""."""

    def __missing__(self, key: str) -> str:
        return ""


def context_of(request: Request) -> WebContext:
    """The app's :class:`WebContext` (set by create_app)."""
    context: WebContext = request.app.state.context
    return context


def client_ip(request: Request) -> str | None:
    """The client's address as the server sees it.

    Behind a reverse proxy this is the real client only because `digest serve`
    runs uvicorn with ``proxy_headers`` and ``forwarded_allow_ips``
    (``web.forwarded_allow_ips``): uvicorn then takes X-Forwarded-For from
    trusted proxies, and from nobody else.
    """
    return request.client.host if request.client else None


class WebContext:
    """What the handlers share: settings, database, renderer, page templates, clock."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        clock: Callable[[], datetime],
        preview_date: str | None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock
        self.preview_date = preview_date
        self.renderer = Renderer(settings)
        self.signer: TokenSigner = pipeline.signer_for(settings)
        self.guard = FormGuard(self.signer, clock=clock, base_url=settings.newsletter.base_url)
        self.limiter = RateLimiter(settings.web.signups_per_hour)
        folders = [shipped_templates_dir()]
        if settings.render.templates_dir is not None:
            folders.insert(0, settings.path(settings.render.templates_dir))
        self._loader = jinja2.FileSystemLoader([str(folder) for folder in folders])
        self._pages: dict[str, jinja2.Environment] = {}
        self._confirmation: dict[str, ConfirmationRenderer] = {}
        # Build both languages now: a broken template shows at start, not at the
        # first visitor.
        for language in LANGUAGES:
            self.pages(language)
            self.confirmation_renderer(language)

    @property
    def topics(self) -> list[str]:
        return list(self.settings.newsletter.topics)

    # ------------------------------------------------------------------ language

    def pages(self, language: str) -> jinja2.Environment:
        """The page templates with ``language``'s translations installed."""
        env = self._pages.get(language)
        if env is None:
            env = jinja2.Environment(
                loader=self._loader,
                autoescape=True,
                extensions=["jinja2.ext.i18n"],
                undefined=jinja2.StrictUndefined,
                trim_blocks=True,
                lstrip_blocks=True,
            )
            # Must match digest.render.i18n.JINJA_EXTRACT_OPTIONS.
            env.policies["ext.i18n.trimmed"] = True
            env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
            self._pages[language] = env
        return env

    def confirmation_renderer(self, language: str) -> ConfirmationRenderer:
        renderer = self._confirmation.get(language)
        if renderer is None:
            renderer = ConfirmationRenderer(self.settings, language)
            self._confirmation[language] = renderer
        return renderer

    def language_for(self, request: Request, subscriber: Subscriber | None = None) -> str:
        if subscriber is not None and subscriber.language in LANGUAGES:
            return str(subscriber.language)
        asked = request.query_params.get("lang", "")
        return asked if asked in LANGUAGES else self.settings.newsletter.language

    # ------------------------------------------------------------------ pages

    def page(
        self,
        name: str,
        *,
        language: str,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        **values: Any,
    ) -> HTMLResponse:
        template = self.pages(language).get_template(name)
        newsletter = self.settings.newsletter
        body = template.render(
            newsletter=newsletter,
            language=language,
            on_accent=text_on_accent(newsletter.accent_color),
            **values,
        )
        return HTMLResponse(
            body, status_code=status, headers={**SECURITY_HEADERS, **(headers or {})}
        )

    def message(
        self,
        language: str,
        heading: str,
        text: str,
        *,
        status: int = 200,
        link: tuple[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> HTMLResponse:
        """A page with a heading, one paragraph and optionally one link (url, label)."""
        return self.page(
            "web/message.html.j2",
            language=language,
            status=status,
            headers=headers,
            heading=heading,
            text=text,
            link=link,
        )

    def invalid_link(self, language: str, *, sign_up: bool = False) -> HTMLResponse:
        # Deliberately the same for forged tokens and deleted subscribers, so a
        # response never tells whether an address is on the list.
        _ = translations(language).gettext
        link = ("/subscribe", _("Sign up again")) if sign_up else None
        return self.message(
            language,
            _("This link is not valid"),
            _("Please use the link from your most recent email."),
            status=400,
            link=link,
        )

    # ------------------------------------------------------------------ tokens

    def subscriber_for(self, token: str, purpose: Purpose) -> Subscriber | None:
        subscriber_id = self.signer.verify(token, purpose)
        if subscriber_id is None:
            return None
        with self.db.session() as session:
            return session.get(Subscriber, subscriber_id)

    def link(self, subscriber_id: int, purpose: Purpose) -> str:
        """A path with a non-expiring token (unsubscribe or preferences)."""
        return f"/{purpose}/{self.signer.sign(subscriber_id, purpose)}"
