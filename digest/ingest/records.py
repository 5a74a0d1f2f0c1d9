"""The shapes every source kind produces: one validated ArticleRecord per article.

JSON files, feeds and HTML pages are all turned into the same ``ArticleRecord``
before cleaning, so cleaning and storing are written once. Validation messages are
written for the person who produced the file: they name the field and say what is
wrong in plain words (see :func:`describe_validation_error`).

A record needs some text (a title, a body or a teaser) and nothing else: a missing
link or date is not the record's fault to be refused for. Each record comes with an
:class:`Origin` saying what its source knows in its place (the site's home page, the
entry's id, how a date that is not the record's own was found); cleaning turns that
into the stored link, identity and estimated date (see :mod:`digest.ingest.fallbacks`).
A value that is present but wrong (a date that is no date, an ftp:// link) is still
an error naming the field.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from enum import StrEnum
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from digest.ingest.blocks import html_to_text
from digest.ingest.markup import drop_invisible, has_entities, looks_like_html
from digest.ingest.urls import is_http_url

# Key under which ingest passes its default time zone to validation:
# ``ArticleRecord.model_validate(data, context={DEFAULT_TZ: zone})``.
DEFAULT_TZ = "default_tz"

_LANGUAGE_RE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$")
# A topic is a label (it is shown in the email and matched against subscribers'
# choices), not a paragraph. Longer ones are tag lists in one string (a page's
# keywords: "Home Depot,HD,earnings,retail,..."), split at their commas, or a sentence
# put in <category>, cut at a word.
TOPIC_MAX_LEN = 80
# Categories kept per record.
TOPICS_MAX = 20
_TAG_LIST = re.compile(r"\s*[,;|]\s*")


def _plain_label(value: str) -> str:
    text = value
    for _ in range(2):  # a second round for markup that was entity-encoded once
        if looks_like_html(text):
            text = html_to_text(text)
        elif has_entities(text):
            text = html.unescape(text)
        else:
            break
    text = "".join(
        " " if unicodedata.category(char) == "Cc" else char
        for char in drop_invisible(text)
        if unicodedata.category(char) != "Cf"
    )
    return " ".join(text.split())


def _cut(text: str) -> str:
    if len(text) <= TOPIC_MAX_LEN:
        return text
    cut = text[: TOPIC_MAX_LEN - 1]
    cut = cut.rsplit(" ", 1)[0] if " " in cut else cut
    return cut.rstrip(" ,;:–—-") + "…"


def topic_labels(value: str) -> list[str]:
    """A feed's category or a record's topic as plain-text labels (none if nothing is left).

    Tags go (a <script> with its code), entities are decoded, also when the markup
    itself came entity-encoded ("&lt;b&gt;KI&lt;/b&gt;"); control and format
    characters (bidi overrides, zero-width) go and whitespace runs become one space.
    A label longer than ``TOPIC_MAX_LEN`` is split at commas, semicolons or bars if
    it has any (a tag list), and each part is cut at a word boundary to that length.
    """
    text = _plain_label(value)
    parts = _TAG_LIST.split(text) if len(text) > TOPIC_MAX_LEN else [text]
    return [_cut(part) for part in parts if part]


class ArticleRecord(BaseModel):
    """One input article as a source delivers it, before cleaning.

    ``published_at`` accepts ISO 8601; a value without a UTC offset is read in the
    time zone given as validation context (see ``DEFAULT_TZ``) and stays naive when
    none is given. Unknown fields are ignored so publishers can send richer records.
    ``url`` and ``published_at`` may be missing (None; an empty string counts as
    missing): cleaning falls back on what the record's :class:`Origin` knows. A record
    without any text (title, body and teaser all empty) is refused.
    """

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    url: str | None = None
    title: str = ""
    published_at: datetime | None = None
    body: str = ""
    teaser: str | None = None
    topics: list[str] = Field(default_factory=list)
    image_url: str | None = None
    image_alt: str | None = None
    author: str | None = None
    source: str | None = None
    language: str | None = None
    priority: float = 0.0
    # Views or another reach figure from the publisher's analytics (popularity).
    views: float = Field(0.0, ge=0, allow_inf_nan=False)

    @field_validator("url", "title", "body", mode="before")
    @classmethod
    def _null_is_missing(cls, value: Any, info: ValidationInfo) -> Any:
        # JSON null and "" mean "not given" for the fields that have fallbacks.
        if value is None or (isinstance(value, str) and not value.strip()):
            return "" if info.field_name in ("title", "body") else None
        return value

    @field_validator("url", mode="after")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not is_http_url(value):
            raise ValueError(f"must be an absolute http(s) link, got {value!r}")
        return value

    @field_validator("image_url", mode="after")
    @classmethod
    def _http_image(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not is_http_url(value):
            raise ValueError(f"must be an absolute http(s) link, got {value!r}")
        return value

    @field_validator("teaser", "image_alt", "author", "source", mode="after")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("published_at", mode="before")
    @classmethod
    def _iso_8601(cls, value: Any) -> Any:
        if value is None or isinstance(value, datetime):
            return value
        if isinstance(value, str) and not value.strip():
            return None  # "" is how many exports write "no date"
        if isinstance(value, str):
            try:
                # Python 3.11 reads every ISO 8601 form publishers send: a trailing Z,
                # +0100 offsets, a bare date (midnight) and a space instead of "T".
                return datetime.fromisoformat(value.strip())
            except ValueError:
                pass
        raise ValueError(f"not an ISO 8601 date like 2026-11-24T07:30:00+01:00, got {value!r}")

    @field_validator("published_at", mode="after")
    @classmethod
    def _attach_zone(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        zone = info.context.get(DEFAULT_TZ) if isinstance(info.context, Mapping) else None
        if value is not None and value.tzinfo is None and isinstance(zone, tzinfo):
            return value.replace(tzinfo=zone)
        return value

    @field_validator("topics", mode="before")
    @classmethod
    def _topic_list(cls, value: Any) -> Any:
        # "KI, Robotik" is how many CMS exports spell a tag list.
        if isinstance(value, str):
            return value.split(",")
        if value is None:
            return []
        return value

    @field_validator("topics", mode="after")
    @classmethod
    def _unique_topics(cls, value: list[str]) -> list[str]:
        # Plain text: topics reach the email and the subscriber's preferences as they are.
        seen: set[str] = set()
        topics: list[str] = []
        for topic in value:
            for name in topic_labels(topic):
                if name.casefold() not in seen:
                    seen.add(name.casefold())
                    topics.append(name)
        # A page's keyword list can carry a hundred tags; the first ones are the
        # editor's, the rest SEO, and all of them would crowd the unmapped list.
        return topics[:TOPICS_MAX]

    @field_validator("language", mode="after")
    @classmethod
    def _language_tag(cls, value: str | None) -> str | None:
        # Only the primary subtag matters for choosing templates: "de-AT" -> "de".
        if not value:
            return None
        if not _LANGUAGE_RE.match(value):
            raise ValueError(f"must be a language code like 'de' or 'en-GB', got {value!r}")
        return re.split(r"[-_]", value)[0].lower()

    @field_validator("priority", mode="after")
    @classmethod
    def _priority_range(cls, value: float) -> float:
        if not -10 <= value <= 10:  # also rejects NaN
            raise ValueError(f"must be between -10 and 10, got {value:g}")
        return value

    @model_validator(mode="after")
    def _has_text(self) -> ArticleRecord:
        if not (self.title or self.body or self.teaser):
            raise ValueError(NO_TEXT)
        return self


NO_TEXT = "no text: title, body and teaser are all empty or missing"


class DateEstimate(StrEnum):
    """Where a date that is not the article's own came from (stored with the article)."""

    PAGE_TEXT = "page_text"  # guessed from the page's text by htmldate's extensive search
    FEED = "feed"  # the feed's own date (its last update), not the entry's
    HTTP = "http"  # the HTTP Last-Modified (else Date) header of the fetched source
    INGEST = "ingest"  # nothing said when: the time it was first ingested


# How a record's link was found when it is not its own (for the ingest report):
# "id": the entry's guid/id, an http(s) URL; "base-url": --base-url and the file name;
# "site": the site's home page (the record has none of its own; see Origin.key).
UrlFallback = Literal["id", "base-url", "site"]


@dataclass(frozen=True)
class Origin:
    """What a record's source knows that the record itself may lack.

    ``site_url`` is where a record without a link of its own points (the feed's home
    page, a JSON Feed's home_page_url, ``--base-url``); ``key`` then tells the record
    apart from the site's others (an entry id or guid), so it gets a stable identity.
    ``url_fallback`` says how ``record.url`` was found when it is not the record's own
    link; ``date_estimate`` does the same for ``record.published_at``.
    """

    site_url: str | None = None
    key: str | None = None
    url_fallback: UrlFallback | None = None
    date_estimate: DateEstimate | None = None


def language_or_none(value: Any) -> str | None:
    """A language tag from a feed or page head if it is one; such fields are free text
    in the wild ("Deutsch"), and a bad one must not cost the article."""
    if isinstance(value, str) and _LANGUAGE_RE.match(value.strip()):
        return value.strip()
    return None


def validate_record(data: Any, *, default_tz: tzinfo | None = None) -> ArticleRecord:
    """Validate one raw article; raises pydantic's ValidationError."""
    context = {DEFAULT_TZ: default_tz} if default_tz is not None else None
    return ArticleRecord.model_validate(data, context=context)


_TYPE_MESSAGES = {
    "missing": "is missing (required)",
    "string_type": "must be text",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "list_type": "must be a list of strings",
    "datetime_type": "not an ISO 8601 date",
    "finite_number": "must be a finite number",
}


_JSON_TYPES = {
    "list": "list",
    "str": "string",
    "int": "number",
    "float": "number",
    "bool": "boolean",
    "NoneType": "null",
}


def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _describe_one(error: ErrorDetails) -> str:
    where = _location(error["loc"])
    kind = error["type"]
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        shown = _JSON_TYPES.get(type(error["input"]).__name__, type(error["input"]).__name__)
        return f"expected an object with url, title, published_at and body, got a {shown}"
    if kind == "value_error" and not where:
        ctx = error.get("ctx") or {}
        return str(ctx.get("error", error["msg"]))
    if kind == "value_error":
        ctx = error.get("ctx") or {}
        message = str(ctx.get("error", error["msg"]))
    elif kind in _TYPE_MESSAGES:
        message = _TYPE_MESSAGES[kind]
        if kind != "missing":
            message += f", got {error['input']!r}"
    else:
        message = error["msg"][:1].lower() + error["msg"][1:]
    return f"{where}: {message}"


def describe_validation_error(err: ValidationError) -> str:
    """All field problems of one record, e.g. ``published_at: not an ISO 8601 date ...``."""
    return "; ".join(_describe_one(error) for error in err.errors(include_url=False))


@dataclass(frozen=True)
class FetchedDoc:
    """The raw bytes of one source, as read from disk or received over HTTP."""

    content: bytes
    content_type: str | None
    url: str  # the final URL after redirects; a file:// URI for local files
    # Last-Modified (else Date) of an HTTP response: a date for records that have none.
    http_date: datetime | None = None


@dataclass
class Parsed:
    """What a source parser found: numbered records and numbered problems.

    A number is 1-based (the JSONL line, the array index, the feed entry); a problem
    with number None concerns the whole source.
    """

    records: list[tuple[int, ArticleRecord]] = field(default_factory=list)
    problems: list[tuple[int | None, str]] = field(default_factory=list)
    # Per record number; a record without an entry has Origin() (nothing to fall back on).
    origins: dict[int, Origin] = field(default_factory=dict)

    def add(
        self,
        number: int,
        data: Any,
        *,
        default_tz: tzinfo | None,
        origin: Origin | None = None,
        name: str | None = None,
    ) -> None:
        """Validate ``data`` and keep it, or note why it was refused.

        ``name`` (an entry's link or id) is put before the message of a refused
        record, so a problem says which one it was even where numbers are unclear.
        """
        try:
            self.records.append((number, validate_record(data, default_tz=default_tz)))
        except ValidationError as err:
            message = describe_validation_error(err)
            self.problems.append((number, f"{name}: {message}" if name else message))
            return
        if origin is not None:
            self.origins[number] = origin

    def origin(self, number: int) -> Origin:
        return self.origins.get(number, Origin())
