"""HubSpot marketing's contacts as records: the demo's replay of the sandbox's clock
through the real sync (CRM search by lastmodifieddate, archived contacts apart), then
new contacts, leads and customers by their dates equal to the emulator's raw records;
a contact deleted after a sync is gone from the next answer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import httpx

from metrics_connect import clock
from metrics_connect.api.app import create_app
from metrics_connect.networks.hubspot_marketing.emulator import contacts
from metrics_connect.networks.hubspot_marketing.emulator.data import TZ
from metrics_connect.networks.hubspot_marketing.emulator.network import build_sandbox
from metrics_connect.runtime import Runtime
from metrics_connect.settings import Settings
from metrics_connect.sync.records import replay_demo
from tests.conftest import connect_account, serving

NOW = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)
START, END = date(2026, 11, 1), date(2026, 11, 30)
METRICS = ("crm_new_contacts", "crm_new_leads", "crm_new_customers")
FIELDS = {
    "crm_new_contacts": "createdate",
    "crm_new_leads": "hs_lifecyclestage_lead_date",
    "crm_new_customers": "hs_lifecyclestage_customer_date",
}


def raw(metric: str, at: datetime) -> int:
    field = FIELDS[metric]
    return sum(
        1
        for _, fields in contacts.book().live("contacts", at)
        if fields.get(field)
        and START
        <= datetime.fromisoformat(fields[field].replace("Z", "+00:00")).astimezone(TZ).date()
        <= END
    )


async def test_contacts_by_their_dates_after_the_replay_and_a_deletion(
    sqlite_url: str, settings_factory: Callable[..., Settings]
) -> None:
    sandbox = build_sandbox()
    sandbox.controls.clock.set(NOW)
    clock.set_clock(lambda: NOW)
    try:
        settings = settings_factory(
            sqlite_url, hubspot_marketing_api_base_url="http://hubspot.test"
        )
        runtime = Runtime.from_settings(settings)
        runtime.upstream_transports["hubspot_marketing"] = httpx.ASGITransport(app=sandbox.app)
        account = await connect_account(
            runtime, "hubspot_marketing", sandbox.demo_account, connected_at=NOW - timedelta(days=3)
        )
        await replay_demo(runtime, account.integration_uuid, sandbox)
        body = {
            "customer_integration": account.integration_uuid,
            "start": START.isoformat(),
            "end": END.isoformat(),
            "metrics": [
                {"id": m, "component": "number_v1", "metrics": [m], "dimensions": []}
                for m in METRICS
            ],
        }
        async with serving(create_app(runtime=runtime)) as client:
            answer = (
                await client.post("/metrics/get-data", json=body, headers=account.headers)
            ).json()
            for metric in METRICS:
                assert answer[metric]["values"] == raw(metric, NOW), metric
            assert raw("crm_new_customers", NOW) > 0
            # A November contact deleted an hour later: the next sync drops it.
            later = NOW + timedelta(hours=1)
            victim = next(
                r
                for r, f in contacts.book().live("contacts", NOW)
                if START <= r.created.astimezone(TZ).date() <= END
            )
            saved = victim.archived_at
            victim.archived_at = NOW + timedelta(minutes=30)
            contacts.book().forget()
            sandbox.controls.clock.set(later)
            clock.set_clock(lambda: later)
            try:
                again = (
                    await client.post("/metrics/get-data", json=body, headers=account.headers)
                ).json()
            finally:
                victim.archived_at = saved
                contacts.book().forget()
            assert again["crm_new_contacts"]["values"] == answer["crm_new_contacts"]["values"] - 1
    finally:
        clock.set_clock(None)
