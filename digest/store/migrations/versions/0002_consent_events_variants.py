"""Subscriber consent, preferences and history; provider events; edition variants.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_RENDERING = ("subject", "preheader", "html", "text")


def upgrade() -> None:
    op.create_table(
        "edition_variants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("preheader", sa.String(length=500), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["edition_id"],
            ["editions.id"],
            name=op.f("fk_edition_variants_edition_id_editions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_edition_variants")),
        sa.UniqueConstraint("edition_id", "key", name=op.f("uq_edition_variants_edition_id")),
    )
    # Editions frozen before variants existed keep their one rendering, keyed
    # by the edition's language, so a resumed send sends exactly the same email.
    op.execute(
        "INSERT INTO edition_variants (edition_id, key, language, subject, preheader, html, text) "
        "SELECT id, COALESCE(language, 'de'), COALESCE(language, 'de'), subject, "
        "COALESCE(preheader, ''), html, text FROM editions WHERE html IS NOT NULL"
    )
    with op.batch_alter_table("editions") as batch_op:
        for column in _RENDERING:
            batch_op.drop_column(column)

    op.create_table(
        "provider_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("provider_event_id", sa.String(length=200), nullable=False),
        sa.Column("event", sa.String(length=20), nullable=False),
        sa.Column("provider_event", sa.String(length=40), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("edition_id", sa.Integer(), nullable=True),
        sa.Column("subscriber_id", sa.Integer(), nullable=True),
        sa.Column("url", sa.String(length=2048), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["edition_id"],
            ["editions.id"],
            name=op.f("fk_provider_events_edition_id_editions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_provider_events_subscriber_id_subscribers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_events")),
        sa.UniqueConstraint(
            "provider", "provider_event_id", name=op.f("uq_provider_events_provider")
        ),
    )
    with op.batch_alter_table("provider_events") as batch_op:
        batch_op.create_index("ix_provider_events_edition_event", ["edition_id", "event"])
        batch_op.create_index(batch_op.f("ix_provider_events_edition_id"), ["edition_id"])
        batch_op.create_index(batch_op.f("ix_provider_events_subscriber_id"), ["subscriber_id"])

    op.create_table(
        "subscriber_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_subscriber_events_subscriber_id_subscribers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriber_events")),
    )
    with op.batch_alter_table("subscriber_events") as batch_op:
        batch_op.create_index(batch_op.f("ix_subscriber_events_subscriber_id"), ["subscriber_id"])

    with op.batch_alter_table("subscribers") as batch_op:
        # Existing rows need a value for the new NOT NULL column.
        batch_op.add_column(
            sa.Column("topics", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch_op.add_column(sa.Column("delivery_time", sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column("consent_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("consent_ip", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("consent_source", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("consent_text", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("confirmed_ip", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("confirmation_sent_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("subscribers") as batch_op:
        for column in (
            "confirmation_sent_at",
            "confirmed_ip",
            "confirmed_at",
            "consent_text",
            "consent_source",
            "consent_ip",
            "consent_at",
            "delivery_time",
            "topics",
        ):
            batch_op.drop_column(column)
    op.drop_table("subscriber_events")
    op.drop_table("provider_events")
    with op.batch_alter_table("editions") as batch_op:
        batch_op.add_column(sa.Column("subject", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("preheader", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("html", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("text", sa.Text(), nullable=True))
    # Keep the edition's own-language rendering when going back.
    for column in _RENDERING:
        op.execute(
            f"UPDATE editions SET {column} = (SELECT v.{column} FROM edition_variants v "
            "WHERE v.edition_id = editions.id ORDER BY v.key LIMIT 1)"
        )
    op.drop_table("edition_variants")
