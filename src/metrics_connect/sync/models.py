"""Per-integration sync state: when each sync task last ran, and how far it got."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from metrics_connect.db.base import Base, UTCDateTime


class SyncState(Base):
    __tablename__ = "sync_state"
    __table_args__ = (
        UniqueConstraint("integration_id", "task"),
        Index("ix_sync_state_due", "task", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    integration_id: Mapped[int] = mapped_column(
        ForeignKey("customer_integrations.id", ondelete="CASCADE"), index=True
    )
    # "stories", "snapshots", "windows", "replay"...: one row per task of a network's sync.
    task: Mapped[str] = mapped_column(String(32))
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_ok_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The instant the task's archive is complete up to (upstream clock).
    cursor_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The schedule (sync/schedule.py), on the row of task "run" (the network's whole
    # sync): when it is due next, and which scheduler or worker holds it until when.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    runs: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
