"""Delivery states for batched, resumable sends; batches; the edition lease.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Old ledger states and what they mean now.
_RENAMES = (("sent", "accepted"), ("sending", "uncertain"))


def upgrade() -> None:
    op.create_table(
        "delivery_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("backend", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("provider_message_id", sa.String(length=200), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["edition_id"],
            ["editions.id"],
            name=op.f("fk_delivery_batches_edition_id_editions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_batches")),
    )
    with op.batch_alter_table("delivery_batches") as batch_op:
        batch_op.create_index(batch_op.f("ix_delivery_batches_edition_id"), ["edition_id"])
    with op.batch_alter_table("deliveries") as batch_op:
        batch_op.add_column(sa.Column("batch_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_deliveries_batch_id"), ["batch_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_deliveries_batch_id_delivery_batches"),
            "delivery_batches",
            ["batch_id"],
            ["id"],
            ondelete="SET NULL",
        )
    for old, new in _RENAMES:
        op.execute(f"UPDATE deliveries SET status = '{new}' WHERE status = '{old}'")
    with op.batch_alter_table("editions") as batch_op:
        batch_op.add_column(sa.Column("lease_owner", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("send_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("provider_batch_id", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("editions") as batch_op:
        for column in ("provider_batch_id", "send_at", "lease_until", "lease_owner"):
            batch_op.drop_column(column)
    for old, new in _RENAMES:
        op.execute(f"UPDATE deliveries SET status = '{old}' WHERE status = '{new}'")
    # States the old code does not know: pending and in-flight rows were never
    # sent and are dropped (the old send loop re-creates them); the rest map on.
    op.execute("DELETE FROM deliveries WHERE status IN ('pending', 'in_flight')")
    op.execute("UPDATE deliveries SET status = 'sending' WHERE status = 'uncertain'")
    op.execute("UPDATE deliveries SET status = 'failed' WHERE status = 'suppressed'")
    with op.batch_alter_table("deliveries") as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_deliveries_batch_id_delivery_batches"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_deliveries_batch_id"))
        batch_op.drop_column("batch_id")
    op.drop_table("delivery_batches")
