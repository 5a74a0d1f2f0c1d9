"""The web app: preview, unsubscribe and preferences."""

from digest.web.app import create_app

__all__ = ["create_app"]
