"""The JSON bodies of SendGrid's ``POST /v3/mail/send``: types, limits, one message.

:func:`build_payload` turns one finished message into a body with one
personalization; :mod:`digest.delivery.sendgrid_batch` builds the bodies of a
batch from the same pieces.

SendGrid's limits, as documented for v3 Mail Send: at most 1000
personalizations and 1000 recipients per request, each address once per
request, substitutions below 10,000 bytes and custom_args below 10,000 bytes
per personalization, at most 10 categories of up to 255 characters, the whole
email below 30 MB, and ``to.name`` without ``,`` or ``;``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, NotRequired, TypedDict

from digest.delivery.base import OutgoingMessage
from digest.delivery.mime import check_header, encode_header_value
from digest.errors import DeliveryError

log = logging.getLogger(__name__)

# Headers SendGrid builds itself and refuses in "headers" (the request fails with
# 400 "Header can not be one of the reserved keys"). From, To, Subject and Reply-To
# have their own fields; the rest belong to SendGrid's MTA.
RESERVED_HEADERS = frozenset(
    {
        "x-sg-id",
        "x-sg-eid",
        "received",
        "dkim-signature",
        "content-type",
        "content-transfer-encoding",
        "to",
        "from",
        "subject",
        "reply-to",
        "cc",
        "bcc",
    }
)
MAX_CATEGORIES = 10
MAX_CATEGORY_LENGTH = 255
MAX_CUSTOM_ARGS_BYTES = 10_000
MAX_SUBSTITUTION_BYTES = 10_000
MAX_PERSONALIZATIONS = 1000
# "less than 30MB"; counted in decimal megabytes to stay on the safe side.
MAX_REQUEST_BYTES = 30_000_000
MAX_ADDRESS_LENGTH = 254
HTML_TOKEN_SUFFIX = ":html"

# Cheap syntax check, not RFC 5322: one @, no whitespace or control characters,
# none of the characters that would need quoting, a dot in the domain.
_LOCAL_CHAR = r"[^\s\x00-\x1f\x7f@\"(),:;<>\[\\\]]"
_LABEL_CHAR = r"[^\s\x00-\x1f\x7f@\"(),:;<>\[\\\].]"
_ADDRESS_RE = re.compile(
    rf"(?!\.){_LOCAL_CHAR}{{1,64}}(?<!\.)@(?:{_LABEL_CHAR}+\.)+{_LABEL_CHAR}{{2,}}"
)


class EmailObject(TypedDict):
    email: str
    name: NotRequired[str]


class ContentObject(TypedDict):
    type: Literal["text/plain", "text/html"]
    value: str


class Personalization(TypedDict):
    to: list[EmailObject]
    subject: NotRequired[str]
    headers: NotRequired[dict[str, str]]
    custom_args: NotRequired[dict[str, str]]
    substitutions: NotRequired[dict[str, str]]


class AsmObject(TypedDict):
    group_id: int


class SandboxMode(TypedDict):
    enable: bool


class MailSettings(TypedDict):
    sandbox_mode: SandboxMode


# "from" is a Python keyword, hence the functional syntax.
MailPayload = TypedDict(
    "MailPayload",
    {
        "personalizations": list[Personalization],
        "from": EmailObject,
        "reply_to": NotRequired[EmailObject],
        "subject": NotRequired[str],
        "content": list[ContentObject],
        "categories": NotRequired[list[str]],
        "asm": NotRequired[AsmObject],
        "mail_settings": NotRequired[MailSettings],
        "send_at": NotRequired[int],
        "batch_id": NotRequired[str],
    },
)


@dataclass(frozen=True)
class SendOptions:
    """Message-level settings that are the same for every request of a run."""

    categories: tuple[str, ...] = ()
    asm_group_id: int | None = None
    sandbox: bool = False
    # Unix seconds; SendGrid holds the messages until then (at most 72 hours ahead).
    send_at: int | None = None
    # From POST /v3/mail/batch: lets the scheduled send be cancelled.
    batch_id: str | None = None

    def apply(self, payload: MailPayload, categories: Sequence[str] = ()) -> None:
        chosen = _categories(categories or self.categories)
        if chosen:
            payload["categories"] = chosen
        if self.asm_group_id is not None:
            payload["asm"] = {"group_id": self.asm_group_id}
        if self.sandbox:
            payload["mail_settings"] = {"sandbox_mode": {"enable": True}}
        if self.send_at is not None:
            payload["send_at"] = self.send_at
        if self.batch_id:
            payload["batch_id"] = self.batch_id


def email_object(email: str, name: str | None) -> EmailObject:
    obj: EmailObject = {"email": email}
    if name:
        obj["name"] = name
    return obj


def recipient_name(name: str | None) -> str | None:
    """The name as SendGrid accepts it in ``to.name``: one line, no ``,`` or ``;``."""
    # SendGrid documents that to.name may not contain "," or ";" (it splits the
    # address list on them and then drops the message as invalid).
    if not name:
        return None
    if "," in name or ";" in name:
        name = re.sub(r"[,;]", " ", name)
    return " ".join(name.split()) or None


def address_problem(email: str) -> str | None:
    """Why SendGrid would refuse ``email`` as a recipient, or None when it looks fine."""
    if "\r" in email or "\n" in email:
        return "it contains a line break"
    if len(email) > MAX_ADDRESS_LENGTH:
        return f"it is longer than {MAX_ADDRESS_LENGTH} characters"
    if email.rfind("@") > 64:
        return "the part before the @ is longer than 64 characters"
    if ".." in email or not _ADDRESS_RE.fullmatch(email):
        return "it is not of the form name@example.com"
    return None


def _personal_headers(message: OutgoingMessage) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in message.headers.items():
        if name.lower() in RESERVED_HEADERS:
            log.warning("SendGrid does not allow the %s header; it was left out", name)
            continue
        check_header(name, value)
        # SendGrid puts values into the message as given: non-ASCII must be encoded.
        headers[name] = encode_header_value(name, value)
    # SendGrid keeps a Message-ID given here (it is not reserved), so the id stays
    # deterministic per (edition, subscriber) whichever backend sends. Date is left
    # to SendGrid: a retried message should carry the time it really left.
    headers["Message-ID"] = message.message_id
    return headers


def _categories(names: Iterable[str]) -> list[str]:
    unique = dict.fromkeys(name[:MAX_CATEGORY_LENGTH] for name in names if name)
    return list(unique)[:MAX_CATEGORIES]


def custom_args_size(custom_args: Mapping[str, str]) -> int:
    return len(json.dumps(custom_args).encode("utf-8"))


def build_payload(message: OutgoingMessage, *, categories: Sequence[str] = ()) -> MailPayload:
    """The /v3/mail/send body for one message: one personalization, one recipient.

    Everything that differs per recipient (to, subject, headers, custom_args) lives
    in the personalization. ``categories`` apply when the message has none of its
    own. Raises DeliveryError(permanent=True) for messages SendGrid would refuse.
    """
    personalization: Personalization = {
        "to": [email_object(message.to_email, recipient_name(message.to_name))],
        "subject": message.subject,
        "headers": _personal_headers(message),
    }
    if message.custom_args:
        custom_args = {str(key): str(value) for key, value in message.custom_args.items()}
        size = custom_args_size(custom_args)
        if size >= MAX_CUSTOM_ARGS_BYTES:
            raise DeliveryError(
                f"custom_args for {message.to_email} take {size} bytes; "
                f"SendGrid allows less than {MAX_CUSTOM_ARGS_BYTES}",
                permanent=True,
            )
        personalization["custom_args"] = custom_args

    content = content_parts(message.text, message.html)
    if not content:
        raise DeliveryError(f"the message to {message.to_email} has no content", permanent=True)

    payload: MailPayload = {
        "personalizations": [personalization],
        "from": email_object(message.from_email, message.from_name),
        "content": content,
    }
    if message.reply_to:
        payload["reply_to"] = email_object(message.reply_to, None)
    chosen = _categories(message.categories or categories)
    if chosen:
        payload["categories"] = chosen
    return payload


def content_parts(text: str, html_part: str) -> list[ContentObject]:
    # text/plain must come before text/html; SendGrid refuses empty values.
    content: list[ContentObject] = []
    if text:
        content.append({"type": "text/plain", "value": text})
    if html_part:
        content.append({"type": "text/html", "value": html_part})
    return content
