"""The editor's preview of the next edition: `/` and `/preview/html|text`.

Nothing is frozen or sent; the page follows newly ingested articles on reload.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response

from digest import editions, pipeline
from digest.errors import InputError
from digest.rank.variants import DEFAULT_KEY
from digest.subscribers import LANGUAGES
from digest.web.pages import WebContext, context_of


def _next_date(ctx: WebContext, now: datetime) -> date:
    with ctx.db.session() as session:
        return editions.next_date(session, ctx.settings, now)


def _date(ctx: WebContext, date_arg: str | None, now: datetime) -> date:
    if date_arg:
        return pipeline.resolve_date(date_arg, ctx.settings, now)
    return _next_date(ctx, now)


def _draft(
    ctx: WebContext, request: Request, newsletter_date: date, now: datetime
) -> tuple[pipeline.Draft, str | None]:
    """The draft to show: a subscriber's (?subscriber=), a variant's (?variant=) or the full one.

    Returns the draft and a problem to show (an unknown subscriber falls back
    to the full edition).
    """
    params = request.query_params
    language = params.get("language") or None
    variant = params.get("variant") or DEFAULT_KEY
    problem = None
    email = (params.get("subscriber") or "").strip()
    if email:
        with ctx.db.session() as session:
            plan = editions.plan(session, ctx.settings, newsletter_date, now, personalize=True)
        try:
            language, variant = pipeline.subscriber_variant(ctx.db, ctx.settings, plan, email)
        except InputError as error:
            problem = error.message
    if language not in (None, *LANGUAGES):
        language = None
    renderer = ctx.renderer if language in (None, ctx.settings.newsletter.language) else None
    draft = pipeline.draft(
        ctx.db,
        ctx.settings,
        newsletter_date,
        now,
        renderer=renderer,
        language=language,
        variant=variant,
        personalize=True,
    )
    return draft, problem


async def preview(request: Request) -> Response:
    ctx = context_of(request)
    now = ctx.clock()
    newsletter_date = _date(ctx, request.query_params.get("date") or ctx.preview_date, now)
    draft, problem = _draft(ctx, request, newsletter_date, now)
    rendered = pipeline.preview_personalized(ctx.settings, draft.rendered)
    width = 375 if request.query_params.get("width") == "375" else 600
    params = {"date": newsletter_date.isoformat()}
    for name in ("subscriber", "variant", "language"):
        if request.query_params.get(name):
            params[name] = request.query_params[name]

    def query(**extra: Any) -> str:
        return urlencode(params | {k: str(v) for k, v in extra.items()})

    def variant_query(key: str) -> str:
        kept = {k: v for k, v in params.items() if k not in ("subscriber", "variant")}
        return urlencode(kept | {"variant": key})

    # The preview is for editors and stays in English, like the CLI.
    return ctx.page(
        "web/preview.html.j2",
        language="en",
        date=newsletter_date.isoformat(),
        frozen=draft.plan.frozen,
        items=draft.items,
        candidates=draft.plan.candidates,
        thin_reason=draft.plan.thin_reason,
        skipped=draft.plan.skipped,
        variants=draft.plan.variants,
        variant=draft.variant,
        variant_query=variant_query,
        subscriber=request.query_params.get("subscriber", ""),
        problem=problem,
        subject=rendered.subject,
        preheader=rendered.preheader,
        text=rendered.text,
        width=width,
        query=query,
        html_url=f"/preview/html?{urlencode(params)}",
        text_url=f"/preview/text?{urlencode(params)}",
    )


async def preview_part(request: Request) -> Response:
    ctx = context_of(request)
    part = request.path_params["part"]
    if part not in ("html", "text"):
        return PlainTextResponse("Not found", status_code=404)
    now = ctx.clock()
    newsletter_date = _date(ctx, request.query_params.get("date"), now)
    draft, _problem = _draft(ctx, request, newsletter_date, now)
    rendered = pipeline.preview_personalized(ctx.settings, draft.rendered)
    return PlainTextResponse(rendered.text) if part == "text" else HTMLResponse(rendered.html)
