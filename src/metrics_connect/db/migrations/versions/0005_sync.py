"""sync: per-integration sync state

Revision ID: 0005_sync
Revises: 0001_foundation
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_sync"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("integration_id", sa.Integer(), nullable=False),
        sa.Column("task", sa.String(length=32), nullable=False),
        sa.Column("last_run_at", sa.DateTime(), nullable=True),
        sa.Column("last_ok_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("cursor_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["customer_integrations.id"],
            name=op.f("fk_sync_state_integration_id_customer_integrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_state")),
        sa.UniqueConstraint("integration_id", "task", name=op.f("uq_sync_state_integration_id")),
    )
    op.create_index(
        op.f("ix_sync_state_integration_id"), "sync_state", ["integration_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_sync_state_integration_id"), table_name="sync_state")
    op.drop_table("sync_state")
