"""jobs: async metrics jobs and their webhook delivery attempts

Revision ID: 0003_jobs
Revises: 0001_foundation
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_jobs"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "async_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("integration_id", sa.Integer(), nullable=True),
        sa.Column("request_body", sa.JSON(), nullable=False),
        sa.Column("webhook_url", sa.String(length=2048), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("body_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("result_body", sa.Text(), nullable=True),
        sa.Column("error", sa.JSON(), nullable=True),
        sa.Column("compute_failures", sa.Integer(), nullable=False),
        sa.Column("webhook_id", sa.String(length=64), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("expected_pickup_at", sa.DateTime(), nullable=True),
        sa.Column("lease_owner", sa.String(length=128), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=True),
        sa.Column("delivery_started_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("computed_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_async_jobs_merchant_id_merchants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_async_jobs_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["customer_integrations.id"],
            name=op.f("fk_async_jobs_integration_id_customer_integrations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_async_jobs")),
        sa.UniqueConstraint("uuid", name=op.f("uq_async_jobs_uuid")),
        sa.UniqueConstraint("merchant_id", "idempotency_key", name="uq_async_jobs_idempotency"),
    )
    with op.batch_alter_table("async_jobs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_async_jobs_merchant_id"), ["merchant_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_async_jobs_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            "ix_async_jobs_status_next_attempt_at", ["status", "next_attempt_at"], unique=False
        )

    op.create_table(
        "async_job_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("attempted_at", sa.DateTime(), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["async_jobs.id"],
            name=op.f("fk_async_job_attempts_job_id_async_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_async_job_attempts")),
    )
    with op.batch_alter_table("async_job_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_async_job_attempts_job_id"), ["job_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("async_job_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_async_job_attempts_job_id"))
    op.drop_table("async_job_attempts")
    with op.batch_alter_table("async_jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_async_jobs_status_next_attempt_at")
        batch_op.drop_index(batch_op.f("ix_async_jobs_customer_id"))
        batch_op.drop_index(batch_op.f("ix_async_jobs_merchant_id"))
    op.drop_table("async_jobs")
