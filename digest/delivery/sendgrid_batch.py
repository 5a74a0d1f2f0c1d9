"""The request bodies of a batch: one rendered variant, up to 1000 personalizations.

:func:`variant_template` turns a rendered edition variant into the
message-level part once (content, subject, sender, settings);
:class:`TemplateCache` keeps it per variant; :func:`prepare` checks each
recipient and builds its personalization; :func:`split` cuts the recipients
into requests within SendGrid's limits; :func:`request_body` joins a template
and a part.

A request carries up to a thousand personalizations, so each one is written
as JSON once, in :func:`prepare`, and a request body is the template's two
halves around the joined personalizations. The JSON is ASCII (as the
official library sends it), so its length is its size in bytes and the
30 MB limit is checked exactly.

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
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii as quote
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
    # ``message`` as JSON, cut where the personalizations go.
    head: bytes
    tail: bytes
    # Set when the subject has tokens: each personalization then gets its own.
    subject_template: str | None
    # The placeholders that occur in the text part (raw values)...
    text_tokens: tuple[str, ...]
    # ...and in HTML, as (HTML token, placeholder) pairs (escaped values).
    html_tokens: tuple[tuple[str, str], ...]
    # JSON size of ``message``: head and tail.
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
    # "personalizations" is the first key, and inside a JSON string its quotes
    # would be escaped: the first match is the place.
    head, tail = _encode(message).encode("ascii").split(b'"personalizations":[]', 1)
    head += b'"personalizations":['
    tail = b"]" + tail
    fixed = len(head) + len(tail)

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
        head=head,
        tail=tail,
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
    """One recipient, checked, with its personalization as JSON."""

    # A tuple: one is made per recipient, and a frozen dataclass costs twice as much.
    recipient: BatchRecipient
    # ASCII JSON (its length is its size in bytes).
    json: bytes


def _utf8_size(values: Mapping[str, str]) -> int:
    return sum(len(k.encode("utf-8")) + len(v.encode("utf-8")) for k, v in values.items())


def _html_special(text: str) -> bool:
    """Whether html.escape(quote=True) would change ``text`` (faster than a regex)."""
    return "&" in text or "<" in text or ">" in text or '"' in text or "'" in text


def _encode(value: object) -> str:
    """Compact ASCII JSON, as json.dumps writes it for the official library."""
    return json.dumps(value, separators=(",", ":"))


class _Keys(dict[str, str]):
    """JSON-quoted keys, each quoted once per batch (headers, custom_args)."""

    def __missing__(self, key: str) -> str:
        quoted = self[key] = quote(key)
        return quoted


_TOKENS = tuple(PLACEHOLDERS.values())
_TEXT_KEYS = tuple(map(quote, _TOKENS))
_HTML_KEYS = tuple(quote(html_token(token)) for token in _TOKENS)

# The members of "substitutions", from the quoted values of the placeholders
# (in the order of _TOKENS) for the text part and for the HTML part.
SubstitutionsWriter = Callable[[tuple[str, ...], tuple[str, ...]], str]


def _every_substitution(texts: tuple[str, ...], htmls: tuple[str, ...]) -> str:
    # Every placeholder in both parts, as the renderer writes editions: one
    # f-string is a third of the time of a format string (parsed per call).
    t, h = _TEXT_KEYS, _HTML_KEYS
    return (
        f"{t[0]}:{texts[0]},{t[1]}:{texts[1]},{t[2]}:{texts[2]},{t[3]}:{texts[3]},"
        f"{h[0]}:{htmls[0]},{h[1]}:{htmls[1]},{h[2]}:{htmls[2]},{h[3]}:{htmls[3]}"
    )


def _substitutions_writer(template: VariantTemplate) -> SubstitutionsWriter | None:
    """How to write the substitutions of ``template``; None when it has no placeholders."""
    html_sources = tuple(token for _, token in template.html_tokens)
    if len(_TOKENS) == 4 and template.text_tokens == _TOKENS and html_sources == _TOKENS:
        return _every_substitution
    if not template.text_tokens and not html_sources:
        return None
    # Some placeholders only: {0}..{3} are the text values, {4}..{7} the HTML ones.
    layout = ",".join(
        [f"{quote(token)}:{{{_TOKENS.index(token)}}}" for token in template.text_tokens]
        + [
            f"{quote(tag)}:{{{len(_TOKENS) + _TOKENS.index(token)}}}"
            for tag, token in template.html_tokens
        ]
    )
    return lambda texts, htmls: layout.format(*texts, *htmls)


def prepare(
    template: VariantTemplate, recipients: Sequence[BatchRecipient], outcome: BatchOutcome
) -> list[Prepared]:
    """Check every recipient and write its personalization.

    Recipients SendGrid would refuse go to ``outcome.failed`` with the reason;
    a second recipient with the same address (ignoring case) goes to
    ``outcome.retry``, since one request may name an address only once.

    This runs for every recipient of every edition, so it writes the JSON
    itself (every value through the json module's own string encoder) instead
    of building dictionaries for json.dumps: about a third of the time.
    """
    if template.problem:
        for recipient in recipients:
            outcome.failed[recipient.delivery_id] = template.problem
        return []
    prepared: list[Prepared] = []
    seen: set[str] = set()
    headers_checker = _HeaderChecker()
    keys = _Keys()
    subject_template = template.subject_template
    text_tokens = template.text_tokens
    write_substitutions = _substitutions_writer(template)
    # The keys are the same for everybody: count their characters once.
    key_chars = sum(map(len, text_tokens)) + sum(len(tag) for tag, _ in template.html_tokens)
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
            headers = headers_checker.headers(recipient)
        except DeliveryError as err:
            outcome.failed[recipient.delivery_id] = f"{email}: {err.message}"
            continue

        values = substitutions(recipient.personalization, "text")
        joined = "".join(values.values())
        if "%%" in joined:
            # A value that looks like a token would be replaced again if SendGrid
            # substitutes in several passes; personalize() never does.
            values = {token: defuse(value) for token, value in values.items()}
        if _html_special(joined):
            escaped = {token: escape(value, quote=True) for token, value in values.items()}
            # html.escape makes a character at most 6 (&#x27;).
            bound = key_chars + 7 * len(joined)
        else:
            # Nothing to escape (links are token URLs): the same strings.
            escaped = values
            bound = key_chars + 2 * len(joined)
        # 4 bytes per character is the most UTF-8 needs: exact sizes only near the limit.
        if bound * 4 >= MAX_SUBSTITUTION_BYTES:
            subs = {token: values[token] for token in text_tokens}
            subs.update((tag, escaped[token]) for tag, token in template.html_tokens)
            size = _utf8_size(subs)
            if size >= MAX_SUBSTITUTION_BYTES:
                outcome.failed[recipient.delivery_id] = (
                    f"the personal values for {email} (name, links) take {size} bytes; "
                    f"SendGrid allows less than {MAX_SUBSTITUTION_BYTES} per message "
                    "(shorten the subscriber's name)"
                )
                continue

        custom_args = recipient.custom_args
        args = ",".join([f"{keys[k]}:{quote(v)}" for k, v in custom_args.items()])
        # json.dumps (what custom_args_size measures) adds a space after each
        # colon and comma: exact sizes only near the limit.
        if len(args) + 2 * len(custom_args) + 2 >= MAX_CUSTOM_ARGS_BYTES:
            size = custom_args_size(custom_args)
            if size >= MAX_CUSTOM_ARGS_BYTES:
                outcome.failed[recipient.delivery_id] = (
                    f"custom_args for {email} take {size} bytes; "
                    f"SendGrid allows less than {MAX_CUSTOM_ARGS_BYTES}"
                )
                continue

        quoted_email = quote(email)
        name = recipient_name(recipient.name)
        to = (
            f'{{"email":{quoted_email},"name":{quote(name)}}}'
            if name
            else f'{{"email":{quoted_email}}}'
        )
        more = f',"custom_args":{{{args}}}' if custom_args else ""
        if write_substitutions is not None:
            # Most values are the same in both parts: each is quoted once then.
            texts = tuple(map(quote, map(values.__getitem__, _TOKENS)))
            htmls = (
                texts if escaped is values else tuple(map(quote, map(escaped.__getitem__, _TOKENS)))
            )
            more += f',"substitutions":{{{write_substitutions(texts, htmls)}}}'
        if subject_template is not None:
            more += f',"subject":{quote(fill(subject_template, values))}'
        seen.add(key)
        fragment = f'{{"to":[{to}],"headers":{{{headers}}}{more}}}'
        prepared.append(Prepared(recipient, fragment.encode("ascii")))
    return prepared


class _HeaderChecker:
    """Checks and encodes the per-recipient headers of one batch.

    The names and most values (List-Id, List-Unsubscribe-Post) repeat for
    every recipient, so each name is checked once, a value seen just before
    under the same name is not checked again, and the others only in full
    when they are not a short line of ASCII.
    """

    def __init__(self) -> None:
        # Name → may be sent (checked with mime.check_header once).
        self.names: dict[str, bool] = {}
        # Name → (the last value, its JSON member).
        self.last: dict[str, tuple[str, str]] = {}

    def headers(self, recipient: BatchRecipient) -> str:
        """The headers for SendGrid as the members of a JSON object."""
        members: list[str] = []
        for name, value in recipient.headers.items():
            last = self.last.get(name)
            if last is not None and last[0] == value:
                members.append(last[1])
                continue
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
                encoded = value
            else:
                check_header(name, value)
                # SendGrid puts values into the message as given: encode non-ASCII.
                encoded = encode_header_value(name, value)
            member = f"{quote(name)}:{quote(encoded)}"
            self.last[name] = (value, member)
            members.append(member)
        message_id = recipient.message_id
        if not message_id.isascii() or "\r" in message_id or "\n" in message_id:
            raise DeliveryError(
                f"Message-ID {message_id!r} must be one line of ASCII", permanent=True
            )
        # Kept by SendGrid (it is not reserved): the id stays deterministic per
        # (edition, subscriber), so a receiving system can spot a duplicate.
        members.append(f'"Message-ID":{quote(message_id)}')
        return ",".join(members)

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
        length = len(item.json)
        if length >= room:
            continue
        if current and (len(current) >= size or used + length >= room):
            parts.append(current)
            current, used = [], 0
        current.append(item)
        used += length + 1  # the comma
    if current:
        parts.append(current)
    return parts


def too_large(prepared: Sequence[Prepared], template: VariantTemplate) -> list[Prepared]:
    """The recipients whose personalization alone would pass the 30 MB limit."""
    room = MAX_REQUEST_BYTES - template.fixed_bytes
    return [item for item in prepared if len(item.json) >= room]


def request_body(template: VariantTemplate, part: Sequence[Prepared]) -> bytes:
    """The body for one request: the shared message-level part around ``part``."""
    pieces = [item.json for item in part]
    if not pieces:
        return template.head + template.tail
    # A megabyte per request: the halves go onto the first and the last piece,
    # so that the whole body is copied once.
    pieces[0] = template.head + pieces[0]
    pieces[-1] += template.tail
    return b",".join(pieces)
