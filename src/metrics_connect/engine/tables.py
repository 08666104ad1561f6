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
    Float,
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

# Records datasets (docs/records.md): objects the network keeps and changes (deals,
# contacts, calls), one row per (integration, dataset, record id) with its latest values,
# upserted by the incremental sync. The common fields are columns too (dates, owner,
# pipeline, stage, amount and currency) so that operators and later reads can select by
# them; `fields` (JSON) holds every normalized field. A deleted or merged record keeps its
# row with `deleted` set (no figure counts it) until the network lists it live again.
records = Table(
    "records",
    metadata,
    Column("id", Integer, primary_key=True),
    _integration_fk(),
    Column("dataset", String(64), nullable=False),
    Column("record_id", String(128), nullable=False),
    Column("created_at", UTCDateTime(), nullable=True),
    Column("updated_at", UTCDateTime(), nullable=True),
    Column("closed_at", UTCDateTime(), nullable=True),
    Column("owner", String(128), nullable=True),
    Column("pipeline", String(128), nullable=True),
    Column("stage", String(128), nullable=True),
    Column("amount", Float, nullable=True),
    Column("currency", String(8), nullable=True),
    Column("deleted", Boolean, nullable=False),
    Column("fields", Text, nullable=False),
    Column("synced_at", UTCDateTime(), nullable=False),
    UniqueConstraint("integration_id", "dataset", "record_id", name="uq_records"),
    Index("ix_records_lookup", "integration_id", "dataset", "deleted"),
)

# Where each (integration, records dataset)'s incremental sync stands: the connector's
# cursor (opaque to us), when it last reached the present, and when the backfill ended.
record_cursors = Table(
    "record_cursors",
    metadata,
    _integration_fk(),
    Column("dataset", String(64), nullable=False),
    Column("cursor", Text, nullable=True),
    Column("synced_at", UTCDateTime(), nullable=True),
    Column("backfilled_at", UTCDateTime(), nullable=True),
    PrimaryKeyConstraint("integration_id", "dataset", name="pk_record_cursors"),
)
