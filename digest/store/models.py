"""SQLAlchemy models. Every schema change goes through an Alembic migration."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike.

    SQLite has no time zone type, so values are stored as naive UTC there; a naive
    value handed in is a bug (it would be read back in the wrong zone), so it raises.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; attach a time zone first")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
        list[str]: JSON,
    }


class SubscriberStatus(StrEnum):
    # Signed up, confirmation email sent, not confirmed yet: receives nothing else.
    PENDING = "pending"
    ACTIVE = "active"
    # Asked for a break on the preferences page; resumes with one click.
    PAUSED = "paused"
    UNSUBSCRIBED = "unsubscribed"
    # Suppressed by a provider event: hard bounce or dropped as a bad address...
    BOUNCED = "bounced"
    # ...or marked as spam. Neither is ever sent to again unless they sign up anew.
    COMPLAINED = "complained"


class EditionStatus(StrEnum):
    DRAFT = "draft"
    SENDING = "sending"
    SENT = "sent"
    # A scheduled send that the operator cancelled with `digest cancel`.
    CANCELLED = "cancelled"
    # A thin day with ranking.thin_day "skip": nothing was sent (thin_reason says why).
    SKIPPED = "skipped"


class EditorAction(StrEnum):
    """What an editor decided about one article for one edition (see EditorDecision)."""

    PIN = "pin"
    BOOST = "boost"
    DROP = "drop"


class DeliveryStatus(StrEnum):
    """Where one recipient of one edition stands. See digest.delivery.send."""

    # To be sent (again: a batch that could not reach the provider comes back here).
    PENDING = "pending"
    # Its batch was recorded and the request is leaving or has left.
    IN_FLIGHT = "in_flight"
    # The provider (or the outbox, the SMTP server) took it.
    ACCEPTED = "accepted"
    # Refused for good (bad address, rejected content, skipped by the operator).
    FAILED = "failed"
    # The request may or may not have reached the provider: never resent blindly.
    UNCERTAIN = "uncertain"
    # Unsubscribed, bounced or complained after the edition was queued for them.
    SUPPRESSED = "suppressed"


class Article(Base):
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    canonical_url: Mapped[str] = mapped_column(String(2048), unique=True)
    url: Mapped[str] = mapped_column(String(2048))
    title: Mapped[str] = mapped_column(String(1000))
    teaser: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    body_text: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime] = mapped_column(index=True)
    # NULL: the article's own date. Else how it was estimated when the source gave
    # none: "page_text", "feed", "http" or "ingest" (digest.ingest.records.DateEstimate).
    published_at_estimate: Mapped[str | None] = mapped_column(String(20))
    author: Mapped[str | None] = mapped_column(String(300))
    source: Mapped[str | None] = mapped_column(String(300), index=True)
    language: Mapped[str | None] = mapped_column(String(16))
    topics: Mapped[list[str]] = mapped_column(default=list)
    image_url: Mapped[str | None] = mapped_column(String(2048))
    image_alt: Mapped[str | None] = mapped_column(String(1000))
    priority: Mapped[float] = mapped_column(Float, default=0.0)
    # Views or any reach figure the source reports (the popularity signal).
    views: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    # Lets later stages tell "updated since it was sent" from "the same again".
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Subscriber(Base):
    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str | None] = mapped_column(String(300))
    language: Mapped[str | None] = mapped_column(String(16))
    timezone: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default=SubscriberStatus.ACTIVE, index=True)
    status_reason: Mapped[str | None] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(50), default="cli")
    # Topic names from newsletter.topics the subscriber chose (empty: everything).
    topics: Mapped[list[str]] = mapped_column(default=list)
    # Source names the subscriber does not want to read (their items are left out).
    muted_sources: Mapped[list[str]] = mapped_column(default=list, server_default="[]")
    # "HH:MM" in the subscriber's time zone; None: at schedule.send_time.
    delivery_time: Mapped[str | None] = mapped_column(String(5))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    unsubscribed_at: Mapped[datetime | None]
    # The consent record (proof of opt-in): when, from where, how, and the exact
    # text the person agreed to; then when and from where they confirmed.
    consent_at: Mapped[datetime | None]
    consent_ip: Mapped[str | None] = mapped_column(String(64))
    consent_source: Mapped[str | None] = mapped_column(String(200))
    consent_text: Mapped[str | None] = mapped_column(Text)
    confirmed_at: Mapped[datetime | None]
    confirmed_ip: Mapped[str | None] = mapped_column(String(64))
    # Last confirmation email, so a repeated sign-up sends at most one an hour.
    confirmation_sent_at: Mapped[datetime | None]


class SubscriberEvent(Base):
    """The subscriber's history: sign-up, confirmation, changes, suppressions."""

    __tablename__ = "subscriber_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    occurred_at: Mapped[datetime]
    # subscribed, confirmation_sent, confirmed, unsubscribed, resubscribed, paused,
    # resumed, preferences_changed, suppressed, imported, removed...
    kind: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ProviderEvent(Base):
    """A delivery event reported by the provider (SendGrid Event Webhook), stored once."""

    __tablename__ = "provider_events"
    __table_args__ = (
        UniqueConstraint("provider", "provider_event_id"),
        Index("ix_provider_events_edition_event", "edition_id", "event"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    # SendGrid's sg_event_id: retries and duplicates carry the same one.
    provider_event_id: Mapped[str] = mapped_column(String(200))
    # Normalized: queued, delivered, deferred, bounced, rejected, opened, clicked,
    # complained, unsubscribed, unknown.
    event: Mapped[str] = mapped_column(String(20))
    provider_event: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime]
    received_at: Mapped[datetime]
    email: Mapped[str | None] = mapped_column(String(320))
    edition_id: Mapped[int | None] = mapped_column(
        ForeignKey("editions.id", ondelete="SET NULL"), index=True
    )
    subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscribers.id", ondelete="SET NULL"), index=True
    )
    url: Mapped[str | None] = mapped_column(String(2048))
    reason: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Edition(Base):
    """One newsletter date. Frozen (items and rendering stored) once sending starts."""

    __tablename__ = "editions"

    id: Mapped[int] = mapped_column(primary_key=True)
    newsletter_date: Mapped[date] = mapped_column(Date, unique=True)
    status: Mapped[str] = mapped_column(String(20), default=EditionStatus.DRAFT)
    window_start: Mapped[datetime | None]
    cutoff_at: Mapped[datetime | None]
    frozen_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    language: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime]
    # Who is sending it right now ("host:pid") and until when that claim holds,
    # so two `digest send` runs never work on one edition at once.
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None]
    # A send scheduled at the provider (SendGrid send_at under a batch id).
    send_at: Mapped[datetime | None]
    provider_batch_id: Mapped[str | None] = mapped_column(String(200))
    # Why the ranking found too few items (a thin day), shortened or skipped.
    thin_reason: Mapped[str | None] = mapped_column(Text)

    items: Mapped[list[EditionItem]] = relationship(
        back_populates="edition", order_by="EditionItem.position", cascade="all, delete-orphan"
    )
    variants: Mapped[list[EditionVariant]] = relationship(
        back_populates="edition", order_by="EditionVariant.key", cascade="all, delete-orphan"
    )


class EditionVariant(Base):
    """One rendering of a frozen edition, sent as stored.

    One per language and personalized variant: key "de" is everything in
    German, "de:v-1a2b3c4d5e" the German edition for one preference set.
    """

    __tablename__ = "edition_variants"
    __table_args__ = (UniqueConstraint("edition_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(100))
    language: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(500))
    preheader: Mapped[str] = mapped_column(String(500))
    html: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    # The preference set it was ranked for ({"topics": [...], "muted_sources":
    # [...]}); None: everything.
    preference: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    edition: Mapped[Edition] = relationship(back_populates="variants")


class EditionItem(Base):
    """An article as it was when its edition froze (the snapshot is what gets rendered)."""

    __tablename__ = "edition_items"
    __table_args__ = (
        UniqueConstraint("edition_id", "variant", "position", name="uq_edition_items_variant"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id", ondelete="CASCADE"))
    # "all" for the edition everybody gets unless personalized, else the
    # preference variant's key (the same for every language).
    variant: Mapped[str] = mapped_column(String(100), default="all", server_default="all")
    position: Mapped[int] = mapped_column(Integer)
    article_id: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id", ondelete="SET NULL"), index=True
    )
    score: Mapped[float] = mapped_column(Float)
    snapshot: Mapped[dict[str, Any]]

    edition: Mapped[Edition] = relationship(back_populates="items")


class DeliveryBatch(Base):
    """One request to the provider (or, for one-by-one backends, one group of messages)."""

    __tablename__ = "delivery_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    edition_id: Mapped[int] = mapped_column(
        ForeignKey("editions.id", ondelete="CASCADE"), index=True
    )
    backend: Mapped[str] = mapped_column(String(20))
    # in_flight, done (every recipient settled), uncertain
    status: Mapped[str] = mapped_column(String(20))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    settled_at: Mapped[datetime | None]
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)


class Delivery(Base):
    """The ledger: at most one row per edition and subscriber."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("edition_id", "subscriber_id"),
        Index("ix_deliveries_edition_status", "edition_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("delivery_batches.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(20))
    backend: Mapped[str] = mapped_column(String(20))
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class EditorDecision(Base):
    """An editor's pin, boost or drop of one article for one edition date.

    Read when the edition is ranked, until it freezes; one decision per article
    and date (a new one replaces the old).
    """

    __tablename__ = "editor_decisions"
    __table_args__ = (UniqueConstraint("newsletter_date", "article_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    newsletter_date: Mapped[date] = mapped_column(Date)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(10))
    # The score multiplier of a boost.
    factor: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
