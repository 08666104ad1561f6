"""An index for each keys' latest day: stock snapshots (audience by city, country...)
over a long period read one day per value from it instead of every stored day.

Revision ID: 0007_fact_rows_latest
Revises: 0006_merge_parts
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0007_fact_rows_latest"
down_revision = "0006_merge_parts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_fact_rows_latest",
        "fact_rows",
        ["integration_id", "dataset", "variant", "keys", "day"],
    )


def downgrade() -> None:
    op.drop_index("ix_fact_rows_latest", table_name="fact_rows")
