"""Idempotency keys per (merchant, customer), not per merchant.

A key unique per merchant let one customer learn that another customer of the same
merchant had used it (the "already used" 422). Each customer now has its own keys.

Downgrade restores the per-merchant constraint; keys two customers of one merchant
both used cannot both stay, so every such key but the oldest job's is cleared (the
jobs themselves are kept).

Revision ID: 0008
Revises: 0007_fact_rows_latest
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007_fact_rows_latest"
branch_labels = None
depends_on = None

MERCHANT_SCOPED = "uq_async_jobs_idempotency"
CUSTOMER_SCOPED = "uq_async_jobs_customer_idempotency"


def upgrade() -> None:
    # batch: SQLite changes a table's constraints by copying the table.
    with op.batch_alter_table("async_jobs") as batch_op:
        batch_op.drop_constraint(MERCHANT_SCOPED, type_="unique")
        batch_op.create_unique_constraint(
            CUSTOMER_SCOPED, ["merchant_id", "customer_id", "idempotency_key"]
        )


def downgrade() -> None:
    jobs = sa.table(
        "async_jobs",
        sa.column("id", sa.Integer),
        sa.column("merchant_id", sa.Integer),
        sa.column("idempotency_key", sa.String),
    )
    older = jobs.alias("older")
    op.execute(
        jobs.update()
        .where(
            jobs.c.idempotency_key.is_not(None),
            sa.exists().where(
                older.c.merchant_id == jobs.c.merchant_id,
                older.c.idempotency_key == jobs.c.idempotency_key,
                older.c.id < jobs.c.id,
            ),
        )
        .values(idempotency_key=None)
    )
    with op.batch_alter_table("async_jobs") as batch_op:
        batch_op.drop_constraint(CUSTOMER_SCOPED, type_="unique")
        batch_op.create_unique_constraint(MERCHANT_SCOPED, ["merchant_id", "idempotency_key"])
