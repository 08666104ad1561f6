"""The portal's contacts as CRM v3 records: one per new contact of the website
analytics (same day, same source), a lead at creation for the day's leads, a customer
some days later for the day's customers, a few deleted (archived) weeks later, so that
a "modified since" sync meets creations, lifecycle moves and deletions."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache

from metrics_connect.networks.hubspot_marketing.emulator.data import (
    FIRST_DAY,
    SPEC,
    TZ,
    traffic_rows,
)
from metrics_connect.sandbox.kit.records import RecordBook, TimedRecord, iso_ms
from metrics_connect.sandbox.kit.seeded import between, unit

LAST_DAY = date(2027, 3, 31)
DELETED_SHARE = 0.03
SOURCES = SPEC["traffic"]["contact_sources"]  # hs_analytics_source by source


def _contact(day: date, source: str, index: int, lead: bool, customer: bool) -> TimedRecord:
    key = (day, source, index)
    created = datetime.combine(day, time(), TZ) + timedelta(seconds=int(between(0, 86_399, *key)))
    record = TimedRecord(
        id=str(int(unit(*key) * 1e11)),
        object="contacts",
        created=created,
        created_field="createdate",
        modified_field="lastmodifieddate",
    )
    stage = "lead" if lead else "subscriber"
    record.change(
        created,
        {
            "lifecyclestage": stage,
            "hs_analytics_source": SOURCES[source],
            f"hs_lifecyclestage_{stage}_date": iso_ms(created),
        },
    )
    if customer:
        became = created + timedelta(days=between(2, 45, *key, "customer"))
        record.change(
            became,
            {"lifecyclestage": "customer", "hs_lifecyclestage_customer_date": iso_ms(became)},
        )
    if not customer and unit(*key, "deleted") < DELETED_SHARE:
        record.archived_at = created + timedelta(days=between(7, 60, *key, "deleted"))
    return record


@lru_cache(maxsize=1)
def book() -> RecordBook:
    """Every contact from the first day of traffic to LAST_DAY (the clock shows those
    created by its instant)."""
    contacts = RecordBook(("contacts",))
    day = FIRST_DAY
    while day <= LAST_DAY:
        for source, row in traffic_rows(day, "source").items():
            for i in range(row["contacts"]):
                lead, customer = i < row["leads"], i < row["customers"]
                contacts.records["contacts"].append(_contact(day, source, i, lead, customer))
        day += timedelta(days=1)
    contacts.seal()
    return contacts
