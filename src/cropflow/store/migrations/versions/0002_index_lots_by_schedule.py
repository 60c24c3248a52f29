"""index lots by date, farm and cultivar

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 21:50:00
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_lots_schedule", "lots", ["scheduled_date", "farm_id", "cultivar_id"])


def downgrade() -> None:
    op.drop_index("ix_lots_schedule", table_name="lots")
