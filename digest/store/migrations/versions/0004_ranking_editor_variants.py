"""Ranking: editor decisions, thin days, article views, muted sources, personalized variants.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "editor_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("newsletter_date", sa.Date(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("factor", sa.Float(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_editor_decisions_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_editor_decisions")),
        sa.UniqueConstraint(
            "newsletter_date", "article_id", name=op.f("uq_editor_decisions_newsletter_date")
        ),
    )
    with op.batch_alter_table("editor_decisions") as batch_op:
        batch_op.create_index(batch_op.f("ix_editor_decisions_article_id"), ["article_id"])
    with op.batch_alter_table("articles") as batch_op:
        batch_op.add_column(
            sa.Column("views", sa.Float(), nullable=False, server_default=sa.text("0"))
        )
    with op.batch_alter_table("subscribers") as batch_op:
        batch_op.add_column(
            sa.Column("muted_sources", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
    with op.batch_alter_table("editions") as batch_op:
        batch_op.add_column(sa.Column("thin_reason", sa.Text(), nullable=True))
    with op.batch_alter_table("edition_variants") as batch_op:
        batch_op.add_column(sa.Column("preference", sa.JSON(), nullable=True))
    # Items of earlier editions belong to the "everything" variant.
    with op.batch_alter_table("edition_items") as batch_op:
        batch_op.add_column(
            sa.Column(
                "variant", sa.String(length=100), nullable=False, server_default=sa.text("'all'")
            )
        )
        batch_op.drop_constraint("uq_edition_items_edition_id", type_="unique")
        batch_op.create_unique_constraint(
            "uq_edition_items_variant", ["edition_id", "variant", "position"]
        )


def downgrade() -> None:
    # Personalized variants' items go; the "everything" edition stays.
    op.execute("DELETE FROM edition_items WHERE variant <> 'all'")
    op.execute("DELETE FROM edition_variants WHERE preference IS NOT NULL")
    with op.batch_alter_table("edition_items") as batch_op:
        batch_op.drop_constraint("uq_edition_items_variant", type_="unique")
        batch_op.create_unique_constraint("uq_edition_items_edition_id", ["edition_id", "position"])
        batch_op.drop_column("variant")
    with op.batch_alter_table("edition_variants") as batch_op:
        batch_op.drop_column("preference")
    op.execute("UPDATE editions SET status = 'draft' WHERE status = 'skipped'")
    with op.batch_alter_table("editions") as batch_op:
        batch_op.drop_column("thin_reason")
    with op.batch_alter_table("subscribers") as batch_op:
        batch_op.drop_column("muted_sources")
    with op.batch_alter_table("articles") as batch_op:
        batch_op.drop_column("views")
    with op.batch_alter_table("editor_decisions") as batch_op:
        batch_op.drop_index(batch_op.f("ix_editor_decisions_article_id"))
    op.drop_table("editor_decisions")
