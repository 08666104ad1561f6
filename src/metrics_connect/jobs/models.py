"""Async job tables: the job row is the truth about every accepted async request."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from metrics_connect import clock
from metrics_connect.db.base import Base, UTCDateTime, new_uuid

QUEUED = "queued"
RUNNING = "running"
DELIVERING = "delivering"
DELIVERED = "delivered"
FAILED = "failed"
JOB_STATUSES = (QUEUED, RUNNING, DELIVERING, DELIVERED, FAILED)
UNFINISHED_STATUSES = (QUEUED, RUNNING, DELIVERING)


def new_webhook_id() -> str:
    return "msg_" + new_uuid().replace("-", "")


class Job(Base):
    """One POST /metrics/get-data-async: its request, its result and its delivery state."""

    __tablename__ = "async_jobs"
    __table_args__ = (
        # Per customer: a key shared across customers would tell one about another's use.
        UniqueConstraint(
            "merchant_id",
            "customer_id",
            "idempotency_key",
            name="uq_async_jobs_customer_idempotency",
        ),
        Index("ix_async_jobs_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    # SET NULL: a job whose integration was removed fails instead of vanishing.
    integration_id: Mapped[int | None] = mapped_column(
        ForeignKey("customer_integrations.id", ondelete="SET NULL"), nullable=True
    )
    # The /metrics/get-data body, as validated (without metrics_webhook_url).
    request_body: Mapped[dict[str, Any]] = mapped_column(JSON)
    webhook_url: Mapped[str] = mapped_column(String(2048))
    idempotency_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # SHA-256 of the canonical request (customer + body) to compare idempotent retries.
    body_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=QUEUED)
    # The exact bytes (UTF-8 text) of the sync response: signed and sent as they are.
    result_body: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Why a job failed without a delivery ({"code", "message"}), e.g. integration expired.
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    compute_failures: Mapped[int] = mapped_column(Integer, default=0)
    # Standard Webhooks message id: the same on every retry of this delivery.
    webhook_id: Mapped[str] = mapped_column(String(64), default=new_webhook_id)
    # When the next step may run (a retry's due time); None: now.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # When a queued message for this job should have been picked up; the sweeper
    # re-dispatches unleased jobs whose message looks lost past this instant.
    expected_pickup_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The lease: one worker at a time owns a job; an expired lease means a dead worker.
    lease_owner: Mapped[str | None] = mapped_column(String(128), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Set while an HTTP delivery is in flight; found set on a reclaimed job, it marks
    # an attempt its worker never finished recording.
    delivery_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=clock.now, onupdate=clock.now
    )
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    computed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    attempts: Mapped[list[JobAttempt]] = relationship(
        back_populates="job",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="JobAttempt.number",
    )


class JobAttempt(Base):
    """One webhook delivery attempt: when, what the receiver answered, how long it took."""

    __tablename__ = "async_job_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("async_jobs.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    http_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    latency_ms: Mapped[float | None] = mapped_column(Float, nullable=True)

    job: Mapped[Job] = relationship(back_populates="attempts")
