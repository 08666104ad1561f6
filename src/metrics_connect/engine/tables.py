"""The fact store's tables (Core tables: the hot paths read them without ORM objects).

- fact_rows:     daily and snapshot rows, per (integration, dataset, variant, day).
- fact_objects:  object rows (posts, stories, ads) per (integration, dataset, variant, id).
- fact_periods:  the rows of one exact period (period-unique datasets).
- fact_coverage: which days of a (dataset, variant) are stored, when they were fetched
                 and whether they are settled (never refetched).
- fact_fetch_log: one line per upstream fetch (engine or sync), for operators.

`notes` (fact_coverage per day, fact_periods per period): a JSON array of the notes the
connector put on what it returned (FetchResult.notes: "sampled"...), NULL when exact.

A "variant" is the canonical key of a fetch's breakdowns, filters and options.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from metrics_connect.db.base import Base, UTCDateTime

metadata = Base.metadata


def _integration_fk() -> Column[int]:
    return Column(
        "integration_id",
        Integer,
        ForeignKey("customer_integrations.id", ondelete="CASCADE"),
        nullable=False,
    )


fact_rows = Table(
    "fact_rows",
    metadata,
    Column("id", Integer, primary_key=True),
    _integration_fk(),
    Column("dataset", String(64), nullable=False),
    Column("variant", String(255), nullable=False),
    Column("day", Date, nullable=False),
    Column("keys", Text, nullable=False),
    Column("vals", Text, nullable=False),
    Index("ix_fact_rows_lookup", "integration_id", "dataset", "variant", "day"),
    # Each keys' latest day in a period, read from the index alone (stock snapshots).
    Index("ix_fact_rows_latest", "integration_id", "dataset", "variant", "keys", "day"),
)

fact_objects = Table(
    "fact_objects",
    metadata,
    Column("id", Integer, primary_key=True),
    _integration_fk(),
    Column("dataset", String(64), nullable=False),
    Column("variant", String(255), nullable=False),
    Column("object_id", String(128), nullable=False),
    Column("day", Date, nullable=False),
    Column("attributes", Text, nullable=False),
    Column("vals", Text, nullable=False),
    Column("fetched_at", UTCDateTime(), nullable=False),
    UniqueConstraint("integration_id", "dataset", "variant", "object_id", name="uq_fact_objects"),
    Index("ix_fact_objects_lookup", "integration_id", "dataset", "variant", "day"),
)

fact_periods = Table(
    "fact_periods",
    metadata,
    Column("id", Integer, primary_key=True),
    _integration_fk(),
    Column("dataset", String(64), nullable=False),
    Column("variant", String(255), nullable=False),
    Column("start", Date, nullable=False),
    Column("end", Date, nullable=False),
    Column("rows", Text, nullable=False),
    Column("fetched_at", UTCDateTime(), nullable=False),
    Column("settled", Boolean, nullable=False),
    Column("notes", Text, nullable=True),
    UniqueConstraint(
        "integration_id", "dataset", "variant", "start", "end", name="uq_fact_periods"
    ),
)

fact_coverage = Table(
    "fact_coverage",
    metadata,
    _integration_fk(),
    Column("dataset", String(64), nullable=False),
    Column("variant", String(255), nullable=False),
    Column("day", Date, nullable=False),
    Column("fetched_at", UTCDateTime(), nullable=False),
    Column("settled", Boolean, nullable=False),
    Column("notes", Text, nullable=True),
    PrimaryKeyConstraint("integration_id", "dataset", "variant", "day", name="pk_fact_coverage"),
)

fact_fetch_log = Table(
    "fact_fetch_log",
    metadata,
    Column("id", Integer, primary_key=True),
    _integration_fk(),
    Column("dataset", String(64), nullable=False),
    Column("variant", String(255), nullable=False),
    Column("start", Date, nullable=False),
    Column("end", Date, nullable=False),
    Column("fetched_at", UTCDateTime(), nullable=False),
    Column("origin", String(16), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("objects", Integer, nullable=False),
    Index("ix_fact_fetch_log_integration", "integration_id", "fetched_at"),
)
