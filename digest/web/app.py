"""The web app: editor preview and the subscriber-facing pages.

One Starlette app serves both, started by `digest preview` or `digest serve`.

=================================  ==========================================
``/``, ``/preview/{html,text}``    preview of the next edition (editors)
``/subscribe``                     sign-up form (GET) and sign-up (POST)
``/confirm/{token}``               double opt-in: page (GET), confirm (POST)
``/unsubscribe/{token}``           page with one button (GET); one-click (POST)
``/unsubscribe/{token}/undo``      take an unsubscribe back (POST)
``/preferences/{token}``           preferences form (GET) and its actions (POST)
``/healthz``                       liveness probe
provider webhooks                  see :mod:`digest.web.webhooks`
=================================  ==========================================
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from digest import pipeline
from digest.config import Settings
from digest.errors import DigestError
from digest.store.db import Database
from digest.web import preferences, preview, subscribe, unsubscribe, webhooks
from digest.web.pages import WebContext

__all__ = ["WebContext", "create_app"]

SAMPLE_IMAGES = Path(__file__).resolve().parent.parent / "samples" / "images"


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
    routes: list[BaseRoute] = [
        Route("/", preview.preview),
        Route("/preview/{part:str}", preview.preview_part),
        Route("/subscribe", subscribe.subscribe_form, methods=["GET"]),
        Route("/subscribe", subscribe.subscribe_submit, methods=["POST"]),
        Route("/confirm/{token:str}", subscribe.confirm, methods=["GET", "POST"]),
        Route("/unsubscribe/{token:str}", unsubscribe.unsubscribe, methods=["GET", "POST"]),
        Route("/unsubscribe/{token:str}/undo", unsubscribe.undo, methods=["POST"]),
        Route("/preferences/{token:str}", preferences.preferences, methods=["GET", "POST"]),
        Route("/healthz", health),
        *webhooks.routes,
        Mount(
            "/static/samples", StaticFiles(directory=SAMPLE_IMAGES, check_dir=False), name="samples"
        ),
    ]
    app = Starlette(routes=routes, exception_handlers={DigestError: user_error})
    app.state.context = WebContext(settings, database, clock=clock, preview_date=preview_date)
    return app
