"""facts: the metrics engine's fact store (rows, objects, periods, coverage, fetch log)

Revision ID: 0002_facts
Revises: 0001_foundation
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_facts"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def _integration_id() -> sa.Column[int]:
    return sa.Column("integration_id", sa.Integer(), nullable=False)


def _integration_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["integration_id"],
        ["customer_integrations.id"],
        name=f"fk_{table}_integration_id_customer_integrations",
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "fact_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        _integration_id(),
        sa.Column("dataset", sa.String(length=64), nullable=False),
        sa.Column("variant", sa.String(length=255), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("keys", sa.Text(), nullable=False),
        sa.Column("vals", sa.Text(), nullable=False),
        _integration_fk("fact_rows"),
        sa.PrimaryKeyConstraint("id", name="pk_fact_rows"),
    )
    op.create_index(
        "ix_fact_rows_lookup", "fact_rows", ["integration_id", "dataset", "variant", "day"]
    )
    op.create_table(
        "fact_objects",
        sa.Column("id", sa.Integer(), nullable=False),
        _integration_id(),
        sa.Column("dataset", sa.String(length=64), nullable=False),
        sa.Column("variant", sa.String(length=255), nullable=False),
        sa.Column("object_id", sa.String(length=128), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("attributes", sa.Text(), nullable=False),
        sa.Column("vals", sa.Text(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(), nullable=False),
        _integration_fk("fact_objects"),
        sa.PrimaryKeyConstraint("id", name="pk_fact_objects"),
        sa.UniqueConstraint(
            "integration_id", "dataset", "variant", "object_id", name="uq_fact_objects"
        ),
    )
    op.create_index(
        "ix_fact_objects_lookup", "fact_objects", ["integration_id", "dataset", "variant", "day"]
    )
    op.create_table(
        "fact_periods",
        sa.Column("id", sa.Integer(), nullable=False),
        _integration_id(),
        sa.Column("dataset", sa.String(length=64), nullable=False),
        sa.Column("variant", sa.String(length=255), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("rows", sa.Text(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(), nullable=False),
        sa.Column("settled", sa.Boolean(), nullable=False),
        _integration_fk("fact_periods"),
        sa.PrimaryKeyConstraint("id", name="pk_fact_periods"),
        sa.UniqueConstraint(
            "integration_id", "dataset", "variant", "start", "end", name="uq_fact_periods"
        ),
    )
    op.create_table(
        "fact_coverage",
        _integration_id(),
        sa.Column("dataset", sa.String(length=64), nullable=False),
        sa.Column("variant", sa.String(length=255), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(), nullable=False),
        sa.Column("settled", sa.Boolean(), nullable=False),
        _integration_fk("fact_coverage"),
        sa.PrimaryKeyConstraint(
            "integration_id", "dataset", "variant", "day", name="pk_fact_coverage"
        ),
    )
    op.create_table(
        "fact_fetch_log",
        sa.Column("id", sa.Integer(), nullable=False),
        _integration_id(),
        sa.Column("dataset", sa.String(length=64), nullable=False),
        sa.Column("variant", sa.String(length=255), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("objects", sa.Integer(), nullable=False),
        _integration_fk("fact_fetch_log"),
        sa.PrimaryKeyConstraint("id", name="pk_fact_fetch_log"),
    )
    op.create_index(
        "ix_fact_fetch_log_integration", "fact_fetch_log", ["integration_id", "fetched_at"]
    )


def downgrade() -> None:
    op.drop_table("fact_fetch_log")
    op.drop_table("fact_coverage")
    op.drop_table("fact_periods")
    op.drop_index("ix_fact_objects_lookup", table_name="fact_objects")
    op.drop_table("fact_objects")
    op.drop_index("ix_fact_rows_lookup", table_name="fact_rows")
    op.drop_table("fact_rows")
