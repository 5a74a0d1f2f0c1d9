"""Sign-up form and double opt-in confirmation.

``GET /subscribe`` shows the form; ``POST /subscribe`` runs the protections
(rate limit, CSRF and Origin, honeypot, minimum fill time), records the
sign-up as pending with its consent record and, when due, sends the
confirmation email. The answer is always the same "check your inbox" page,
whether the address is new, pending or already subscribed, and for bots too;
only an invalid field re-shows the form.

``GET /confirm/{token}`` only shows a button; ``POST`` confirms. Corporate
link scanners fetch every link in an email, and confirming on GET would let a
scanner create consent that nobody gave.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from starlette.background import BackgroundTask
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from digest import signup, subscribers
from digest.delivery import OutgoingMessage, get_backend
from digest.delivery.compose import sender_domain
from digest.errors import DigestError, InputError
from digest.render.confirmation import Confirmation
from digest.render.i18n import translations
from digest.store.models import Subscriber, SubscriberStatus
from digest.web.pages import (
    LANGUAGE_NAMES,
    MAX_NAME,
    FieldErrors,
    WebContext,
    client_ip,
    context_of,
)
from digest.web.protection import HONEYPOT_FIELD, Verdict

log = logging.getLogger(__name__)

SOURCE = "web form"


@dataclass
class SignUpForm:
    email: str = ""
    name: str = ""
    language: str = ""
    topics: list[str] = field(default_factory=list)


def consent_sentence(language: str, newsletter_name: str) -> str:
    """The sentence next to the button, stored verbatim as the consent text."""
    _ = translations(language).gettext
    return _(
        "I would like to receive %(name)s by email every day. I can unsubscribe at any "
        "time with the link at the end of every email."
    ) % {"name": newsletter_name}


def confirm_max_age(ctx: WebContext) -> timedelta:
    value: timedelta = ctx.settings.web.confirm_max_age
    return value


# --------------------------------------------------------------------------- the form


def _form_page(
    ctx: WebContext,
    request: Request,
    language: str,
    values: SignUpForm,
    *,
    errors: FieldErrors | None = None,
    token: str | None = None,
) -> Response:
    issued = None
    if token is None:
        issued = ctx.guard.issue(request)
        token = issued.token
    response = ctx.page(
        "web/subscribe.html.j2",
        language=language,
        status=400 if errors else 200,
        token=token,
        values=values,
        errors=errors or FieldErrors(),
        topics=ctx.topics,
        languages=LANGUAGE_NAMES,
        honeypot=HONEYPOT_FIELD,
        consent=consent_sentence(language, ctx.settings.newsletter.name),
    )
    if issued is not None:
        ctx.guard.set_cookie(response, request, issued)
    return response


async def subscribe_form(request: Request) -> Response:
    ctx = context_of(request)
    language = ctx.language_for(request)
    return _form_page(ctx, request, language, SignUpForm(language=language))


def _check_inbox(ctx: WebContext, language: str, email: str) -> Response:
    # The one answer to every sign-up that got past validation: it must not
    # tell whether the address was new, pending, subscribed or judged a bot.
    _ = translations(language).gettext
    return ctx.message(
        language,
        _("Please check your inbox"),
        _(
            "Unless %(email)s is already subscribed, we have sent it an email with a "
            "confirmation link. Your subscription starts when you click it. Nothing "
            "there? Look in your spam folder, or try again in an hour."
        )
        % {"email": email},
    )


def _shown_address(raw: str) -> str:
    # Normalized as for a real sign-up, so a bot's page is the same as a person's.
    try:
        return subscribers.normalize_email(raw)
    except InputError:
        return raw


def _read_form(form: FormData, language: str) -> SignUpForm:
    topics = [value for value in form.getlist("topics") if isinstance(value, str)]
    return SignUpForm(
        email=_text(form, "email"),
        name=_text(form, "name"),
        language=_text(form, "language") or language,
        topics=topics,
    )


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _validate(values: SignUpForm, language: str, allowed_topics: Sequence[str]) -> FieldErrors:
    _ = translations(language).gettext
    errors = FieldErrors()
    if not values.email:
        errors["email"] = _("Please enter your email address.")
    else:
        try:
            subscribers.normalize_email(values.email)
        except InputError:
            errors["email"] = _(
                "This is not a valid email address. Please check it (example: name@example.com)."
            )
    if len(values.name) > MAX_NAME:
        errors["name"] = _("Please enter a shorter name.")
    if values.language not in subscribers.LANGUAGES:
        errors["language"] = _("Please choose one of the languages in the list.")
    if any(topic not in allowed_topics for topic in values.topics):
        errors["topics"] = _("Please choose from the topics in the list.")
    return errors


async def subscribe_submit(request: Request) -> Response:
    ctx = context_of(request)
    now = ctx.clock()
    ip = client_ip(request)
    form = await request.form()
    shown_in = form.get("form_lang")
    language = shown_in if isinstance(shown_in, str) and shown_in in subscribers.LANGUAGES else None
    language = language or ctx.language_for(request)
    _ = translations(language).gettext

    # Counted first, so a flood of forged or bot posts is limited too.
    if not ctx.limiter.hit(ip or "unknown", now):
        return ctx.message(
            language,
            _("Too many sign-ups"),
            _("Too many sign-ups came from your network. Please try again in an hour."),
            status=429,
            headers={"Retry-After": str(ctx.limiter.retry_after(ip or "unknown", now))},
        )
    values = _read_form(form, language)
    verdict = ctx.guard.check(request, form)
    if verdict is Verdict.FORGED:
        return ctx.message(
            language,
            _("Please try again"),
            _("The form was too old or incomplete, so nothing was saved. Please fill it in again."),
            status=403,
            link=(f"/subscribe?lang={language}", _("Back to the sign-up form")),
        )
    if verdict is Verdict.BOT:
        log.info("sign-up from %s dropped as a bot", ip)
        return _check_inbox(ctx, language, _shown_address(values.email))

    errors = _validate(values, language, ctx.topics)
    if errors:
        token = form.get("form_token")
        # The same token again: a person fixing a typo within two seconds must
        # not be taken for a bot.
        return _form_page(ctx, request, language, values, errors=errors, token=str(token))
    consent = consent_sentence(language, ctx.settings.newsletter.name)
    wanted = signup.SignUp(
        email=values.email,
        name=values.name or None,
        language=values.language,
        topics=values.topics,
        ip=ip,
        source=SOURCE,
        consent_text=consent,
    )
    outcome = _sign_up(ctx, wanted, now)
    response = _check_inbox(ctx, language, _shown_address(values.email))
    if outcome.send_confirmation:
        # After the response: the page must take as long for a known address
        # (no email) as for a new one, or its timing would tell.
        response.background = BackgroundTask(send_confirmation, ctx, outcome.subscriber_id)
    return response


def _sign_up(ctx: WebContext, wanted: signup.SignUp, now: datetime) -> signup.SignUpOutcome:
    try:
        with ctx.db.session() as session:
            return signup.sign_up(session, wanted, allowed_topics=ctx.topics, now=now)
    except IntegrityError:
        # The same new address sent twice at once: the other request created
        # it; this one now finds it.
        with ctx.db.session() as session:
            return signup.sign_up(session, wanted, allowed_topics=ctx.topics, now=now)


# --------------------------------------------------------------------------- the email


def confirm_url(ctx: WebContext, subscriber_id: int) -> str:
    token = ctx.signer.sign_timed(subscriber_id, "confirm")
    return f"{ctx.settings.newsletter.base_url}/confirm/{token}"


def confirmation_message(ctx: WebContext, subscriber: Subscriber) -> OutgoingMessage:
    """The double opt-in email for ``subscriber``, in the language they chose."""
    settings = ctx.settings
    language = subscriber.language or settings.newsletter.language
    rendered = ctx.confirmation_renderer(language).render_confirmation(
        Confirmation(
            email=subscriber.email,
            confirm_url=confirm_url(ctx, subscriber.id),
            valid_for=confirm_max_age(ctx),
        )
    )
    newsletter = settings.newsletter
    return OutgoingMessage(
        to_email=subscriber.email,
        to_name=subscriber.name,
        from_email=newsletter.from_email,
        from_name=newsletter.sender_name,
        reply_to=newsletter.reply_to,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        # Unique per send: a resent confirmation is a new message.
        message_id=f"<confirm.{subscriber.id}.{secrets.token_hex(8)}@{sender_domain(settings)}>",
        date=ctx.clock(),
        # Transactional: no List-Unsubscribe, there is nothing to unsubscribe from yet.
        custom_args={"kind": "confirmation", "subscriber_id": str(subscriber.id)},
    )


def send_confirmation(ctx: WebContext, subscriber_id: int) -> bool:
    """Send the confirmation email; True if the backend took it.

    On failure the send is logged and forgotten in the subscriber's record,
    so that signing up again sends one at once instead of an hour later.
    """
    with ctx.db.session() as session:
        subscriber = session.get(Subscriber, subscriber_id)
        if subscriber is None or subscriber.status != SubscriberStatus.PENDING:
            return False
        message = confirmation_message(ctx, subscriber)
    try:
        with get_backend(ctx.settings) as backend:
            backend.send(message)
    except DigestError as err:
        log.error("confirmation email to subscriber %s failed: %s", subscriber_id, err)
        with ctx.db.session() as session:
            subscriber = session.get(Subscriber, subscriber_id)
            if subscriber is not None:
                subscriber.confirmation_sent_at = None
                subscribers.record(
                    session, subscriber, "confirmation_failed", now=ctx.clock(), error=str(err)
                )
        return False
    return True


# --------------------------------------------------------------------------- confirm


def _pending_for(ctx: WebContext, token: str) -> Subscriber | None:
    """The subscriber a confirmation token is for, if it is genuine and still valid.

    Valid means: signed by us, younger than web.confirm_max_age by the
    signature's own clock, and the last confirmation email (by the app's
    clock) no older than that either.
    """
    max_age = confirm_max_age(ctx)
    subscriber_id = ctx.signer.verify_timed(token, "confirm", max_age)
    if not isinstance(subscriber_id, int):
        return None
    with ctx.db.session() as session:
        subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None:
        return None
    sent = subscriber.confirmation_sent_at or subscriber.consent_at
    if subscriber.status == SubscriberStatus.PENDING and (
        sent is None or ctx.clock() - sent > max_age
    ):
        return None
    if subscriber.status not in (
        SubscriberStatus.PENDING,
        SubscriberStatus.ACTIVE,
        SubscriberStatus.PAUSED,
    ):
        # Left (or bounced) since confirming: an old link must not bring them back.
        return None
    return subscriber


def subscribed_page(ctx: WebContext, subscriber: Subscriber, heading: str) -> Response:
    language = subscriber.language or ctx.settings.newsletter.language
    return ctx.page(
        "web/subscribed.html.j2",
        language=language,
        heading=heading,
        email=subscriber.email,
        preferences_url=ctx.link(subscriber.id, "preferences"),
    )


async def confirm(request: Request) -> Response:
    ctx = context_of(request)
    token = request.path_params["token"]
    subscriber = _pending_for(ctx, token)
    if subscriber is None:
        return ctx.invalid_link(ctx.language_for(request), sign_up=True)
    language = ctx.language_for(request, subscriber)
    _ = translations(language).gettext
    if subscriber.status == SubscriberStatus.PENDING and request.method == "GET":
        return ctx.page(
            "web/confirm.html.j2",
            language=language,
            email=subscriber.email,
            action=request.url.path,
        )
    if request.method == "POST":
        with ctx.db.session() as session:
            current = session.get(Subscriber, subscriber.id)
            if current is not None:
                signup.confirm(session, current, ip=client_ip(request), now=ctx.clock())
    return subscribed_page(ctx, subscriber, _("You're subscribed"))
