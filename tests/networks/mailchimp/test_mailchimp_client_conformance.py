"""Mailchimp's official Python client (`mailchimp-marketing`, real HTTP on loopback)
against the emulator: the account root, campaign reports paged with `count`/`offset` to
`total_items` under `since_send_time`, `fields`, one report, open details with `since`,
audiences and their growth history, OAuth (Bearer) and API-key (Basic) auth, and
Mailchimp's Problem Details errors as the client's ApiClientError."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import mailchimp_marketing as MailchimpMarketing
import pytest
from mailchimp_marketing.api_client import ApiClientError

from metrics_connect.networks.mailchimp.emulator.data import MailchimpData, iso
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN
from metrics_connect.sandbox.oauth.serve import serve_in_background
from metrics_connect.sandbox.registry import SandboxNetwork, build_sandbox

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[SandboxNetwork, str]]:
    sandbox = build_sandbox("mailchimp")
    sandbox.controls.clock.set(NOW)
    server = serve_in_background(sandbox.app, lifespan="off")
    try:
        yield sandbox, server.base_url
    finally:
        server.stop()


def client(base_url: str, **config: str) -> MailchimpMarketing.Client:
    api = MailchimpMarketing.Client()
    api.set_config(config or {"access_token": DEMO_ACCESS_TOKEN, "server": "us21"})
    api.api_client.host = f"{base_url.rstrip('/')}/3.0"  # the data center's host, here
    return api


def data_of(sandbox: SandboxNetwork) -> MailchimpData:
    return sandbox.data  # type: ignore[no-any-return]


def test_the_account_root(served: tuple[SandboxNetwork, str]) -> None:
    sandbox, base_url = served
    root = client(base_url).root.get_root()
    assert root["account_id"] == data_of(sandbox).account["account_id"]
    assert root["account_timezone"] == "America/Sao_Paulo"


def test_reports_page_to_total_items_since_a_send_time(served: tuple[SandboxNetwork, str]) -> None:
    sandbox, base_url = served
    data = data_of(sandbox)
    since = NOW - timedelta(days=60)
    api = client(base_url).reports
    seen: list[dict] = []  # type: ignore[type-arg]
    total = None
    while total is None or len(seen) < total:
        page = api.get_all_campaign_reports(
            count=7, offset=len(seen), since_send_time=iso(since), type="regular"
        )
        total = page["total_items"]
        assert page["reports"]
        seen += page["reports"]
    expected = [c for c in data.sent(NOW) if c.send_time >= since]
    assert total == len(expected) == len({r["id"] for r in seen})
    raw = {c.id: data.report(c, NOW) for c in expected}
    for report in seen:
        assert report == raw[report["id"]]
        delivered = report["emails_sent"] - sum(
            report["bounces"][k] for k in ("hard_bounces", "soft_bounces")
        )
        assert report["opens"]["open_rate"] == pytest.approx(
            report["opens"]["unique_opens"] / delivered, abs=1e-6
        )
    trimmed = api.get_all_campaign_reports(count=2, fields=["reports.id", "total_items"])
    assert set(trimmed) == {"reports", "total_items"} and set(trimmed["reports"][0]) == {"id"}
    one = api.get_campaign_report(seen[0]["id"])
    assert one["opens"] == seen[0]["opens"]


def test_open_details_since_an_instant(served: tuple[SandboxNetwork, str]) -> None:
    sandbox, base_url = served
    data = data_of(sandbox)
    campaign = max(data.sent(NOW), key=lambda c: c.send_time)
    since = campaign.send_time + timedelta(hours=12)
    api = client(base_url).reports
    details = api.get_campaign_open_details(campaign.id, count=1000, since=iso(since))
    opens = [
        e
        for e in data.until(campaign, NOW)
        if e[1] == "open" and e[0] > since.replace(microsecond=0)
    ]
    assert details["total_opens"] == len(opens) > 0
    assert details["total_items"] == len({e[2] for e in opens}) == len(details["members"])
    every = api.get_campaign_open_details(campaign.id, count=1000)
    report = api.get_campaign_report(campaign.id)
    assert every["total_opens"] == report["opens"]["opens_total"]
    assert every["total_items"] == report["opens"]["unique_opens"]


def test_audiences_and_their_growth(served: tuple[SandboxNetwork, str]) -> None:
    sandbox, base_url = served
    data = data_of(sandbox)
    api = client(base_url).lists
    lists = api.get_all_lists(count=10)
    assert lists["total_items"] == len(data.lists) == len(lists["lists"])
    first = lists["lists"][0]
    assert api.get_list(first["id"])["stats"] == first["stats"]
    assert first["stats"]["member_count"] == data.members(data.lists[0], NOW)
    growth = api.get_list_growth_history(first["id"], count=3)
    assert len(growth["history"]) == 3 and growth["history"][0]["month"] == "2026-11"


def test_api_key_auth_and_problem_details_errors(served: tuple[SandboxNetwork, str]) -> None:
    sandbox, base_url = served
    keyed = client(base_url, api_key=f"{DEMO_ACCESS_TOKEN}-us21")
    assert keyed.root.get_root()["account_name"] == "Acme Coffee"
    with pytest.raises(ApiClientError) as missing:
        client(base_url).reports.get_campaign_report("nope")
    body = json.loads(missing.value.text)
    assert missing.value.status_code == 404 and body["title"] == "Resource Not Found"
    sandbox.controls.switches.revoked_tokens.add(DEMO_ACCESS_TOKEN)
    try:
        with pytest.raises(ApiClientError) as refused:
            client(base_url).reports.get_all_campaign_reports()
    finally:
        sandbox.controls.switches.revoked_tokens.clear()
    assert refused.value.status_code == 403
    assert json.loads(refused.value.text)["status"] == 403
