"""Subscribers: the services the CLI, the web app and the webhooks call.

``core`` holds the checks and status changes, ``csvfile`` the export and
import, ``profiles`` the everything-about-one-address view. Import from here:
``from digest import subscribers`` then ``subscribers.add(...)``.
"""

from __future__ import annotations

from digest.subscribers.core import (
    LANGUAGES,
    SUPPRESSIONS,
    AddOutcome,
    Preferences,
    _check_language,
    _check_timezone,
    add,
    check_delivery_time,
    check_status,
    check_topics,
    find,
    list_all,
    normalize_email,
    pause,
    record,
    remove,
    resume,
    suppress,
    undo_unsubscribe,
    unsubscribe,
    update_preferences,
)
from digest.subscribers.csvfile import (
    EXPORT_COLUMNS,
    TOPIC_SEPARATOR,
    ImportProblem,
    ImportReport,
    export_csv,
    export_rows,
    import_csv,
)
from digest.subscribers.profiles import (
    Consent,
    DeliveryEntry,
    HistoryEntry,
    Profile,
    ProviderEntry,
    profile,
)

__all__ = [
    "EXPORT_COLUMNS",
    "LANGUAGES",
    "SUPPRESSIONS",
    "TOPIC_SEPARATOR",
    "AddOutcome",
    "Consent",
    "DeliveryEntry",
    "HistoryEntry",
    "ImportProblem",
    "ImportReport",
    "Preferences",
    "Profile",
    "ProviderEntry",
    "_check_language",
    "_check_timezone",
    "add",
    "check_delivery_time",
    "check_status",
    "check_topics",
    "export_csv",
    "export_rows",
    "find",
    "import_csv",
    "list_all",
    "normalize_email",
    "pause",
    "profile",
    "record",
    "remove",
    "resume",
    "suppress",
    "undo_unsubscribe",
    "unsubscribe",
    "update_preferences",
]
