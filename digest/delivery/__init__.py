"""Delivery: hand finished messages to a transport chosen by ``delivery.backend``.

``get_backend(settings)`` returns the configured :class:`Backend`; adding a backend
means one module with a ``Backend`` subclass and one entry in ``BACKENDS``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TextIO

from digest.config import Settings
from digest.delivery.base import Backend, OutgoingMessage, SendResult
from digest.errors import ConfigError

__all__ = ["BACKENDS", "Backend", "OutgoingMessage", "SendResult", "get_backend"]

BackendFactory = Callable[[Settings, TextIO | None], Backend]


def _outbox(settings: Settings, stream: TextIO | None) -> Backend:
    from digest.delivery.outbox import OutboxBackend

    return OutboxBackend(settings.outbox_dir)


def _console(settings: Settings, stream: TextIO | None) -> Backend:
    from digest.delivery.console import ConsoleBackend

    return ConsoleBackend(stream)


def _sendgrid(settings: Settings, stream: TextIO | None) -> Backend:
    # Imported here so that the outbox and console work without the library.
    from digest.delivery.sendgrid import SendGridBackend

    section = settings.delivery.sendgrid
    return SendGridBackend(
        api_key=settings.sendgrid_api_key,
        api_host=section.api_host,
        timeout=section.timeout.total_seconds(),
        categories=section.categories,
        batch_size=section.batch_size,
        asm_group_id=section.asm_group_id,
        sandbox=section.sandbox,
        retry_deadline=settings.delivery.retry_deadline.total_seconds(),
    )


def _smtp(settings: Settings, stream: TextIO | None) -> Backend:
    from digest.delivery.smtp import SmtpBackend

    section = settings.delivery.smtp
    return SmtpBackend(
        section.host,
        section.port,
        security=section.security,
        username=section.username,
        password=settings.smtp_password,
        timeout=section.timeout.total_seconds(),
    )


BACKENDS: dict[str, BackendFactory] = {
    "outbox": _outbox,
    "console": _console,
    "sendgrid": _sendgrid,
    "smtp": _smtp,
}


def scheduled_sendgrid(settings: Settings, *, send_at: datetime, batch_id: str) -> Backend:
    """The SendGrid backend for a send held by SendGrid until ``send_at`` (at most 72 h)."""
    from digest.delivery.sendgrid import SendGridBackend

    section = settings.delivery.sendgrid
    return SendGridBackend(
        api_key=settings.sendgrid_api_key,
        api_host=section.api_host,
        timeout=section.timeout.total_seconds(),
        categories=section.categories,
        batch_size=section.batch_size,
        asm_group_id=section.asm_group_id,
        sandbox=section.sandbox,
        retry_deadline=settings.delivery.retry_deadline.total_seconds(),
        send_at=send_at,
        batch_id=batch_id,
    )


def get_backend(settings: Settings, *, stream: TextIO | None = None) -> Backend:
    """The backend named by ``delivery.backend``; ``stream`` is for the console backend.

    Raises ConfigError for an unknown name and DeliveryAuthError when SendGrid is
    chosen without ``SENDGRID_API_KEY``.
    """
    name = settings.delivery.backend
    try:
        factory = BACKENDS[name]
    except KeyError:
        choices = ", ".join(sorted(BACKENDS))
        raise ConfigError(
            f"delivery.backend: unknown backend {name!r} (choose one of {choices})"
        ) from None
    return factory(settings, stream)
