"""One error family for the whole project.

Every error a user can cause is a :class:`DigestError`. Its message says what is
wrong and, where it helps, ``hint`` says what to change. The CLI catches
``DigestError`` once, prints ``message`` (and the hint) on one line and exits 1;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class DigestError(Exception):
    """Base class: a problem the user can fix."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(DigestError):
    """The configuration file or an environment override is invalid."""


class InputError(DigestError):
    """A command-line argument or an input file is invalid."""


class IngestError(DigestError):
    """A source (file, feed, page) could not be read at all."""


class StoreError(DigestError):
    """The database cannot be reached or migrated."""


class RenderError(DigestError):
    """A template is broken or the MJML does not compile."""


class EditionError(DigestError):
    """An edition cannot be built or changed in the requested way."""


class DeliveryError(DigestError):
    """A message could not be handed to the delivery backend.

    ``permanent`` tells the send loop whether retrying the same message later
    can succeed (a refused address cannot; a refused connection can).
    ``uncertain`` says the message may have reached the provider anyway (the
    request left, but no answer came back): the send loop then never resends
    it blindly.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        uncertain: bool = False,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.permanent = permanent
        self.uncertain = uncertain


class DeliveryAuthError(DeliveryError):
    """The provider refused our credentials: stop the whole send at once."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message, permanent=False, hint=hint)
