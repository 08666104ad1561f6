"""Notes on stored facts: why a day's or a period's numbers are not exact.

A connector may say that what it returned was sampled, thresholded, folded into an
"(other)" row or approximate (FetchResult.notes); the store keeps them per covered day
(fact_coverage.notes) and per period (fact_periods.notes), a JSON array or NULL.
Existing facts were stored as exact: NULL.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("fact_coverage", sa.Column("notes", sa.Text(), nullable=True))
    op.add_column("fact_periods", sa.Column("notes", sa.Text(), nullable=True))


def downgrade() -> None:
    # batch: SQLite drops a column by copying the table.
    with op.batch_alter_table("fact_periods") as batch_op:
        batch_op.drop_column("notes")
    with op.batch_alter_table("fact_coverage") as batch_op:
        batch_op.drop_column("notes")
