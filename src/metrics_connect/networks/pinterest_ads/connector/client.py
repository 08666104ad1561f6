"""Pinterest's asynchronous reports on the JSON REST client.

The planned call creates the report (POST .../reports with its JSON body); its follow-ups
are the polls (GET on the same path with `token=`) until the status is FINISHED, and the
download of the file at the answer's `url`: a signed storage URL, fetched without our
token. The file is a JSON object of rows by entity id.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from metrics_connect.connectors.base import UpstreamError, UpstreamTransient
from metrics_connect.connectors.kit.calls import Answer, Call
from metrics_connect.connectors.kit.json_rest.client import JsonRestClient
from metrics_connect.connectors.kit.spec import AsyncReport, Requester


class PinterestAdsClient(JsonRestClient):
    family_name = "Pinterest API"

    async def run(
        self, call: Call, requester: Requester, report: AsyncReport | None = None
    ) -> Answer:
        if requester.method != "POST" or report is None:
            return await super().run(call, requester, report)
        created = await self.request("POST", call.path, {}, call.body)
        token = str(created.get(report.id_field) or "") if isinstance(created, dict) else ""
        if not token:
            raise UpstreamError("Pinterest API: the report was not created (no token)")
        status = await self.poll(call, report, token)
        url = str(status.get(report.download_path) or "")
        body = await self.download(url)
        records = [row for rows in body.values() if isinstance(rows, list) for row in rows]
        return Answer(call, [r for r in records if isinstance(r, dict)], body)

    async def poll(self, call: Call, report: AsyncReport, token: str) -> dict[str, Any]:
        poll = report.poll
        deadline = time.monotonic() + max(5.0, self.budget * poll.budget_factor)
        path = poll.path.format(path=call.path, run_id=token)
        for delay in (*poll.delays, *[poll.delays[-1]] * 100):
            await asyncio.sleep(delay)
            status = await self.request("GET", path, {"token": token})
            state = str(status.get(poll.status_field) if isinstance(status, dict) else "")
            if state in poll.completed:
                return dict(status)
            if state in poll.failed:
                raise UpstreamTransient(f"Pinterest API: the report ended {state}")
            if time.monotonic() > deadline:
                break
        raise UpstreamTransient("Pinterest API: the report was not ready in time")

    async def download(self, url: str) -> dict[str, Any]:
        if not url:
            raise UpstreamTransient("Pinterest API: a finished report without a URL")
        try:
            response = await self.ctx.http.get(url)
        except httpx.HTTPError as exc:  # a storage host: worth another try later
            name = type(exc).__name__
            raise UpstreamTransient(f"Pinterest report download failed ({name})") from None
        if response.status_code != 200:
            raise UpstreamTransient(f"Pinterest report download answered {response.status_code}")
        body = response.json()
        return body if isinstance(body, dict) else {}
