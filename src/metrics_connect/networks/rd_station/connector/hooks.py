"""RD Station Marketing on the kit: the analytics endpoints as daily, objects and period
datasets, the leads base as records (docs/networks/rd_station.md). What streams.yaml
cannot say: the e-mail campaigns are listed for the request's own days
(`start_date`/`end_date` on the listing too), the account's name comes from
`/marketing/account_info`, and the contacts are a segmentation's listing completed by
each contact's endpoints (`contacts.py`)."""

from __future__ import annotations

from typing import Any

from metrics_connect.connectors.base import AccountInfo, FetchRequest, PlannedCall, RecordPage
from metrics_connect.connectors.kit.executor import KitConnector
from metrics_connect.connectors.kit.json_rest.client import JsonRestClient
from metrics_connect.connectors.kit.spec import Stream, streams_of
from metrics_connect.networks.rd_station.connector.contacts import ContactRecords


class RdStationConnector(KitConnector):
    slug = "rd_station"
    streams = streams_of(__file__)
    client_class = JsonRestClient

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.contacts = ContactRecords(self.client)

    def variables(self, request: FetchRequest, stream: Stream) -> dict[str, str]:
        days = {"since": request.start.isoformat(), "until": request.end.isoformat()}
        return {**super().variables(request, stream), **days}

    async def account_info(self) -> AccountInfo:
        body = await self.client.get("marketing/account_info", {})
        name = body.get("name") if isinstance(body, dict) else None
        return AccountInfo(name=str(name or "RD Station Marketing"), timezone="America/Sao_Paulo")

    def plan_record_calls(self, dataset: str, cursor: str | None) -> list[PlannedCall]:
        return self.contacts.plan(dataset, cursor)

    async def fetch_records(self, dataset: str, cursor: str | None) -> RecordPage:
        return await self.contacts.fetch(dataset, cursor)
