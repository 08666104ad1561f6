"""The emulator answers in the shapes of E-goi's OpenAPI description, as its official
SDKs document them (E-goi/sdk-python `docs/models/*.md`, `egoi_api/paths/*/get.py`).
The SDK itself (`egoi-python-client`) is not on the package index this project installs
from, so these are its documented field names and bounds, checked one by one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from metrics_connect.networks.egoi.emulator.network import build_sandbox
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
KEY = {"Apikey": DEMO_ACCESS_TOKEN}
# Campaign, EmailReportOverall.overall, Overall.overall (SMS), WebPushStats, ComplexList
# stats, Automation, Unauthorized/Forbidden/TooManyRequests (Problem Details).
CAMPAIGN = {"campaign_hash", "status", "channel", "internal_name", "list_id", "title",
            "created_by", "group_id", "created", "updated", "start_date", "end_date",
            "schedule_date"}  # fmt: skip
EMAIL = {"sends", "opens", "unique_opens", "clicks", "unique_clicks", "hard_bounces",
         "soft_bounces", "complaints", "unsubscriptions"}  # fmt: skip
SMS = {"destinations", "sends", "delivered", "error", "invalid", "pending"}
WEB_PUSH = {"opens", "sends", "clicks", "bounces"}
STATS = {"total_contacts", "total_active", "total_inactive", "total_removed",
         "total_unconfirmed", "total_waiting_new_confirmation"}  # fmt: skip
AUTOMATION = {"automation_id", "title", "list_id", "status", "created_by",
              "allow_multiple_contacts", "contact_limit", "created", "updated"}  # fmt: skip
PROBLEM = {"type", "title", "status", "detail"}


@pytest.fixture(scope="module")
def app() -> Any:
    sandbox = build_sandbox()
    sandbox.controls.clock.set(NOW)
    return sandbox.app


@pytest.fixture(scope="module")
def api(app: Any) -> httpx.Client:
    return TestClient(app, base_url="http://egoi.test", headers=KEY)


def test_collections_and_reports_have_the_documented_fields(api: httpx.Client) -> None:
    campaigns = api.get("/campaigns", params={"status": "sent", "limit": 100}).json()
    assert set(campaigns) == {"total_items", "items"} and len(campaigns["items"]) == 100
    by_channel = {}
    for item in campaigns["items"]:
        assert set(item) == CAMPAIGN and item["status"] == "sent"
        by_channel.setdefault(item["channel"], item["campaign_hash"])
    assert set(by_channel) == {"email", "sms", "web_push"}
    for kind, channel, fields in (("email", "email", EMAIL), ("sms", "sms", SMS),
                                  ("web-push", "web_push", WEB_PUSH)):  # fmt: skip
        report = api.get(f"/reports/{kind}/{by_channel[channel]}").json()
        assert report["campaign_hash"] == by_channel[channel]
        assert set(report["overall"]) == fields
    listed = api.get("/lists", params={"limit": 100}).json()["items"]
    one = api.get(f"/lists/{listed[0]['list_id']}").json()
    assert set(one["stats"]) == STATS
    contacts = api.get(f"/lists/{listed[0]['list_id']}/contacts", params={"limit": 1000}).json()
    base = contacts["items"][0]["base"]
    assert {"contact_id", "status", "email", "email_status"} <= set(base)
    assert base["status"] in ("active", "inactive", "removed", "unconfirmed")
    automations = api.get("/automations").json()["items"]
    assert automations and all(set(a) == AUTOMATION for a in automations)
    assert all(a["status"] in ("active", "inactive") for a in automations)
    assert set(api.get("/my-account").json()["general_info"]) >= {"client_id", "name"}


@pytest.mark.parametrize(
    ("path", "limit", "ok"),
    [("/campaigns", 100, True), ("/campaigns", 101, False), ("/lists", 101, False),
     ("/automations", 101, False), ("/lists/3/contacts", 1000, True),
     ("/lists/3/contacts", 1001, False)],
)  # fmt: skip
def test_limits_follow_the_documented_bounds(
    api: httpx.Client, path: str, limit: int, ok: bool
) -> None:
    r = api.get(path, params={"limit": limit, "offset": 0})
    assert (r.status_code == 200) is ok
    if not ok:
        assert r.status_code == 422 and set(r.json()) == PROBLEM


def test_errors_are_problem_details(app: Any, api: httpx.Client) -> None:
    missing = TestClient(app, base_url="http://egoi.test").get("/campaigns")
    assert missing.status_code == 401 and set(missing.json()) == PROBLEM
    assert missing.json()["title"] == "Unauthorized"
    assert missing.headers["content-type"].startswith("application/problem+json")
    gone = api.get("/reports/email/0000000000000000")
    assert gone.status_code == 404 and gone.json()["title"] == "Not Found"
