"""The preferences page: details, pause or resume, unsubscribe, and the way back.

``POST /preferences/{token}`` takes an ``action`` (save, pause, resume,
unsubscribe, resubscribe) and answers with a 303 to the page, which then shows
what happened (post/redirect/get, so a reload does not post again). A field
that does not validate re-shows the form with the message and saves nothing.
Like the unsubscribe link, the token is the capability: no login, no cookie.
"""

from __future__ import annotations

from datetime import time, timedelta
from functools import cache
from typing import Final
from urllib.parse import urlencode
from zoneinfo import available_timezones

from sqlalchemy import func, select
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from digest import subscribers
from digest.errors import InputError
from digest.render.i18n import translations
from digest.store.models import Article, Subscriber, SubscriberStatus
from digest.web.pages import LANGUAGE_NAMES, MAX_NAME, FieldErrors, WebContext, context_of

# First in the list: where most readers of a German publisher live.
COMMON_ZONES: Final = (
    "Europe/Berlin",
    "Europe/Vienna",
    "Europe/Zurich",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Paris",
    "Europe/Amsterdam",
    "Europe/Brussels",
    "Europe/Luxembourg",
    "Europe/Copenhagen",
    "Europe/Stockholm",
    "Europe/Oslo",
    "Europe/Helsinki",
    "Europe/Warsaw",
    "Europe/Prague",
    "Europe/Budapest",
    "Europe/Rome",
    "Europe/Madrid",
    "Europe/Lisbon",
    "Europe/Athens",
    "Europe/Istanbul",
    "UTC",
)
_REGIONS: Final = (
    "Africa/",
    "America/",
    "Antarctica/",
    "Asia/",
    "Atlantic/",
    "Australia/",
    "Europe/",
    "Indian/",
    "Pacific/",
)
# Delivery times on offer: every half hour.
DELIVERY_TIMES: Final = tuple(f"{h:02d}:{m:02d}" for h in range(24) for m in (0, 30))
ACTIONS: Final = ("save", "pause", "resume", "unsubscribe", "resubscribe")


@cache
def all_zones() -> tuple[str, ...]:
    """IANA zone names by region (no legacy aliases such as US/Eastern)."""
    return (*sorted(z for z in available_timezones() if z.startswith(_REGIONS)), "UTC")


def _values(ctx: WebContext, subscriber: Subscriber) -> dict[str, object]:
    return {
        "name": subscriber.name or "",
        "language": subscriber.language or ctx.settings.newsletter.language,
        "topics": list(subscriber.topics or []),
        "timezone": subscriber.timezone or "",
        "delivery_time": subscriber.delivery_time or "",
        "muted_sources": list(subscriber.muted_sources or []),
    }


# Sources offered for muting: those of the articles of the last 30 days.
SOURCES_DAYS: Final = 30
MAX_SOURCES: Final = 40


def sources_offered(ctx: WebContext, subscriber: Subscriber) -> list[str]:
    since = ctx.clock() - timedelta(days=SOURCES_DAYS)
    with ctx.db.session() as session:
        recent = session.scalars(
            select(Article.source)
            .where(Article.source.is_not(None), Article.published_at >= since)
            .group_by(Article.source)
            .order_by(func.count().desc(), Article.source)
            .limit(MAX_SOURCES)
        ).all()
    return sorted({*(s for s in recent if s), *(subscriber.muted_sources or [])})


def _notices(language: str) -> dict[str, str]:
    _ = translations(language).gettext
    return {
        "saved": _("Your preferences have been saved."),
        "paused": _("The newsletter is paused. You can resume it here at any time."),
        "resumed": _("Welcome back: the newsletter comes again from the next edition on."),
        "unsubscribed": _("You are unsubscribed."),
        "resubscribed": _("You are subscribed again."),
    }


def _page(
    ctx: WebContext,
    request: Request,
    subscriber: Subscriber,
    *,
    values: dict[str, object] | None = None,
    errors: FieldErrors | None = None,
    sources: list[str] | None = None,
) -> Response:
    language = ctx.language_for(request, subscriber)
    values = values or _values(ctx, subscriber)
    zones = all_zones()
    current_zone = str(values["timezone"])
    if current_zone and current_zone not in zones:
        zones = (*zones, current_zone)
    times = list(DELIVERY_TIMES)
    current_time = str(values["delivery_time"])
    if current_time and current_time not in times:
        # Set elsewhere (CLI, import) to a time off the half-hour grid: keep it.
        times = sorted({*times, current_time})
    done = request.query_params.get("done", "")
    return ctx.page(
        "web/preferences.html.j2",
        language=language,
        status=400 if errors else 200,
        email=subscriber.email,
        state=str(subscriber.status),
        notice=_notices(language).get(done, "") if not errors else "",
        errors=errors or FieldErrors(),
        values=values,
        topics=ctx.topics,
        # Read before a write transaction: SQLite would wait for it to end.
        sources=sources if sources is not None else sources_offered(ctx, subscriber),
        languages=LANGUAGE_NAMES,
        common_zones=COMMON_ZONES,
        all_zones=zones,
        delivery_times=times,
        send_time=_clock_label(ctx.settings.schedule.send_time),
        action=request.url.path,
    )


def _clock_label(value: time) -> str:
    return value.strftime("%H:%M")


async def preferences(request: Request) -> Response:
    ctx = context_of(request)
    token = request.path_params["token"]
    subscriber = ctx.subscriber_for(token, "preferences")
    if subscriber is None or subscriber.status == SubscriberStatus.PENDING:
        # Pending addresses never got a preferences link; treat it as forged.
        return ctx.invalid_link(ctx.language_for(request))
    if request.method == "GET":
        return _page(ctx, request, subscriber)
    form = await request.form()
    action = form.get("action")
    if action not in ACTIONS:
        return _page(ctx, request, subscriber)
    offered = sources_offered(ctx, subscriber)
    with ctx.db.session() as session:
        current = session.get(Subscriber, subscriber.id)
        if current is None:
            return ctx.invalid_link(ctx.language_for(request))
        now = ctx.clock()
        if action == "save":
            if current.status not in (SubscriberStatus.ACTIVE, SubscriberStatus.PAUSED):
                return _page(ctx, request, current, sources=offered)
            values, errors = _read(
                form,
                current,
                ctx.topics,
                ctx.language_for(request, current),
                sources=offered,
            )
            if errors:
                return _page(ctx, request, current, values=values, errors=errors, sources=offered)
            subscribers.update_preferences(
                session,
                current,
                subscribers.Preferences(
                    name=str(values["name"]) or None,
                    language=_language(ctx, current, str(values["language"])),
                    topics=list(_topics(values)),
                    timezone=str(values["timezone"]) or None,
                    delivery_time=str(values["delivery_time"]) or None,
                    muted_sources=_list(values, "muted_sources"),
                ),
                allowed_topics=ctx.topics,
                now=now,
            )
            done = "saved"
        elif action == "pause":
            subscribers.pause(session, current, now=now)
            done = "paused"
        elif action == "resume":
            subscribers.resume(session, current, now=now)
            done = "resumed"
        elif action == "unsubscribe":
            subscribers.unsubscribe(session, current, now=now, reason="preferences page")
            done = "unsubscribed"
        else:
            subscribers.undo_unsubscribe(session, current, now=now)
            done = "resubscribed"
    return RedirectResponse(f"{request.url.path}?{urlencode({'done': done})}", status_code=303)


def _language(ctx: WebContext, subscriber: Subscriber, posted: str) -> str | None:
    # No language stored means "the newsletter's": the form shows that one as
    # selected, and posting it back must not turn it into a choice.
    if subscriber.language is None and posted == ctx.settings.newsletter.language:
        return None
    return posted or None


def _topics(values: dict[str, object]) -> list[str]:
    return _list(values, "topics")


def _list(values: dict[str, object], name: str) -> list[str]:
    found = values.get(name)
    return [str(t) for t in found] if isinstance(found, list) else []


def _read(
    form: FormData,
    subscriber: Subscriber,
    allowed_topics: list[str],
    language: str,
    *,
    sources: list[str],
) -> tuple[dict[str, object], FieldErrors]:
    """The posted values, and a localized message for each field that is wrong."""
    _ = translations(language).gettext

    def text(name: str) -> str:
        value = form.get(name)
        return value.strip() if isinstance(value, str) else ""

    values: dict[str, object] = {
        "name": text("name"),
        "language": text("language"),
        "topics": [t for t in form.getlist("topics") if isinstance(t, str)],
        "muted_sources": [s for s in form.getlist("muted_sources") if isinstance(s, str)],
        "timezone": text("timezone"),
        "delivery_time": text("delivery_time"),
    }
    errors = FieldErrors()
    if len(str(values["name"])) > MAX_NAME:
        errors["name"] = _("Please enter a shorter name.")
    if values["language"] and values["language"] not in subscribers.LANGUAGES:
        errors["language"] = _("Please choose one of the languages in the list.")
    if any(topic not in allowed_topics for topic in _topics(values)):
        errors["topics"] = _("Please choose from the topics in the list.")
    if any(source not in sources for source in _list(values, "muted_sources")):
        errors["muted_sources"] = _("Please choose from the sources in the list.")
    zone = values["timezone"]
    if zone and zone not in all_zones() and zone != subscriber.timezone:
        errors["timezone"] = _("Please choose a time zone from the list.")
    try:
        subscribers.check_delivery_time(str(values["delivery_time"]))
    except InputError:
        errors["delivery_time"] = _("Please choose a delivery time from the list.")
    return values, errors
