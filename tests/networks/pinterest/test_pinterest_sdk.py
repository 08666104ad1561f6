"""Conformance: Pinterest's official Python SDK (pinterest-api-sdk 0.2.7 and its
generated client) drives the Pinterest (organic) emulator on loopback: the account, its
analytics with and without a split, the pins and boards with bookmark paging, a pin's
analytics, and the 90-day limit in Pinterest's error envelope."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from openapi_generated.pinterest_client.api.pins_api import PinsApi
from openapi_generated.pinterest_client.api.user_account_api import UserAccountApi
from openapi_generated.pinterest_client.configuration import Configuration
from openapi_generated.pinterest_client.exceptions import ApiException
from pinterest.client import PinterestSDKClient
from pinterest.organic.boards import Board

from metrics_connect.networks.pinterest.emulator import data
from metrics_connect.networks.pinterest.emulator.network import build_sandbox
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN
from metrics_connect.sandbox.oauth.serve import serve_in_background
from metrics_connect.sandbox.registry import SandboxNetwork

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
START, END = date(2026, 11, 1), date(2026, 11, 30)


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    network: SandboxNetwork = build_sandbox()
    network.controls.clock.set(NOW)
    running = serve_in_background(network.app)
    yield running.base_url
    running.stop()


def client(base_url: str) -> PinterestSDKClient:
    config = Configuration(host=f"{base_url}/v5", access_token=DEMO_ACCESS_TOKEN)
    return PinterestSDKClient(configuration=config)


def raw(metric: str, split: str = "NO_SPLIT") -> dict[str, int]:
    out: dict[str, int] = {}
    for i in range((END - START).days + 1):
        for key, values in data.account_day(START + timedelta(days=i), split).items():
            out[key] = out.get(key, 0) + values[metric]
    return out


def test_the_account_and_its_analytics_by_split(base_url: str) -> None:
    api = UserAccountApi(client(base_url))
    account = api.user_account_get()
    assert (account.username, account.account_type) == (data.USER.username, "BUSINESS")
    assert account.follower_count == data.followers(NOW)
    whole = api.user_account_analytics(START, END, metric_types=["IMPRESSION", "SAVE"])
    assert whole["all"]["summary_metrics"]["IMPRESSION"] == raw("IMPRESSION")["all"]
    assert len(whole["all"]["daily_metrics"]) == 30
    split = api.user_account_analytics(
        START, END, metric_types=["IMPRESSION"], split_field="PIN_FORMAT"
    )
    answer = split.to_dict()  # a model of additional properties: one per split value
    by_format = {k: v["summary_metrics"]["IMPRESSION"] for k, v in answer.items()}
    assert by_format == raw("IMPRESSION", "PIN_FORMAT")


def test_pins_and_boards_page_by_bookmark(base_url: str) -> None:
    sdk = client(base_url)
    pins_api = PinsApi(sdk)
    seen: list[str] = []
    bookmark = None
    for _ in range(10):
        kwargs = {"page_size": 50, **({"bookmark": bookmark} if bookmark else {})}
        page = pins_api.pins_list(**kwargs)
        seen += [p["id"] for p in page["items"]]
        bookmark = page.get("bookmark")
        if not bookmark:
            break
    assert seen[:400] == [p.id for p in data.pins_until(NOW)][:400]
    boards, _ = Board.get_all(page_size=2, client=sdk)
    assert [b.name for b in boards] == [b.name for b in data.BOARDS[:2]]
    newest = data.pins_until(NOW)[5]
    analytics = pins_api.pins_analytics(newest.id, START, END, ["IMPRESSION", "SAVE"])
    days = [START + timedelta(days=i) for i in range(30)]
    expected = sum(data.pin_totals(newest.number, d)["IMPRESSION"] for d in days)
    assert analytics["all"]["summary_metrics"]["IMPRESSION"] == expected


def test_the_90_day_limit_answers_pinterests_envelope(base_url: str) -> None:
    too_old = NOW.date() - timedelta(days=91)
    with pytest.raises(ApiException) as refused:
        UserAccountApi(client(base_url)).user_account_analytics(too_old, too_old)
    assert refused.value.status == 400 and json.loads(refused.value.body)["code"] == 1
