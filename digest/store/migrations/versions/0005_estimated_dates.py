"""Articles: how a publication date was estimated when the source gave none.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL for every article stored so far: ingest refused undated ones until now.
    with op.batch_alter_table("articles") as batch_op:
        batch_op.add_column(sa.Column("published_at_estimate", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("articles") as batch_op:
        batch_op.drop_column("published_at_estimate")
