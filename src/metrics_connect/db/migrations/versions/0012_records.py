"""records: objects a network keeps and changes (deals, contacts, calls), and where each
(integration, dataset)'s incremental sync stands (docs/records.md)

Revision ID: 0012_records
Revises: 0011
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_records"
down_revision = "0011"
branch_labels = None
depends_on = None


def _integration_id() -> sa.Column[int]:
    return sa.Column(
        "integration_id",
        sa.Integer(),
        sa.ForeignKey("customer_integrations.id", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "records",
        sa.Column("id", sa.Integer(), primary_key=True),
        _integration_id(),
        sa.Column("dataset", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("owner", sa.String(length=128), nullable=True),
        sa.Column("pipeline", sa.String(length=128), nullable=True),
        sa.Column("stage", sa.String(length=128), nullable=True),
        sa.Column("amount", sa.Float(), nullable=True),
        sa.Column("currency", sa.String(length=8), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("synced_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("integration_id", "dataset", "record_id", name="uq_records"),
    )
    op.create_index("ix_records_lookup", "records", ["integration_id", "dataset", "deleted"])
    op.create_table(
        "record_cursors",
        _integration_id(),
        sa.Column("dataset", sa.String(length=64), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("synced_at", sa.DateTime(), nullable=True),
        sa.Column("backfilled_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("integration_id", "dataset", name="pk_record_cursors"),
    )


def downgrade() -> None:
    op.drop_table("record_cursors")
    op.drop_index("ix_records_lookup", table_name="records")
    op.drop_table("records")
