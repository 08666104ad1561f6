"""RD Station Marketing on the kit: the analytics endpoints as daily, objects and period
datasets (docs/networks/rd_station.md). What streams.yaml cannot say: the e-mail
campaigns are listed for the request's own days (`start_date`/`end_date` on the
listing too), and the account's name comes from `/marketing/account_info`."""

from __future__ import annotations

from metrics_connect.connectors.base import AccountInfo, FetchRequest
from metrics_connect.connectors.kit.executor import KitConnector
from metrics_connect.connectors.kit.json_rest.client import JsonRestClient
from metrics_connect.connectors.kit.spec import Stream, streams_of


class RdStationConnector(KitConnector):
    slug = "rd_station"
    streams = streams_of(__file__)
    client_class = JsonRestClient

    def variables(self, request: FetchRequest, stream: Stream) -> dict[str, str]:
        days = {"since": request.start.isoformat(), "until": request.end.isoformat()}
        return {**super().variables(request, stream), **days}

    async def account_info(self) -> AccountInfo:
        body = await self.client.get("marketing/account_info", {})
        name = body.get("name") if isinstance(body, dict) else None
        return AccountInfo(name=str(name or "RD Station Marketing"), timezone="America/Sao_Paulo")
