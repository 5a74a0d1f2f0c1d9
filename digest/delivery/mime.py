"""Turn an :class:`OutgoingMessage` into an RFC 5322 email (for .eml files and SMTP).

The result is ``multipart/alternative`` with the text part first and the HTML part
second (clients show the last part they understand), both UTF-8 and quoted-printable
so that long HTML lines stay far below the 998-character limit. Lines end in CRLF.

Serialize with ``build_email(message).as_bytes()``: the message carries a policy
that folds headers the way mail clients expect (see :class:`_DigestPolicy`).
"""

from __future__ import annotations

import hashlib
import quopri
import re
from datetime import UTC, datetime
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime

from digest.delivery.base import OutgoingMessage
from digest.errors import DeliveryError

# RFC 5322 2.1.1: a line MUST NOT exceed 998 characters (plus CRLF) and SHOULD
# NOT exceed 78.
MAX_LINE = 998
SOFT_LINE = 78

# Headers that build_email sets from OutgoingMessage fields; message.headers may
# not set them a second time.
OWN_HEADERS = frozenset(
    {
        "from",
        "to",
        "cc",
        "bcc",
        "reply-to",
        "subject",
        "date",
        "message-id",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
    }
)

# RFC 2369 headers whose values are <URL> lists. Encoded-words are not allowed in
# them, so their values must be plain ASCII (percent-encode the URL instead).
URL_LIST_HEADERS = frozenset(
    {
        "list-unsubscribe",
        "list-subscribe",
        "list-help",
        "list-post",
        "list-owner",
        "list-archive",
    }
)

_HEADER_NAME = re.compile(r"[!-9;-~]+")  # printable ASCII except ':' (RFC 5322 2.2)


class _DigestPolicy(EmailPolicy):
    """``email.policy.SMTP`` that never turns plain ASCII into encoded-words.

    The stdlib folder rewrites any word longer than a line as RFC 2047
    encoded-words (``=?utf-8?q?=3Chttps=3A//...?=``). Python parses that back, but
    a List-Unsubscribe URL hidden in encoded-words is invisible to Gmail and
    Yahoo, so one-click unsubscribe would silently stop working. For ASCII values
    we fold only at existing spaces (unfolding gives back the exact value) and let
    a long URL run past 78 characters; non-ASCII values (subjects, display names)
    still get the stdlib's encoded-words.
    """

    def fold(self, name: str, value: str) -> str:
        folded = _fold_ascii(name, value, self.linesep)
        return folded if folded is not None else super().fold(name, value)

    def fold_binary(self, name: str, value: str) -> bytes:
        folded = _fold_ascii(name, value, self.linesep)
        if folded is not None:
            return folded.encode("ascii")
        return super().fold_binary(name, value)


POLICY = _DigestPolicy(linesep="\r\n")  # the same settings as email.policy.SMTP


def _fold_ascii(name: str, value: str, linesep: str) -> str | None:
    text = str(value)
    # Parsed source text keeps its own folding; "=?" would be decoded on parsing.
    if not text.isascii() or "\r" in text or "\n" in text or "=?" in text:
        return None
    lines = [f"{name}:"]
    for word in text.split(" "):
        # Fold only before a space that is followed by text (RFC 5322 3.2.2).
        too_long = len(lines[-1]) + 1 + len(word) > SOFT_LINE
        if word and too_long and lines[-1].strip(" ") != f"{name}:":
            lines.append("")
        lines[-1] += " " + word
    if any(len(line) > MAX_LINE for line in lines):
        return None
    return linesep.join(lines) + linesep


def check_header(name: str, value: str) -> None:
    """Raise a permanent DeliveryError for a header that cannot be sent as given."""
    if not _HEADER_NAME.fullmatch(name):
        raise DeliveryError(
            f"invalid header name {name!r}: use printable ASCII without spaces or ':'",
            permanent=True,
        )
    if "\r" in value or "\n" in value:
        raise DeliveryError(f"header {name} contains a line break", permanent=True)
    if name.lower() in URL_LIST_HEADERS:
        if not value.isascii():
            raise DeliveryError(
                f"header {name} must be ASCII: percent-encode non-ASCII characters in its URLs",
                permanent=True,
            )
        longest = max((len(word) for word in value.split(" ")), default=0)
        if longest + len(name) + 2 > MAX_LINE:
            raise DeliveryError(
                f"header {name} has a URL of {longest} characters; "
                f"email headers allow at most {MAX_LINE - len(name) - 2}",
                permanent=True,
            )


def encode_header_value(name: str, value: str) -> str:
    """The value as one line of ASCII: RFC 2047 encoded-words only where needed."""
    if value.isascii():
        return value
    folded = POLICY.header_factory(name, value).fold(policy=POLICY.clone(max_line_length=0))
    return str(folded).split(":", 1)[1].strip()


def _address(email: str, name: str | None, header: str) -> Address:
    try:
        return Address(display_name=name or "", addr_spec=email)
    except (ValueError, IndexError, HeaderParseError) as err:
        raise DeliveryError(
            f"{header} address {email!r} cannot be written into an email header "
            "(it must be a valid ASCII address)",
            permanent=True,
        ) from err


def _text_part(content: str, subtype: str) -> EmailMessage:
    """A UTF-8 quoted-printable part whose decoded payload is exactly ``content``.

    ``set_content`` would append a newline to content that has none; encoding
    ourselves keeps the round trip exact (up to CRLF line endings on the wire).
    """
    normalized = content.replace("\r\n", "\n").replace("\r", "\n")
    encoded = quopri.encodestring(normalized.encode("utf-8")).decode("ascii")
    part = EmailMessage(policy=POLICY)
    part["Content-Type"] = f'text/{subtype}; charset="utf-8"'
    part["Content-Transfer-Encoding"] = "quoted-printable"
    part.set_payload(encoded)
    return part


def _boundary(message: OutgoingMessage) -> str:
    # Deterministic, so that writing the same message twice gives the same bytes.
    # "=_" never occurs in quoted-printable text, so it cannot clash with a part.
    digest = hashlib.sha256(
        "\0".join((message.message_id, message.text, message.html)).encode("utf-8")
    ).hexdigest()
    return f"=_digest_{digest[:32]}"


def build_email(message: OutgoingMessage) -> EmailMessage:
    """Build the complete email; raise DeliveryError(permanent=True) for bad input."""
    for name, value in message.headers.items():
        if name.lower() in OWN_HEADERS:
            raise DeliveryError(
                f"header {name} is set from the message itself and may not be repeated "
                "in OutgoingMessage.headers",
                permanent=True,
            )
        check_header(name, value)

    msg = EmailMessage(policy=POLICY)
    try:
        msg["From"] = _address(message.from_email, message.from_name, "From")
        msg["To"] = _address(message.to_email, message.to_name, "To")
        if message.reply_to:
            msg["Reply-To"] = _address(message.reply_to, None, "Reply-To")
        msg["Subject"] = message.subject
        msg["Date"] = format_datetime(message.date or datetime.now(UTC))
        msg["Message-ID"] = message.message_id
        msg["MIME-Version"] = "1.0"
        for name, value in message.headers.items():
            msg[name] = value
    except ValueError as err:  # e.g. a line break in the subject
        raise DeliveryError(f"cannot build the email: {err}", permanent=True) from err

    msg.make_alternative(boundary=_boundary(message))
    msg.attach(_text_part(message.text, "plain"))
    msg.attach(_text_part(message.html, "html"))
    return msg
