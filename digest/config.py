"""Settings: one typed model, loaded from YAML, overridden from the environment.

Where a value comes from, in order of precedence:

1. ``DIGEST__SECTION__KEY`` environment variables (``DIGEST__RANKING__MAX_ITEMS=8``;
   nested sections use more double underscores, values are parsed as YAML scalars);
2. the YAML file given with ``--config`` (or ``$DIGEST_CONFIG``, or ``./config.yaml``);
3. the defaults below, which are also what ``config.yaml`` in the repository documents.

Secrets never live in the file: the SendGrid key is ``SENDGRID_API_KEY`` and the
secret that signs unsubscribe and preferences links is ``DIGEST_SECRET_KEY``.
"""

from __future__ import annotations

import os
import re
import secrets
from base64 import b64decode
from binascii import Error as Base64Error
from collections.abc import Mapping
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from cryptography.hazmat.primitives.serialization import load_der_public_key
from email_validator import EmailNotValidError, validate_email
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    field_validator,
    model_validator,
)

from digest.errors import ConfigError

ENV_PREFIX = "DIGEST__"
SECRET_ENV = "DIGEST_SECRET_KEY"
SENDGRID_KEY_ENV = "SENDGRID_API_KEY"
SMTP_PASSWORD_ENV = "SMTP_PASSWORD"
CONFIG_ENV = "DIGEST_CONFIG"

_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: Any) -> Any:
    """Accept ``90m``, ``24h``, ``2d``, ``1w`` or a number of seconds."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    if isinstance(value, str):
        match = _DURATION_RE.match(value)
        if match:
            return timedelta(seconds=float(match[1]) * _UNIT_SECONDS[match[2].lower()])
    raise ValueError(f"expected a duration like 90m, 24h or 2d, got {value!r}")


def _format_duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit in ("w", "d", "h", "m"):
        size = _UNIT_SECONDS[unit]
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


Duration = Annotated[
    timedelta, BeforeValidator(parse_duration), PlainSerializer(_format_duration, return_type=str)
]


def _parse_send_time(value: Any) -> Any:
    if isinstance(value, time):
        return value
    # YAML 1.1 reads an unquoted 07:30 as the sexagesimal number 450.
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
        return time(value // 60, value % 60)
    if isinstance(value, str):
        match = re.fullmatch(r"\s*([01]?\d|2[0-3]):([0-5]\d)\s*", value)
        if match:
            return time(int(match[1]), int(match[2]))
    raise ValueError(f"expected HH:MM on a 24-hour clock, got {value!r}")


ClockTime = Annotated[
    time,
    BeforeValidator(_parse_send_time),
    PlainSerializer(lambda t: t.strftime("%H:%M"), return_type=str),
]


def _check_email(value: str) -> str:
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as err:
        raise ValueError(f"{value!r} is not a valid email address: {err}") from None


class _Section(BaseModel):
    # A misspelt key is an error, not a silently ignored setting.
    model_config = ConfigDict(extra="forbid", validate_default=True)


class NewsletterSettings(_Section):
    name: str = Field("KI-Morgenpost", description="Name shown in the From header and the email.")
    language: Literal["de", "en"] = Field("de", description="Language of the email (de or en).")
    timezone: str = Field("Europe/Berlin", description="IANA time zone for dates and send time.")
    base_url: str = Field(
        "http://127.0.0.1:8000",
        description="Public URL of `digest serve`; unsubscribe and preferences links point here.",
    )
    from_email: str = Field("digest@example.com", description="Sender address.")
    from_name: str | None = Field(None, description="Sender name; defaults to newsletter.name.")
    reply_to: str | None = Field(None, description="Optional Reply-To address.")
    postal_address: str = Field(
        "Beispiel Medien GmbH, Musterstraße 1, 10115 Berlin, Deutschland",
        description="Postal address printed in the footer (required by CAN-SPAM and German law).",
    )
    list_id: str | None = Field(
        None, description="Short list identifier for List-Id; defaults to a slug of the name."
    )
    accent_color: str = Field("#0b5cad", description="Colour of links and the header bar.")
    topics: list[str] = Field(
        default_factory=lambda: [
            "KI",
            "Robotik",
            "Chips",
            "Politik",
            "Forschung",
            "Start-ups",
            "Sicherheit",
            "Mobilität",
        ],
        description="Topics subscribers can choose on the sign-up and preferences pages.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name such as Europe/Berlin)"
            ) from None
        return value

    @field_validator("base_url")
    @classmethod
    def _web_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError(
                f"expected an http(s) URL such as https://news.example.com, got {value!r}"
            )
        local = parts.hostname in {"localhost", "127.0.0.1", "::1"}
        if parts.scheme != "https" and not local:
            # Gmail and Yahoo only honour one-click unsubscribe over https.
            raise ValueError("must use https unless it points at localhost")
        return value.rstrip("/")

    @field_validator("from_email", "reply_to")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return None if value is None else _check_email(value)

    @field_validator("accent_color")
    @classmethod
    def _colour(cls, value: str) -> str:
        if not re.fullmatch(r"#[0-9a-fA-F]{6}", value):
            raise ValueError(f"expected a colour like #0b5cad, got {value!r}")
        return value

    @property
    def sender_name(self) -> str:
        return self.from_name or self.name

    @property
    def list_slug(self) -> str:
        if self.list_id:
            return self.list_id
        slug = re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")
        return slug or "digest"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class ScheduleSettings(_Section):
    send_time: ClockTime = Field(
        time(6, 30), description="Daily send time, HH:MM in newsletter.timezone."
    )
    misfire_grace: Duration = Field(
        timedelta(hours=2),
        description="How late a missed send may still run (e.g. after a restart).",
    )


class ClusterSettings(_Section):
    max_gap: Duration = Field(
        timedelta(hours=48), description="Articles further apart in time are never one story."
    )
    text_chars: int = Field(
        500, ge=50, description="Characters of title and text compared to find one story."
    )
    same_language_cosine: float = Field(
        0.3,
        gt=0,
        le=1,
        description="Text similarity that makes two same-language reports one story.",
    )
    cross_language_min_shared: int = Field(
        4, ge=1, description="Names and figures a report and its translation must share."
    )


# Title prefixes that mark adverts and paywalled teasers in German and English feeds
# (ranking.exclude_titles). Seen in real feeds: "Anzeige:" (Golem), "heise-Angebot:"
# and "heise+ |" (heise), "Angebot:" and "+ |"; the rest are the labels German
# (§ 5a UWG) and English publishers put on paid content. Ingest turns "(Sponsored)",
# "[Anzeige]" and a trailing "+" into such a leading label.
EXCLUDE_TITLES = (
    *("Anzeige:", "Werbung:", "Gesponsert:", "Angebot:", "heise-Angebot:", "Advertorial:"),
    *("Sponsored:", "Sponsored content:", "Sponsored post:", "Advertisement:", "Ad:"),
    *("Promoted:", "Paid post:", "Paid content:", "Partner content:"),
    *("+ |", "heise+ |", "Plus:", "Exklusiv für Abonnenten", "Nur für Abonnenten"),
    *("Subscribers only", "Subscriber only", "For subscribers:"),
)


class RankingSettings(_Section):
    window: Duration = Field(
        timedelta(hours=24),
        description="Articles published this long before the send are candidates.",
    )
    max_items: int = Field(12, ge=1, le=100, description="Most items in one edition.")
    half_life: Duration = Field(
        timedelta(hours=8), description="Age at which the recency signal has halved."
    )
    priority_weight: float = Field(
        0.25, ge=0, description="Score added per point of an article's editorial priority."
    )
    source_weights: dict[str, float] = Field(
        default_factory=dict, description="Multiplier per source name; unknown sources get 1.0."
    )
    topic_weights: dict[str, float] = Field(
        default_factory=dict,
        description="Multiplier per topic; an article takes its topics' highest (unlisted: 1.0).",
    )
    popularity_weight: float = Field(
        0.2, ge=0, description="Score added at full popularity (views and earlier clicks)."
    )
    popularity_scale: float = Field(
        10_000,
        gt=0,
        description="Views (clicks count click_weight each) that earn the full weight.",
    )
    click_weight: float = Field(
        10, ge=0, description="Views one click in an earlier edition counts as."
    )
    coverage_weight: float = Field(
        0.15, ge=0, description="Score added per doubling of the sources reporting a story."
    )
    novelty_editions: int = Field(
        7,
        ge=0,
        description="Articles and stories sent in this many latest editions aren't repeated.",
    )
    updated_factor: float = Field(
        0.8, ge=0, description="Score multiplier of a sent article that was updated since."
    )
    mmr_lambda: float = Field(
        0.7, ge=0, le=1, description="1 ranks by score alone; lower trades score for variety."
    )
    mmr_pool: int = Field(200, ge=1, description="Best stories the variety re-ranking considers.")
    max_per_source: int | None = Field(
        3, ge=1, description="Most items from one source (null: any)."
    )
    max_per_topic: int | None = Field(4, ge=1, description="Most items on one topic (null: any).")
    cap_own_sources: bool = Field(
        False, description="Whether max_per_source also limits the publisher's own sources."
    )
    min_score: float = Field(0.05, ge=0, description="Items scoring below this never go out.")
    min_items: int = Field(
        3, ge=1, description="Fewer items above min_score make a thin day (see thin_day)."
    )
    thin_day: Literal["shorten", "skip"] = Field(
        "shorten", description="On a thin day send the few items (shorten) or nothing (skip)."
    )
    section_order: list[str] = Field(
        default_factory=list,
        description="Order of topic sections after the top stories (empty: newsletter.topics).",
    )
    top_stories: int = Field(3, ge=0, description="Items in the top stories at the head.")
    own_sources: list[str] = Field(
        # Empty: a default naming one publisher would cap everyone else's own site.
        # `digest demo` adds its sample publisher for its own run.
        default_factory=list,
        description="The publisher's own source names.",
    )
    prefer_own_site: bool = Field(
        True, description="An own-source report represents its story when there is one."
    )
    exclude_titles: list[str] = Field(
        default_factory=lambda: list(EXCLUDE_TITLES),
        description="Title prefixes of adverts and paywalled teasers, left out unless pinned.",
    )
    max_variants: int = Field(
        8, ge=1, le=100, description="Most personalized variants (per language) of one edition."
    )
    cluster: ClusterSettings = Field(
        default_factory=lambda: ClusterSettings(), description="Story clustering."
    )

    @field_validator("exclude_titles")
    @classmethod
    def _prefixes(cls, value: list[str]) -> list[str]:
        for prefix in value:
            if not prefix.strip().rstrip(":|").strip():
                raise ValueError(f"{prefix!r} is no title prefix: it needs a word or sign")
        return value

    @field_validator("source_weights", "topic_weights")
    @classmethod
    def _positive(cls, value: dict[str, float]) -> dict[str, float]:
        for name, weight in value.items():
            if weight < 0:
                raise ValueError(f"weight for {name!r} must not be negative")
        return value


class TopicSettings(_Section):
    """How articles' own categories, URLs and words reach ``newsletter.topics``."""

    aliases: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Per topic, other names for it in the sources' categories (any language).",
    )
    builtin_aliases: bool = Field(
        True, description="Also match digest's German and English names of common topics."
    )
    url_rules: dict[str, list[str]] = Field(
        default_factory=dict, description="Per topic, URL path fragments that give it."
    )
    url_sections: bool = Field(
        True, description="A URL folder naming a topic or an alias gives that topic."
    )
    keywords: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Per topic, words or phrases in the title or lead that give it.",
    )


class DatabaseSettings(_Section):
    url: str = Field(
        "sqlite:///var/digest.db",
        description="SQLAlchemy URL; sqlite:///relative/path or postgresql://user@host/db.",
    )


class SendGridSettings(_Section):
    api_host: str = Field(
        "https://api.sendgrid.com", description="Base URL of the SendGrid v3 API."
    )
    timeout: Duration = Field(timedelta(seconds=30), description="Timeout of one API request.")
    batch_size: int = Field(
        1000,
        ge=1,
        le=1000,
        description="Recipients per /v3/mail/send request (SendGrid's most: 1000).",
    )
    concurrency: int = Field(4, ge=1, le=32, description="Requests in flight at once.")
    asm_group_id: int | None = Field(
        None, description="Unsubscribe group (ASM) id attached to every message."
    )
    sandbox: bool = Field(
        False, description="Sandbox mode: SendGrid validates every request but delivers nothing."
    )
    categories: list[str] = Field(
        default_factory=lambda: ["digest"], description="Categories attached to every message."
    )
    webhook_public_key: str | None = Field(
        None,
        description="Verification key of the signed Event Webhook (base64, from SendGrid).",
    )
    webhook_max_age: Duration = Field(
        timedelta(minutes=10),
        description="Event Webhook requests signed longer ago than this are refused.",
    )

    @field_validator("webhook_public_key")
    @classmethod
    def _public_key(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        compact = "".join(value.split())
        try:
            load_der_public_key(b64decode(compact, validate=True))
        except (Base64Error, ValueError):
            raise ValueError(
                "not a public key: paste the Verification Key shown in SendGrid's "
                "Event Webhook settings (base64, starting with MFkw...)"
            ) from None
        return compact


class SmtpSettings(_Section):
    host: str = Field("127.0.0.1", description="SMTP server (a provider's, or Mailpit locally).")
    port: int = Field(1025, ge=1, le=65535, description="SMTP port: 587 STARTTLS, 465 SSL.")
    security: Literal["starttls", "ssl", "none"] = Field(
        "none", description="starttls, ssl (implicit TLS) or none (local catchers only)."
    )
    username: str | None = Field(None, description="Login name; the password is SMTP_PASSWORD.")
    timeout: Duration = Field(timedelta(seconds=30), description="Timeout of one SMTP command.")


class DeliverySettings(_Section):
    backend: Literal["outbox", "sendgrid", "smtp", "console"] = Field(
        "outbox", description="Where messages go: outbox (.eml files), sendgrid, smtp or console."
    )
    outbox_dir: Path = Field(Path("var/outbox"), description="Folder for the outbox backend.")
    unsubscribe_mailto: str | None = Field(
        None, description="Optional address added as a mailto: in List-Unsubscribe."
    )
    retry_deadline: Duration = Field(
        timedelta(minutes=10),
        description="How long a batch is retried (rate limits, server errors) before it is "
        "left for the next run.",
    )
    sendgrid: SendGridSettings = Field(default_factory=SendGridSettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)

    @field_validator("unsubscribe_mailto")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return None if value is None else _check_email(value)


class WebSettings(_Section):
    host: str = Field(
        "127.0.0.1", description="Interface `digest serve` and `digest preview` bind."
    )
    port: int = Field(8000, ge=1, le=65535, description="Port of the web app.")
    forwarded_allow_ips: str = Field(
        "127.0.0.1",
        description="Proxies trusted for X-Forwarded-For (client IP for consent and limits).",
    )
    signups_per_hour: int = Field(
        10, ge=1, description="Sign-up form posts accepted per client IP and hour."
    )
    confirm_max_age: Duration = Field(
        timedelta(days=7), description="How long a confirmation link stays valid."
    )


class RenderSettings(_Section):
    templates_dir: Path | None = Field(
        None, description="Folder with your own templates; defaults to the shipped ones."
    )
    preview_dir: Path = Field(
        Path("var/preview"), description="Where `digest demo` writes the rendered preview."
    )


class Settings(_Section):
    newsletter: NewsletterSettings = Field(default_factory=NewsletterSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    ranking: RankingSettings = Field(default_factory=RankingSettings)
    topics: TopicSettings = Field(default_factory=TopicSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    web: WebSettings = Field(default_factory=WebSettings)
    render: RenderSettings = Field(default_factory=RenderSettings)

    # Not settable from YAML: filled in by load_settings().
    base_dir: Path = Field(default_factory=Path.cwd, exclude=True)
    secret_key: str | None = Field(None, exclude=True, repr=False)
    sendgrid_api_key: str | None = Field(None, exclude=True, repr=False)
    smtp_password: str | None = Field(None, exclude=True, repr=False)
    source: str = Field("embedded defaults", exclude=True)

    @model_validator(mode="after")
    def _topic_rules_name_topics(self) -> Settings:
        known = self.newsletter.topics
        for key in ("aliases", "url_rules", "keywords"):
            for topic in getattr(self.topics, key):
                if topic not in known:
                    raise ValueError(
                        f"topics.{key}: {topic!r} is not one of newsletter.topics "
                        f"({', '.join(known) or 'none'})"
                    )
        return self

    @model_validator(mode="after")
    def _real_backends_need_secrets(self) -> Settings:
        backend = self.delivery.backend
        if backend == "sendgrid" and not self.sendgrid_api_key:
            raise ValueError(f"delivery.backend is sendgrid but {SENDGRID_KEY_ENV} is not set")
        if backend == "smtp":
            smtp = self.delivery.smtp
            if smtp.username and not self.smtp_password:
                raise ValueError(f"delivery.smtp.username is set but {SMTP_PASSWORD_ENV} is not")
            if smtp.security == "none" and smtp.username:
                # Never send a password in the clear.
                raise ValueError("delivery.smtp.security none cannot be used with a username")
        if backend in ("sendgrid", "smtp") and not self.secret_key:
            raise ValueError(
                f"{SECRET_ENV} must be set when sending for real, so unsubscribe links stay valid"
            )
        return self

    def path(self, value: Path) -> Path:
        """Resolve a configured path against the config file's folder."""
        return value if value.is_absolute() else self.base_dir / value

    @property
    def database_url(self) -> str:
        return normalize_database_url(self.database.url, self.base_dir)

    @property
    def outbox_dir(self) -> Path:
        return self.path(self.delivery.outbox_dir)


def normalize_database_url(url: str, base_dir: Path) -> str:
    """Pick the installed PostgreSQL driver and anchor relative SQLite paths."""
    if url.startswith(("postgres://", "postgresql://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        relative = url[len("sqlite:///") :]
        if relative and not relative.startswith(":memory:"):
            return f"sqlite:///{(base_dir / relative).as_posix()}"
    return url


SECRET_KEYS = {"secret_key", "api_key", "sendgrid_api_key", "password"}


def _env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    for name, raw in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX):
            continue
        path = [part.lower() for part in name[len(ENV_PREFIX) :].split("__")]
        if not all(path):
            raise ConfigError(f"{name}: empty section name", hint="use DIGEST__SECTION__KEY")
        try:
            value = yaml.safe_load(raw) if raw.strip() else raw
        except yaml.YAMLError:
            value = raw
        node = overrides
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"{name}: conflicts with another DIGEST__ variable")
        node[path[-1]] = value
    return overrides


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(dict(merged[key]), value)
        else:
            merged[key] = value
    return merged


def _find_secret_keys(data: Mapping[str, Any], prefix: str = "") -> list[str]:
    found = []
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            found += _find_secret_keys(value, dotted + ".")
        elif str(key).lower() in SECRET_KEYS:
            found.append(dotted)
    return found


def _describe(error: ValidationError, origin: str) -> str:
    lines = []
    for problem in error.errors():
        key = ".".join(str(part) for part in problem["loc"]) or "(top level)"
        message = problem["msg"].removeprefix("Value error, ")
        if problem["type"] == "extra_forbidden":
            message = "unknown setting (check the spelling against config.yaml)"
        lines.append(f"{key}: {message}")
    return f"{origin}: " + "; ".join(lines)


def default_config_path(cwd: Path | None = None) -> Path | None:
    """``$DIGEST_CONFIG`` if set, else ``./config.yaml`` if it exists, else None."""
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    candidate = (cwd or Path.cwd()) / "config.yaml"
    return candidate if candidate.is_file() else None


def load_settings(
    path: Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Read, merge and validate the configuration; raise ConfigError naming the bad key."""
    environ = os.environ if environ is None else environ
    data: dict[str, Any] = {}
    origin = "embedded defaults"
    base_dir = cwd or Path.cwd()
    if path is not None:
        origin = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"config file {path} does not exist") from None
        except OSError as err:
            raise ConfigError(f"cannot read config file {path}: {err.strerror}") from err
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            where = f" line {mark.line + 1}" if mark is not None else ""
            raise ConfigError(f"{path}{where}: not valid YAML") from err
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: expected sections such as newsletter: and delivery:")
        leaked = _find_secret_keys(loaded)
        if leaked:
            raise ConfigError(
                f"{path}: {', '.join(leaked)}: secrets are read only from the environment",
                hint=f"remove it and set {SENDGRID_KEY_ENV} or {SECRET_ENV} instead",
            )
        data = loaded
        base_dir = path.resolve().parent

    overrides = _env_overrides(environ)
    if overrides:
        origin += " + DIGEST__ environment"
    merged = _merge(data, overrides)
    merged.update(
        base_dir=base_dir,
        secret_key=environ.get(SECRET_ENV) or None,
        sendgrid_api_key=environ.get(SENDGRID_KEY_ENV) or None,
        smtp_password=environ.get(SMTP_PASSWORD_ENV) or None,
        source=origin,
    )
    try:
        return Settings.model_validate(merged)
    except ValidationError as err:
        raise ConfigError(_describe(err, origin)) from None


def ensure_secret_key(settings: Settings) -> str:
    """The signing secret: from the environment, or a local one kept next to the data.

    Only the local backends (outbox, console) may fall back to a generated key, so
    the quickstart works without set-up; its file is created once and reused so
    links in emails already written stay valid.
    """
    if settings.secret_key:
        return settings.secret_key
    key_file = settings.path(Path("var/secret.key"))
    if key_file.is_file():
        return key_file.read_text(encoding="utf-8").strip()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    key_file.write_text(key + "\n", encoding="utf-8")
    key_file.chmod(0o600)
    return key
