"""Provider webhooks (SendGrid Event Webhook). Routes are mounted by digest.web.app."""

from __future__ import annotations

from starlette.routing import BaseRoute

routes: list[BaseRoute] = []
