"""Unsubscribe: RFC 8058 one-click POST, the footer link's page, and undo.

The unsubscribe URL follows RFC 8058: a POST with ``List-Unsubscribe=One-Click``
(form-encoded or multipart) unsubscribes at once and answers 200 without a
redirect, cookie or login: the signed token is the capability. A GET (a person
clicking the footer link) shows a page with one button that unsubscribes, no
second step; the page after it offers to undo.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from digest import subscribers
from digest.render.i18n import translations
from digest.store.models import Subscriber, SubscriberStatus
from digest.web.pages import WebContext, context_of
from digest.web.subscribe import subscribed_page

# Not receiving anything: the page says so instead of offering the button.
_GONE = (SubscriberStatus.UNSUBSCRIBED, SubscriberStatus.BOUNCED, SubscriberStatus.COMPLAINED)


def _page(ctx: WebContext, request: Request, subscriber: Subscriber, token: str) -> Response:
    done = subscriber.status in _GONE
    can_undo = subscriber.status == SubscriberStatus.UNSUBSCRIBED
    return ctx.page(
        "web/unsubscribe.html.j2",
        language=ctx.language_for(request, subscriber),
        email=subscriber.email,
        done=done,
        action=f"/unsubscribe/{token}",
        undo_url=f"/unsubscribe/{token}/undo" if can_undo else None,
        preferences_url=ctx.link(subscriber.id, "preferences"),
    )


async def _is_one_click(request: Request) -> tuple[bool, bool]:
    """(one-click body present, posted from our own page)."""
    form = await request.form()
    one_click = form.get("List-Unsubscribe") == "One-Click"
    return one_click, form.get("from_page") == "1"


async def unsubscribe(request: Request) -> Response:
    ctx = context_of(request)
    token = request.path_params["token"]
    subscriber = ctx.subscriber_for(token, "unsubscribe")
    if request.method == "GET":
        if subscriber is None:
            return ctx.invalid_link(ctx.language_for(request))
        return _page(ctx, request, subscriber, token)
    one_click, from_page = await _is_one_click(request)
    if subscriber is None or not one_click:
        if from_page:
            return ctx.invalid_link(ctx.language_for(request))
        return PlainTextResponse("Invalid unsubscribe request.", status_code=400)
    with ctx.db.session() as session:
        current = session.get(Subscriber, subscriber.id)
        if current is not None:
            reason = "unsubscribe page" if from_page else "one-click (List-Unsubscribe-Post)"
            subscribers.unsubscribe(session, current, now=ctx.clock(), reason=reason)
            subscriber = current
    if from_page:
        return _page(ctx, request, subscriber, token)
    # RFC 8058: the mailbox provider only needs a 2xx; no redirect, no page.
    return PlainTextResponse("Unsubscribed.", status_code=200)


async def undo(request: Request) -> Response:
    """Take the unsubscribe back (the button on the page after unsubscribing)."""
    ctx = context_of(request)
    token = request.path_params["token"]
    subscriber = ctx.subscriber_for(token, "unsubscribe")
    if subscriber is None:
        return ctx.invalid_link(ctx.language_for(request))
    with ctx.db.session() as session:
        current = session.get(Subscriber, subscriber.id)
        if current is None:
            return ctx.invalid_link(ctx.language_for(request))
        subscribers.undo_unsubscribe(session, current, now=ctx.clock())
    if current.status not in (SubscriberStatus.ACTIVE, SubscriberStatus.PAUSED):
        # Bounced or complained: only a new, confirmed sign-up brings them back.
        return _page(ctx, request, current, token)
    language = ctx.language_for(request, current)
    return subscribed_page(ctx, current, translations(language).gettext("You are subscribed again"))
