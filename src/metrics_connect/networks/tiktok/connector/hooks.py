"""TikTok (a creator's business account) on the kit: what streams.yaml cannot say.

Business errors come in HTTP 200 bodies (`code` other than 0). Videos are listed newest
first with `create_time` in unix seconds: the listing stops at the first video older
than the request, and each becomes an object on its UTC day.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from metrics_connect.connectors.base import AccountInfo, FetchRequest, FetchResult, ObjectRow
from metrics_connect.connectors.kit.executor import KitConnector
from metrics_connect.connectors.kit.http import KitClient
from metrics_connect.connectors.kit.json_rest.client import JsonRestClient
from metrics_connect.connectors.kit.spec import streams_of

STREAMS = streams_of(__file__)


class TikTokClient(JsonRestClient):
    """The family's client, reading TikTok's business errors in HTTP 200 bodies."""

    family_name = "TikTok API for Business"

    def is_error_body(self, body: Any) -> bool:
        return isinstance(body, dict) and body.get("code") not in (0, None)


class TikTokConnector(KitConnector):
    slug = "tiktok"
    streams = STREAMS
    client_class: ClassVar[type[KitClient]] = TikTokClient

    async def fetch_objects(self, request: FetchRequest) -> FetchResult:
        call, requester = self.listing(request)
        objects: list[ObjectRow] = []
        async for page, _ in self.client.pages(
            call.method, call.path, call.params, requester.paginator, requester.selector
        ):
            older = False
            for item in page:
                created = datetime.fromtimestamp(int(item["create_time"]), UTC)
                row = self.object_row(request, {**item, "create_time": created.isoformat()}, {})
                if row.day < request.start:
                    older = True
                elif row.day <= request.end:
                    objects.append(row)
            if older:  # newest first: the rest is older still
                break
        return FetchResult(objects=objects)

    async def account_info(self) -> AccountInfo:
        body = await self.client.get(
            f"open_api/{self.version}/business/get/",
            {"business_id": self.ctx.external_id, "fields": '["username","display_name"]'},
        )
        data = body.get("data") or {}
        name = data.get("display_name") or data.get("username") or self.ctx.external_id
        return AccountInfo(name=str(name), timezone="UTC", currency=None)
