"""sync schedule: a due time and a lease per (integration, task) of sync_state

The scheduler claims due rows in batches (FOR UPDATE SKIP LOCKED on PostgreSQL) and
leases them, so that two schedulers or workers never run one integration at once.

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_state") as batch:
        batch.add_column(sa.Column("due_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("lease_owner", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("lease_expires_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("runs", sa.Integer(), nullable=False, server_default="0"))
    op.create_index("ix_sync_state_due", "sync_state", ["task", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_sync_state_due", table_name="sync_state")
    with op.batch_alter_table("sync_state") as batch:
        batch.drop_column("runs")
        batch.drop_column("lease_expires_at")
        batch.drop_column("lease_owner")
        batch.drop_column("due_at")
