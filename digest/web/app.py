"""The web app: editor preview, and the subscriber-facing unsubscribe and preferences pages.

One Starlette app serves both, started by `digest preview` or `digest serve`.
The unsubscribe URL follows RFC 8058: a POST with ``List-Unsubscribe=One-Click``
(form-encoded or multipart) unsubscribes at once and answers 200 without a
redirect, cookie or login; a GET (a person clicking the footer link) shows a
page with one button.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from digest import pipeline, subscribers
from digest.config import Settings
from digest.errors import DigestError
from digest.render import Renderer
from digest.render.i18n import translations
from digest.render.renderer import shipped_templates_dir
from digest.store.db import Database
from digest.store.models import Subscriber, SubscriberStatus
from digest.tokens import TokenSigner
from digest.web import webhooks

SAMPLE_IMAGES = Path(__file__).resolve().parent.parent / "samples" / "images"


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
        folders = [shipped_templates_dir()]
        if settings.render.templates_dir is not None:
            folders.insert(0, settings.path(settings.render.templates_dir))
        self.pages = jinja2.Environment(
            loader=jinja2.FileSystemLoader([str(folder) for folder in folders]),
            autoescape=True,
            extensions=["jinja2.ext.i18n"],
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        language = settings.newsletter.language
        self.pages.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]

    def page(self, name: str, status: int = 200, **values: Any) -> HTMLResponse:
        template = self.pages.get_template(name)
        body = template.render(
            newsletter=self.settings.newsletter,
            language=self.settings.newsletter.language,
            **values,
        )
        return HTMLResponse(body, status_code=status)

    def _(self, message: str) -> str:
        return translations(self.settings.newsletter.language).gettext(message)

    def invalid_link(self) -> HTMLResponse:
        # Deliberately the same for forged tokens and deleted subscribers, so a
        # response never tells whether an address is on the list.
        return self.page(
            "web/message.html.j2",
            status=400,
            heading=self._("This link is not valid"),
            text=self._("Please use the link from your most recent email."),
        )

    def subscriber_for(self, token: str, purpose: str) -> Subscriber | None:
        subscriber_id = self.signer.verify(token, purpose)  # type: ignore[arg-type]
        if subscriber_id is None:
            return None
        with self.db.session() as session:
            return session.get(Subscriber, subscriber_id)


def _context(request: Request) -> WebContext:
    context: WebContext = request.app.state.context
    return context


async def preview(request: Request) -> Response:
    ctx = _context(request)
    now = ctx.clock()
    date_arg = request.query_params.get("date") or ctx.preview_date
    newsletter_date = (
        pipeline.resolve_date(date_arg, ctx.settings, now) if date_arg else _next_date(ctx, now)
    )
    draft = pipeline.draft(ctx.db, ctx.settings, newsletter_date, now, renderer=ctx.renderer)
    rendered = pipeline.preview_personalized(ctx.settings, draft.rendered)
    width = 375 if request.query_params.get("width") == "375" else 600
    params = {"date": newsletter_date.isoformat()}

    def query(**extra: Any) -> str:
        return urlencode(params | {k: str(v) for k, v in extra.items()})

    return ctx.page(
        "web/preview.html.j2",
        date=newsletter_date.isoformat(),
        frozen=draft.plan.frozen,
        items=draft.plan.items,
        candidates=draft.plan.candidates,
        subject=rendered.subject,
        preheader=rendered.preheader,
        text=rendered.text,
        width=width,
        query=query,
        html_url=f"/preview/html?{urlencode(params)}",
        text_url=f"/preview/text?{urlencode(params)}",
    )


def _next_date(ctx: WebContext, now: datetime) -> Any:
    from digest import editions

    with ctx.db.session() as session:
        return editions.next_date(session, ctx.settings, now)


async def preview_part(request: Request) -> Response:
    ctx = _context(request)
    part = request.path_params["part"]
    if part not in ("html", "text"):
        return PlainTextResponse("Not found", status_code=404)
    now = ctx.clock()
    date_arg = request.query_params.get("date")
    newsletter_date = (
        pipeline.resolve_date(date_arg, ctx.settings, now) if date_arg else _next_date(ctx, now)
    )
    draft = pipeline.draft(ctx.db, ctx.settings, newsletter_date, now, renderer=ctx.renderer)
    rendered = pipeline.preview_personalized(ctx.settings, draft.rendered)
    return PlainTextResponse(rendered.text) if part == "text" else HTMLResponse(rendered.html)


async def _is_one_click(request: Request) -> tuple[bool, bool]:
    """(one-click body present, posted from our own page)."""
    form = await request.form()
    one_click = form.get("List-Unsubscribe") == "One-Click"
    return one_click, form.get("from_page") == "1"


async def unsubscribe(request: Request) -> Response:
    ctx = _context(request)
    token = request.path_params["token"]
    subscriber = ctx.subscriber_for(token, "unsubscribe")
    if request.method == "GET":
        if subscriber is None:
            return ctx.invalid_link()
        done = subscriber.status == SubscriberStatus.UNSUBSCRIBED
        return ctx.page(
            "web/unsubscribe.html.j2", email=subscriber.email, done=done, action=request.url.path
        )
    one_click, from_page = await _is_one_click(request)
    if subscriber is None or not one_click:
        if from_page:
            return ctx.invalid_link()
        return PlainTextResponse("Invalid unsubscribe request.", status_code=400)
    with ctx.db.session() as session:
        current = session.get(Subscriber, subscriber.id)
        if current is not None:
            reason = "unsubscribe page" if from_page else "one-click (List-Unsubscribe-Post)"
            subscribers.unsubscribe(session, current, now=ctx.clock(), reason=reason)
    if from_page:
        return ctx.page(
            "web/unsubscribe.html.j2", email=subscriber.email, done=True, action=request.url.path
        )
    # RFC 8058: the mailbox provider only needs a 2xx; no redirect, no page.
    return PlainTextResponse("Unsubscribed.", status_code=200)


async def preferences(request: Request) -> Response:
    ctx = _context(request)
    token = request.path_params["token"]
    subscriber = ctx.subscriber_for(token, "preferences")
    if subscriber is None or subscriber.status != SubscriberStatus.ACTIVE:
        return ctx.invalid_link()
    unsubscribe_url = f"/unsubscribe/{ctx.signer.sign(subscriber.id, 'unsubscribe')}"
    return ctx.page(
        "web/preferences.html.j2", email=subscriber.email, unsubscribe_url=unsubscribe_url
    )


async def health(_request: Request) -> Response:
    return PlainTextResponse("ok")


async def user_error(_request: Request, exc: Exception) -> Response:
    # A bad ?date= and the like: say what is wrong instead of a 500.
    return PlainTextResponse(str(exc), status_code=400)


def create_app(
    settings: Settings,
    *,
    db: Database | None = None,
    clock: Callable[[], datetime] = pipeline.utc_now,
    preview_date: str | None = None,
) -> Starlette:
    database = db or pipeline.open_database(settings)
    routes = [
        Route("/", preview),
        Route("/preview/{part:str}", preview_part),
        Route("/unsubscribe/{token:str}", unsubscribe, methods=["GET", "POST"]),
        Route("/preferences/{token:str}", preferences),
        Route("/healthz", health),
        *webhooks.routes,
        Mount(
            "/static/samples", StaticFiles(directory=SAMPLE_IMAGES, check_dir=False), name="samples"
        ),
    ]
    app = Starlette(routes=routes, exception_handlers={DigestError: user_error})
    app.state.context = WebContext(settings, database, clock=clock, preview_date=preview_date)
    return app
