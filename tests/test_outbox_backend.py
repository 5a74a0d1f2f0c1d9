from __future__ import annotations

import email
import email.policy
from dataclasses import replace
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest

from digest.config import Settings
from digest.delivery import OutgoingMessage, get_backend
from digest.delivery.outbox import OutboxBackend
from digest.errors import DeliveryError


def message(subscriber_id: int, to_email: str, edition_date: str = "2026-11-25") -> OutgoingMessage:
    return OutgoingMessage(
        to_email=to_email,
        to_name=None,
        from_email="digest@example.com",
        from_name="KI-Morgenpost",
        subject="Die KI-Morgenpost vom 25. November",
        text=f"Hallo {to_email}\n",
        html=f"<p>Hallo {to_email}</p>",
        message_id=f"<digest.{edition_date}.{subscriber_id}@example.com>",
        date=datetime(2026, 11, 25, 5, 0, tzinfo=UTC),
        headers={"List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
        custom_args={"edition_date": edition_date, "subscriber_id": str(subscriber_id)},
    )


def parse(path: Path) -> EmailMessage:
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_one_parseable_file_per_recipient_in_the_edition_folder(tmp_path: Path) -> None:
    with OutboxBackend(tmp_path / "outbox") as backend:
        first = backend.send(message(1, "anna@example.com"))
        second = backend.send(message(2, "ben+news@example.org"))

    folder = tmp_path / "outbox" / "2026-11-25"
    assert sorted(p.name for p in folder.iterdir()) == [
        "1-anna@example.com.eml",
        "2-ben+news@example.org.eml",
    ]
    assert first.provider_message_id == str(folder / "1-anna@example.com.eml")
    assert second.provider_message_id == str(folder / "2-ben+news@example.org.eml")
    parsed = parse(folder / "1-anna@example.com.eml")
    assert parsed["To"] == "anna@example.com"
    assert parsed["Message-ID"] == "<digest.2026-11-25.1@example.com>"
    text = next(parsed.iter_parts())
    assert isinstance(text, EmailMessage)
    assert text.get_content().replace("\r\n", "\n") == "Hallo anna@example.com\n"


def test_sending_again_overwrites_the_same_file_and_leaves_no_temp_files(tmp_path: Path) -> None:
    backend = OutboxBackend(tmp_path)
    original = message(7, "anna@example.com")
    first = backend.send(original)
    path = Path(first.provider_message_id or "")
    before = path.read_bytes()

    assert backend.send(original).provider_message_id == str(path)
    assert path.read_bytes() == before  # a re-run writes identical files

    backend.send(replace(original, subject="Korrigiert"))
    assert parse(path)["Subject"] == "Korrigiert"
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_a_failed_write_keeps_the_old_file_and_removes_the_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = OutboxBackend(tmp_path)
    path = Path(backend.send(message(7, "anna@example.com")).provider_message_id or "")
    before = path.read_bytes()

    def crash(self: Path, target: Path) -> Path:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "replace", crash)
    with pytest.raises(DeliveryError) as caught:
        backend.send(replace(message(7, "anna@example.com"), subject="Neu"))
    assert not caught.value.permanent
    assert "No space left on device" in str(caught.value)
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_names_are_made_filesystem_safe(tmp_path: Path) -> None:
    odd = replace(
        message(3, "o'neil/news@example.com"),
        custom_args={"edition_date": "../../escape", "subscriber_id": "3"},
    )
    path = Path(OutboxBackend(tmp_path).send(odd).provider_message_id or "")
    assert path.parent.parent == tmp_path
    assert path.name == "3-o_neil_news@example.com.eml"


def test_messages_without_edition_or_subscriber_ids(tmp_path: Path) -> None:
    bare = replace(message(1, "anna@example.com"), custom_args={})
    path = Path(OutboxBackend(tmp_path).send(bare).provider_message_id or "")
    assert path == tmp_path / "messages" / "x-anna@example.com.eml"


def test_unwritable_folder_is_an_error_naming_the_setting(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the outbox should be")
    backend = OutboxBackend(blocker / "outbox")
    with pytest.raises(DeliveryError) as caught:
        backend.open()
    assert "delivery.outbox_dir" in str(caught.value)
    with pytest.raises(DeliveryError, match=r"delivery\.outbox_dir"):
        backend.send(message(1, "anna@example.com"))


def test_get_backend_uses_the_resolved_outbox_dir(tmp_path: Path) -> None:
    settings = Settings.model_validate(
        {"base_dir": tmp_path, "delivery": {"backend": "outbox", "outbox_dir": "var/out"}}
    )
    backend = get_backend(settings)
    assert isinstance(backend, OutboxBackend)
    assert backend.directory == tmp_path / "var" / "out"
