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
from digest.web.pages import WebContext, context_of


def _next_date(ctx: WebContext, now: datetime) -> date:
    with ctx.db.session() as session:
        return editions.next_date(session, ctx.settings, now)


def _date(ctx: WebContext, date_arg: str | None, now: datetime) -> date:
    if date_arg:
        return pipeline.resolve_date(date_arg, ctx.settings, now)
    return _next_date(ctx, now)


async def preview(request: Request) -> Response:
    ctx = context_of(request)
    now = ctx.clock()
    newsletter_date = _date(ctx, request.query_params.get("date") or ctx.preview_date, now)
    draft = pipeline.draft(ctx.db, ctx.settings, newsletter_date, now, renderer=ctx.renderer)
    rendered = pipeline.preview_personalized(ctx.settings, draft.rendered)
    width = 375 if request.query_params.get("width") == "375" else 600
    params = {"date": newsletter_date.isoformat()}

    def query(**extra: Any) -> str:
        return urlencode(params | {k: str(v) for k, v in extra.items()})

    # The preview is for editors and stays in English, like the CLI.
    return ctx.page(
        "web/preview.html.j2",
        language="en",
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


async def preview_part(request: Request) -> Response:
    ctx = context_of(request)
    part = request.path_params["part"]
    if part not in ("html", "text"):
        return PlainTextResponse("Not found", status_code=404)
    now = ctx.clock()
    newsletter_date = _date(ctx, request.query_params.get("date"), now)
    draft = pipeline.draft(ctx.db, ctx.settings, newsletter_date, now, renderer=ctx.renderer)
    rendered = pipeline.preview_personalized(ctx.settings, draft.rendered)
    return PlainTextResponse(rendered.text) if part == "text" else HTMLResponse(rendered.html)
