"""The outbox backend: every message becomes an .eml file instead of being sent.

Files land in ``<delivery.outbox_dir>/<edition_date>/<subscriber_id>-<email>.eml``
(the names come from ``message.custom_args``), so one edition is one folder and
one subscriber is one file. Open them in any mail client, or parse them in tests.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path

from digest.delivery.base import Backend, OutgoingMessage, SendResult
from digest.delivery.mime import build_email
from digest.errors import DeliveryError

_UNSAFE = re.compile(r"[^A-Za-z0-9._@+-]")
_MAX_NAME = 120  # leaves room for the prefix, the suffix and the 255-byte limit


def safe_name(value: str, fallback: str) -> str:
    """``value`` as one portable path segment: no separators, no leading dot."""
    name = _UNSAFE.sub("_", value).lstrip(".")[:_MAX_NAME]
    return name or fallback


class OutboxBackend(Backend):
    """Writes one .eml file per message.

    Sending is idempotent: the same message (same edition and subscriber) always
    goes to the same file, and sending it again replaces that file. Files are
    written to a temporary name in the same folder and renamed into place, so a
    crash leaves either the old file or the new one, never half of one. Files are
    readable by their owner only: they carry signed unsubscribe links.
    """

    name = "outbox"

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def open(self) -> None:
        self._make_folder(self.directory)

    def path_for(self, message: OutgoingMessage) -> Path:
        """Where ``message`` is written."""
        edition = safe_name(message.custom_args.get("edition_date", "messages"), "messages")
        subscriber = safe_name(message.custom_args.get("subscriber_id", "x"), "x")
        recipient = safe_name(message.to_email, "unknown")
        return self.directory / edition / f"{subscriber}-{recipient}.eml"

    def send(self, message: OutgoingMessage) -> SendResult:
        data = build_email(message).as_bytes()
        path = self.path_for(message)
        self._make_folder(path.parent)
        try:
            _write_atomically(path, data)
        except OSError as err:
            raise DeliveryError(
                f"cannot write {path}: {err.strerror or err}",
                hint="check that delivery.outbox_dir is writable and the disk is not full",
            ) from err
        return SendResult(provider_message_id=str(path))

    def _make_folder(self, folder: Path) -> None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            # Not permanent: the message itself is fine; fixing the folder and
            # sending again will work.
            raise DeliveryError(
                f"cannot create the outbox folder {folder}: {err.strerror or err}",
                hint="set delivery.outbox_dir to a folder you can write to",
            ) from err


def _write_atomically(path: Path, data: bytes) -> None:
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        Path(tmp_name).replace(path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    # Makes the rename itself survive a power cut; not possible on every platform.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
