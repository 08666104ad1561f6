"""The TikTok Ads emulator's refusals keep their codes whatever the refused value says: a
bad metric is 40002 (invalid parameter) even when its name reads like a permission
refusal, and only another advertiser is 40001 (no permission)."""

from __future__ import annotations

from typing import Any

import httpx

from metrics_connect.networks.tiktok_ads.emulator.network import build_sandbox
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN


async def test_a_refused_value_does_not_change_the_code() -> None:
    network = build_sandbox()
    advertiser = network.demo_account.external_id
    params = {
        "advertiser_id": advertiser,
        "report_type": "BASIC",
        "data_level": "AUCTION_ADVERTISER",
        "dimensions": '["advertiser_id"]',
        "start_date": "2026-11-01",
        "end_date": "2026-11-02",
    }
    transport = httpx.ASGITransport(app=network.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:

        async def ask(**changes: str) -> Any:
            answer = await client.get(
                "/open_api/v1.3/report/integrated/get/",
                params={**params, **changes},
                headers={"Access-Token": DEMO_ACCESS_TOKEN},
            )
            return answer.json()

        odd_metric = await ask(metrics='["No permission"]')
        other_advertiser = await ask(metrics='["spend"]', advertiser_id="1")
    assert (odd_metric["code"], odd_metric["message"]) == (
        40002,
        "metrics: No permission is not a valid metric for this report",
    )
    assert other_advertiser["code"] == 40001
