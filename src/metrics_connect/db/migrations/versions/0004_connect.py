"""connect page: OAuth states and grants

Revision ID: 0004_connect
Revises: 0001_foundation
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_connect"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "connect_oauth_states",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("integration_uuid", sa.String(length=36), nullable=True),
        sa.Column("code_verifier_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["integration_sessions.id"],
            name=op.f("fk_connect_oauth_states_session_id_integration_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connect_oauth_states")),
        sa.UniqueConstraint("state_hash", name=op.f("uq_connect_oauth_states_state_hash")),
    )
    with op.batch_alter_table("connect_oauth_states", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_connect_oauth_states_session_id"), ["session_id"], unique=False
        )

    op.create_table(
        "connect_oauth_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("integration_uuid", sa.String(length=36), nullable=True),
        sa.Column("tokens_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("accounts_json", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["integration_sessions.id"],
            name=op.f("fk_connect_oauth_grants_session_id_integration_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connect_oauth_grants")),
        sa.UniqueConstraint("uuid", name=op.f("uq_connect_oauth_grants_uuid")),
    )
    with op.batch_alter_table("connect_oauth_grants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_connect_oauth_grants_session_id"), ["session_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("connect_oauth_grants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_connect_oauth_grants_session_id"))
    op.drop_table("connect_oauth_grants")
    with op.batch_alter_table("connect_oauth_states", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_connect_oauth_states_session_id"))
    op.drop_table("connect_oauth_states")
