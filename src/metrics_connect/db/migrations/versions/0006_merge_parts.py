"""One head again: the fact store, jobs, connect-page and sync branches meet here.

The parts were built side by side, each branching from 0001_foundation; this merge
lets operators and tools that expect a single head (`alembic upgrade head`) work.

Revision ID: 0006_merge_parts
Revises: 0002_facts, 0003_jobs, 0004_connect, 0005_sync
Create Date: 2026-11-27
"""

from __future__ import annotations

revision = "0006_merge_parts"
down_revision = ("0002_facts", "0003_jobs", "0004_connect", "0005_sync")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
