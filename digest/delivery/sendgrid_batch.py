"""The request bodies of a batch: one rendered variant, up to 1000 personalizations.

:func:`variant_template` turns a rendered edition variant into the
message-level part once (content, subject, sender, settings);
:class:`TemplateCache` keeps it per variant; :func:`prepare` checks each
recipient and builds its personalization; :func:`split` cuts the recipients
into requests within SendGrid's limits; :func:`request_body` joins a template
and a part.

Per-recipient values travel as SendGrid ``substitutions``, which replace
their keys in the subject and in every content part alike. The text part
needs the values verbatim and the HTML part needs them HTML-escaped, so the
HTML part gets its own tokens (``%%DIGEST_EMAIL%%`` becomes
``%%DIGEST_EMAIL:html%%``) and each personalization carries both sets. A
subject with tokens is filled in locally, per personalization.
"""

from __future__ import annotations

import html
import json
import logging
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from digest.delivery.base import Batch, BatchOutcome, BatchRecipient
from digest.delivery.mime import MAX_LINE, check_header, encode_header_value
from digest.delivery.sendgrid_payload import (
    HTML_TOKEN_SUFFIX,
    MAX_CUSTOM_ARGS_BYTES,
    MAX_PERSONALIZATIONS,
    MAX_REQUEST_BYTES,
    MAX_SUBSTITUTION_BYTES,
    RESERVED_HEADERS,
    MailPayload,
    Personalization,
    SendOptions,
    address_problem,
    content_parts,
    custom_args_size,
    email_object,
    recipient_name,
)
from digest.errors import DeliveryError
from digest.render import PLACEHOLDERS, RenderedEdition, substitutions
from digest.render.personalize import defuse, fill

log = logging.getLogger(__name__)


def html_token(token: str) -> str:
    """``%%DIGEST_EMAIL%%`` → ``%%DIGEST_EMAIL:html%%``: the HTML part's own tag."""
    return token[:-2] + HTML_TOKEN_SUFFIX + "%%"


@dataclass(frozen=True)
class VariantTemplate:
    """One rendered variant as the message-level part of every request for it."""

    # Everything but the personalizations (an empty list); shared, never mutated.
    message: MailPayload
    # Set when the subject has tokens: each personalization then gets its own.
    subject_template: str | None
    # The placeholders that occur in the text part (raw values)...
    text_tokens: tuple[str, ...]
    # ...and in HTML, as (HTML token, placeholder) pairs (escaped values).
    html_tokens: tuple[tuple[str, str], ...]
    # JSON size of ``message`` plus the empty personalizations list.
    fixed_bytes: int
    # Why nothing can be sent with this variant, if so.
    problem: str | None = None


def variant_template(batch: Batch, options: SendOptions) -> VariantTemplate:
    """The message-level part for ``batch``'s variant; computed once per variant."""
    rendered: RenderedEdition = batch.rendered
    tokens = tuple(PLACEHOLDERS.values())
    html_body = rendered.html
    html_tokens: list[tuple[str, str]] = []
    for token in tokens:
        if token in html_body:
            tag = html_token(token)
            html_body = html_body.replace(token, tag)
            html_tokens.append((tag, token))
    subject_template = rendered.subject if any(t in rendered.subject for t in tokens) else None
    text_tokens = tuple(t for t in tokens if t in rendered.text)

    message: MailPayload = {
        "personalizations": [],
        "from": email_object(batch.from_email, batch.from_name),
        "content": content_parts(rendered.text, html_body),
    }
    if subject_template is None:
        message["subject"] = rendered.subject
    if batch.reply_to:
        message["reply_to"] = email_object(batch.reply_to, None)
    options.apply(message, batch.categories)
    # The library sends json.dumps() output: ASCII, so characters are bytes.
    fixed = len(json.dumps(message))

    problem = None
    if not message["content"]:
        problem = "the edition has no text and no HTML to send"
    elif fixed >= MAX_REQUEST_BYTES:
        problem = (
            f"the edition takes {fixed} bytes; SendGrid takes less than "
            f"{MAX_REQUEST_BYTES // 1_000_000} MB per request (remove images or items)"
        )
    return VariantTemplate(
        message=message,
        subject_template=subject_template,
        text_tokens=text_tokens,
        html_tokens=tuple(html_tokens),
        fixed_bytes=fixed,
        problem=problem,
    )


class TemplateCache:
    """Templates by variant; the send loop reuses one RenderedEdition per variant."""

    def __init__(self, size: int = 16) -> None:
        self._size = size
        self._entries: dict[tuple[object, ...], tuple[RenderedEdition, VariantTemplate]] = {}
        self._lock = threading.Lock()

    def get(self, batch: Batch, options: SendOptions) -> VariantTemplate:
        # Keyed by identity: hashing a whole rendered edition per batch would
        # cost more than the cache saves. The entry keeps the object alive, so
        # its id cannot be reused while cached.
        key: tuple[object, ...] = (
            id(batch.rendered),
            batch.from_email,
            batch.from_name,
            batch.reply_to,
            *batch.categories,
        )
        with self._lock:
            entry = self._entries.get(key)
        if entry is not None and entry[0] is batch.rendered:
            return entry[1]
        template = variant_template(batch, options)
        with self._lock:
            if len(self._entries) >= self._size:
                self._entries.clear()
            self._entries[key] = (batch.rendered, template)
        return template


class Prepared(NamedTuple):
    """One recipient, checked, with its personalization and an upper bound of its size."""

    # A tuple: one is made per recipient, and a frozen dataclass costs twice as much.
    recipient: BatchRecipient
    personalization: Personalization
    max_bytes: int


def _utf8_size(values: Mapping[str, str]) -> int:
    return sum(len(k.encode("utf-8")) + len(v.encode("utf-8")) for k, v in values.items())


# Characters html.escape(quote=True) would change.
_HTML_SPECIAL = re.compile(r"[&<>\"']")


def prepare(
    template: VariantTemplate, recipients: Sequence[BatchRecipient], outcome: BatchOutcome
) -> list[Prepared]:
    """Check every recipient and build its personalization.

    Recipients SendGrid would refuse go to ``outcome.failed`` with the reason;
    a second recipient with the same address (ignoring case) goes to
    ``outcome.retry``, since one request may name an address only once.

    This runs for every recipient of every edition, so it avoids per-recipient
    copies and Python-level loops over characters (about 3 µs per recipient).
    """
    if template.problem:
        for recipient in recipients:
            outcome.failed[recipient.delivery_id] = template.problem
        return []
    prepared: list[Prepared] = []
    seen: set[str] = set()
    headers_checker = _HeaderChecker()
    subject_template = template.subject_template
    text_tokens = template.text_tokens
    html_tokens = template.html_tokens
    # The keys are the same for everybody: count their characters once.
    key_chars = sum(map(len, text_tokens)) + sum(len(tag) for tag, _ in html_tokens)
    special = _HTML_SPECIAL.search
    escape = html.escape

    for recipient in recipients:
        email = recipient.email
        problem = address_problem(email)
        if problem is not None:
            outcome.failed[recipient.delivery_id] = (
                f"{email!r} is not a valid email address: {problem} "
                "(correct or remove the subscriber)"
            )
            continue
        key = email.lower()
        if key in seen:
            outcome.retry[recipient.delivery_id] = (
                f"{email} is already a recipient of this request; a later batch takes it"
            )
            continue

        try:
            headers, header_chars = headers_checker.headers(recipient)
        except DeliveryError as err:
            outcome.failed[recipient.delivery_id] = f"{email}: {err.message}"
            continue

        values = substitutions(recipient.personalization, "text")
        joined = "".join(values.values())
        if "%%" in joined:
            # A value that looks like a token would be replaced again if SendGrid
            # substitutes in several passes; personalize() never does.
            values = {token: defuse(value) for token, value in values.items()}
        subs = {token: values[token] for token in text_tokens}
        if special(joined):
            for tag, token in html_tokens:
                subs[tag] = escape(values[token], quote=True)
        else:
            # Nothing to escape (links are token URLs): one check instead of four.
            for tag, token in html_tokens:
                subs[tag] = values[token]
        chars = key_chars + sum(map(len, subs.values()))
        # 4 bytes per character is the most UTF-8 needs: exact sizes only near the limit.
        if chars * 4 >= MAX_SUBSTITUTION_BYTES:
            size = _utf8_size(subs)
            if size >= MAX_SUBSTITUTION_BYTES:
                outcome.failed[recipient.delivery_id] = (
                    f"the personal values for {email} (name, links) take {size} bytes; "
                    f"SendGrid allows less than {MAX_SUBSTITUTION_BYTES} per message "
                    "(shorten the subscriber's name)"
                )
                continue

        custom_args = recipient.custom_args
        args_chars = sum(map(len, custom_args)) + sum(map(len, custom_args.values()))
        if args_chars * 6 + 8 * len(custom_args) + 2 >= MAX_CUSTOM_ARGS_BYTES:
            size = custom_args_size(custom_args)
            if size >= MAX_CUSTOM_ARGS_BYTES:
                outcome.failed[recipient.delivery_id] = (
                    f"custom_args for {email} take {size} bytes; "
                    f"SendGrid allows less than {MAX_CUSTOM_ARGS_BYTES}"
                )
                continue

        name = recipient_name(recipient.name)
        if name:
            personalization: Personalization = {
                "to": [{"email": email, "name": name}],
                "headers": headers,
            }
            chars += len(name)
        else:
            personalization = {"to": [{"email": email}], "headers": headers}
        if custom_args:
            personalization["custom_args"] = custom_args
        if subs:
            personalization["substitutions"] = subs
        strings = 2 * (len(subs) + len(headers) + len(custom_args)) + 3
        chars += args_chars + header_chars + len(email)
        if subject_template is not None:
            subject = fill(subject_template, values)
            personalization["subject"] = subject
            chars += len(subject)
            strings += 1
        seen.add(key)
        # JSON with ensure_ascii (as the library sends it) writes a character in
        # at most 6 bytes (\uXXXX); add quotes, colons, commas and braces.
        prepared.append(Prepared(recipient, personalization, 6 * chars + 8 * strings + 64))
    return prepared


class _HeaderChecker:
    """Checks and encodes the per-recipient headers of one batch.

    The names and most values (List-Id, List-Unsubscribe-Post) repeat for
    every recipient, so each name is checked once, and a value only in full
    when it is not a short line of ASCII.
    """

    def __init__(self) -> None:
        # Name → may be sent (checked with mime.check_header once).
        self.names: dict[str, bool] = {}

    def headers(self, recipient: BatchRecipient) -> tuple[dict[str, str], int]:
        """The headers for SendGrid and their number of characters."""
        headers: dict[str, str] = {}
        chars = 0
        for name, value in recipient.headers.items():
            allowed = self.names.get(name)
            if allowed is None:
                allowed = self._check_name(name)
            if not allowed:
                continue
            if (
                value.isascii()
                and "\r" not in value
                and "\n" not in value
                and len(name) + len(value) + 2 <= MAX_LINE
            ):
                # What check_header and encode_header_value come to for such a value.
                headers[name] = value
            else:
                check_header(name, value)
                # SendGrid puts values into the message as given: encode non-ASCII.
                value = headers[name] = encode_header_value(name, value)
            chars += len(name) + len(value)
        message_id = recipient.message_id
        if not message_id.isascii() or "\r" in message_id or "\n" in message_id:
            raise DeliveryError(
                f"Message-ID {message_id!r} must be one line of ASCII", permanent=True
            )
        # Kept by SendGrid (it is not reserved): the id stays deterministic per
        # (edition, subscriber), so a receiving system can spot a duplicate.
        headers["Message-ID"] = message_id
        return headers, chars + 10 + len(message_id)

    def _check_name(self, name: str) -> bool:
        lowered = name.lower()
        if lowered == "message-id":
            allowed = False  # always the recipient's own message_id
        elif lowered in RESERVED_HEADERS:
            log.warning("SendGrid does not allow the %s header; it was left out", name)
            allowed = False
        else:
            check_header(name, "")
            allowed = True
        self.names[name] = allowed
        return allowed


def split(
    prepared: Sequence[Prepared], template: VariantTemplate, batch_size: int
) -> list[list[Prepared]]:
    """Consecutive parts of at most ``batch_size`` recipients and below 30 MB each.

    A recipient too large for any request is not in any part (see
    :func:`too_large`).
    """
    size = max(1, min(batch_size, MAX_PERSONALIZATIONS))
    room = MAX_REQUEST_BYTES - template.fixed_bytes
    parts: list[list[Prepared]] = []
    current: list[Prepared] = []
    used = 0
    for item in prepared:
        if item.max_bytes >= room:
            continue
        if current and (len(current) >= size or used + item.max_bytes >= room):
            parts.append(current)
            current, used = [], 0
        current.append(item)
        used += item.max_bytes + 1  # the comma
    if current:
        parts.append(current)
    return parts


def too_large(prepared: Sequence[Prepared], template: VariantTemplate) -> list[Prepared]:
    """The recipients whose personalization alone would pass the 30 MB limit."""
    room = MAX_REQUEST_BYTES - template.fixed_bytes
    return [item for item in prepared if item.max_bytes >= room]


def request_body(template: VariantTemplate, part: Sequence[Prepared]) -> MailPayload:
    """The body for one request: the shared message-level part plus ``part``."""
    body = template.message.copy()
    body["personalizations"] = [item.personalization for item in part]
    return body
