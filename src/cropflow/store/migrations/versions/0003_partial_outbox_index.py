"""index only undispatched batches in the outbox index

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 21:55:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UNDISPATCHED = sa.text("dispatched_at IS NULL")


def upgrade() -> None:
    op.drop_index("ix_batches_outbox", table_name="batches")
    op.create_index(
        "ix_batches_outbox", "batches", ["id"], sqlite_where=UNDISPATCHED, postgresql_where=UNDISPATCHED
    )


def downgrade() -> None:
    op.drop_index("ix_batches_outbox", table_name="batches")
    op.create_index("ix_batches_outbox", "batches", ["dispatched_at", "plan_id"])
