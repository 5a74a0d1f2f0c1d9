from __future__ import annotations

import email
import email.policy
from dataclasses import replace
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest

from digest.delivery import OutgoingMessage
from digest.delivery.mime import build_email, encode_header_value
from digest.errors import DeliveryError

UNSUBSCRIBE = "https://news.example.com/unsubscribe/" + "eyJzIjo0Mn0.Zx9-" * 12
LIST_UNSUBSCRIBE = f"<{UNSUBSCRIBE}>, <mailto:unsubscribe@example.com?subject=unsubscribe>"

MESSAGE = OutgoingMessage(
    to_email="hans@example.com",
    to_name="Hans Müller",
    from_email="digest@example.com",
    from_name="KI-Morgenpost für Entscheider",
    subject="Täglich: Künstliche Intelligenz – die Übersicht vom 25. November",
    text="Guten Morgen, Hans!\n\n1. Große Sprachmodelle … werden kleiner.\n",
    html="<html><body><p>Guten Morgen, Hans!</p>" + "<a href='x'>Ä</a>" * 400 + "</body></html>",
    message_id="<digest.2026-11-25.42@example.com>",
    date=datetime(2026, 11, 25, 5, 0, tzinfo=UTC),
    reply_to="redaktion@example.com",
    headers={
        "List-Unsubscribe": LIST_UNSUBSCRIBE,
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Id": "KI-Morgenpost für Entscheider <ki-morgenpost.example.com>",
    },
)


def roundtrip(message: OutgoingMessage) -> tuple[bytes, EmailMessage]:
    raw = build_email(message).as_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return raw, parsed


def decoded(part: EmailMessage) -> str:
    return str(part.get_content()).replace("\r\n", "\n")


def test_parts_decode_to_the_exact_text_and_html_text_first() -> None:
    _, parsed = roundtrip(MESSAGE)
    assert parsed.get_content_type() == "multipart/alternative"
    text, html = parsed.iter_parts()
    assert isinstance(text, EmailMessage) and isinstance(html, EmailMessage)
    assert text.get_content_type() == "text/plain"
    assert html.get_content_type() == "text/html"
    for part in (text, html):
        assert part.get_content_charset() == "utf-8"
        assert part["Content-Transfer-Encoding"] == "quoted-printable"
    assert decoded(text) == MESSAGE.text
    assert decoded(html) == MESSAGE.html


@pytest.mark.parametrize("text", ["no newline at the end", "ends with one\n", "a\n\nb  \n\n"])
def test_text_round_trips_with_or_without_final_newline(text: str) -> None:
    _, parsed = roundtrip(replace(MESSAGE, text=text))
    assert decoded(next(parsed.iter_parts())) == text  # type: ignore[arg-type]


def test_headers_parse_back_to_the_given_values() -> None:
    _, parsed = roundtrip(MESSAGE)
    assert parsed["Subject"] == MESSAGE.subject
    assert parsed["From"].addresses[0].display_name == MESSAGE.from_name
    assert parsed["From"].addresses[0].addr_spec == MESSAGE.from_email
    assert parsed["To"].addresses[0].display_name == "Hans Müller"
    assert parsed["To"].addresses[0].addr_spec == "hans@example.com"
    assert parsed["Reply-To"] == "redaktion@example.com"
    assert parsed["Message-ID"] == MESSAGE.message_id
    assert parsed["MIME-Version"] == "1.0"
    assert parsed["Date"].datetime == MESSAGE.date
    for name, value in MESSAGE.headers.items():
        assert str(parsed[name]) == value


def test_lines_end_in_crlf_and_stay_short() -> None:
    raw, _ = roundtrip(MESSAGE)
    assert raw.count(b"\n") == raw.count(b"\r\n")
    lines = raw.split(b"\r\n")
    assert max(len(line) for line in lines) <= 998
    body = raw.split(b"\r\n\r\n", 1)[1]
    # Quoted-printable keeps the 9 kB of one-line HTML at 76 characters a line.
    assert max(len(line) for line in body.split(b"\r\n")) <= 76
    assert raw.isascii()


def test_non_ascii_header_values_use_encoded_words() -> None:
    raw, _ = roundtrip(MESSAGE)
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    assert "=?utf-8?" in head.split("Subject:", 1)[1].split("\r\nDate:", 1)[0]
    assert "From: KI-Morgenpost =?utf-8?q?f=C3=BCr?= Entscheider <digest@example.com>" in head


def test_long_list_unsubscribe_folds_at_spaces_never_into_encoded_words() -> None:
    raw, parsed = roundtrip(MESSAGE)
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    field = head.split("List-Unsubscribe:", 1)[1].split("\r\nList-Unsubscribe-Post:", 1)[0]
    # Mail clients need the URL itself: RFC 2369 does not allow encoded-words here.
    assert "=?" not in field
    assert f"<{UNSUBSCRIBE}>," in field
    assert "\r\n <mailto:" in field  # folded between the two targets
    assert str(parsed["List-Unsubscribe"]) == LIST_UNSUBSCRIBE


def test_short_ascii_headers_stay_on_one_line() -> None:
    raw, _ = roundtrip(MESSAGE)
    assert b"\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in raw


def test_same_message_gives_the_same_bytes() -> None:
    assert build_email(MESSAGE).as_bytes() == build_email(MESSAGE).as_bytes()


def test_missing_date_uses_now() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    _, parsed = roundtrip(replace(MESSAGE, date=None))
    assert before <= parsed["Date"].datetime <= datetime.now(UTC)


def test_name_with_comma_is_quoted() -> None:
    _, parsed = roundtrip(replace(MESSAGE, to_name="Müller, Hans", reply_to=None))
    assert parsed["To"].addresses[0].display_name == "Müller, Hans"
    assert parsed["Reply-To"] is None


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"subject": "Hello\nBcc: victim@example.com"}, "line"),
        ({"headers": {"X-Note": "a\r\nBcc: victim@example.com"}}, "line break"),
        ({"headers": {"Subject": "again"}}, "Subject"),
        ({"headers": {"Bad Name": "x"}}, "header name"),
        ({"headers": {"List-Unsubscribe": "<https://example.com/ä>"}}, "ASCII"),
        ({"headers": {"List-Unsubscribe": f"<https://example.com/{'a' * 1000}>"}}, "at most"),
        ({"to_email": "not an address"}, "not an address"),
    ],
)
def test_bad_input_is_a_permanent_error(changes: dict[str, object], needle: str) -> None:
    with pytest.raises(DeliveryError) as caught:
        build_email(replace(MESSAGE, **changes))  # type: ignore[arg-type]
    assert caught.value.permanent
    assert needle in str(caught.value)


def test_encode_header_value_keeps_ascii_and_encodes_the_rest() -> None:
    assert encode_header_value("List-Id", "Digest <d.example.com>") == "Digest <d.example.com>"
    encoded = encode_header_value("List-Id", "Für alle <d.example.com>")
    assert encoded.isascii() and encoded.endswith("<d.example.com>")
    assert (
        str(email.policy.default.header_factory("List-Id", encoded)) == "Für alle <d.example.com>"
    )
