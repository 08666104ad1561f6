"""The playground's pure parts: periods, the widget list, words for answers and plans,
the curl command, and the demo's banner and sign-in link."""

from __future__ import annotations

import json
import shlex
from datetime import date

import httpx
import pytest

from metrics_connect.accounts.models import Customer, Merchant
from metrics_connect.demo.run import print_banner
from metrics_connect.demo.seed import DemoTenant
from metrics_connect.playground import present
from metrics_connect.playground.choices import widget_choices
from metrics_connect.playground.periods import PeriodError, resolve_periods
from metrics_connect.playground.runner import curl_command
from metrics_connect.playground.session import demo_sign_in_link
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox.serve import SandboxDirectory
from tests.conftest import ConnectedAccount
from tests.playground.conftest import hidden, merchant_token

TODAY = date(2026, 3, 15)


@pytest.mark.parametrize(
    ("preset", "start", "end"),
    [
        ("last_7_days", date(2026, 3, 8), date(2026, 3, 14)),
        ("last_30_days", date(2026, 2, 13), date(2026, 3, 14)),
        ("last_90_days", date(2025, 12, 15), date(2026, 3, 14)),
        ("this_month", date(2026, 3, 1), date(2026, 3, 15)),
        ("last_month", date(2026, 2, 1), date(2026, 2, 28)),
    ],
)
def test_presets_count_whole_days_of_the_account(preset: str, start: date, end: date) -> None:
    periods = resolve_periods(TODAY, preset, None, None, "none", None, None)
    assert (periods.start, periods.end) == (start, end)
    assert periods.comparison_start is None


def test_comparisons() -> None:
    previous = resolve_periods(TODAY, "last_7_days", None, None, "previous_period", None, None)
    assert (previous.comparison_start, previous.comparison_end) == (
        date(2026, 3, 1),
        date(2026, 3, 7),
    )
    leap = resolve_periods(TODAY, "custom", "2024-02-01", "2024-02-29", "previous_year", None, None)
    assert (leap.comparison_start, leap.comparison_end) == (date(2023, 2, 1), date(2023, 2, 28))
    custom = resolve_periods(TODAY, "this_month", None, None, "custom", "2025-03-01", "2025-03-15")
    assert custom.comparison_end == date(2025, 3, 15)
    with pytest.raises(PeriodError, match="as a date"):
        resolve_periods(TODAY, "custom", "yesterday", "2026-01-01", "none", None, None)
    with pytest.raises(PeriodError, match="comparison's end"):
        resolve_periods(TODAY, "this_month", None, None, "custom", "2025-03-02", "2025-03-01")
    with pytest.raises(PeriodError):
        resolve_periods(TODAY, "forever", None, None, "none", None, None)


def test_predefined_widgets_come_first_and_search_reads_labels_and_keys() -> None:
    choices = widget_choices("instagram_business")
    kinds = [c.predefined for c in choices]
    assert kinds == sorted(kinds, reverse=True) and kinds[0] and not kinds[-1]
    by_key = {c.key: c for c in choices}
    assert by_key["ig:clicks_breakdown"].label == "Count & CTR by Click Type"
    assert by_key["ig:follower_reach"].label == "Reach (Followers)"
    assert by_key["ig:reach_over_time"].widget["chart_type"] == "line"
    assert by_key["ig:clicks_breakdown"].matches("click type")
    assert by_key["ig:clicks_breakdown"].matches("CLICKS_BREAK")
    assert not by_key["ig:clicks_breakdown"].matches("followers")
    assert by_key["metric:reach"].widget == {
        "component": "number_v1",
        "metrics": ["reach"],
        "dimensions": [],
    }
    for slug in ("facebook_ads", "google_analytics_4"):
        assert any(c.predefined for c in widget_choices(slug))


def test_numbers_and_deltas_read_as_people_read_them() -> None:
    assert present.number(1234567) == "1,234,567"
    assert present.number(0.0016) == "0.0016"
    assert present.number(12.5, "percent") == "12.5 %"
    assert present.number(None) == "—"
    up = present.delta({"values": 100, "difference": 12.5, "absoluteDifference": 12.5})
    assert up is not None and up["arrow"] == "▲" and up["direction"] == "up"
    down = present.delta({"values": 10, "difference": -50.0, "absoluteDifference": -5})
    assert down is not None and down["arrow"] == "▼" and down["text"] == "-5 (-50 %)"
    assert present.delta({"values": None, "difference": None, "absoluteDifference": None}) is None


def test_errors_and_plans_in_words() -> None:
    error = present.error_of({"error": {"code": "integration_expired", "message": "x"}})
    assert error is not None and "reconnect" in error["words"]
    assert present.error_of({"values": 1}) is None
    plan = {
        "integration": {"timezone": "UTC"},
        "account_today": "2026-03-15",
        "store": [
            {
                "dataset": "account_daily",
                "variant": "-",
                "days_needed": 7,
                "days_stored": 5,
                "days_settled": 4,
            },
            {
                "dataset": "account_period",
                "variant": '{"b":["city"]}',
                "period": ["2026-03-01", "2026-03-07"],
                "stored": False,
                "settled": False,
            },
        ],
        "fetches": [
            {
                "dataset": "account_daily",
                "variant": "-",
                "start": "2026-03-13",
                "end": "2026-03-14",
                "reason": "missing",
                "estimated": False,
                "calls": [{"method": "GET", "path": "1/insights", "params": {}}],
            },
        ],
        "upstream_calls": 1,
        "upstream_calls_exact": 1,
        "upstream_calls_estimated": 0,
        "widgets": {},
    }
    words = present.plan_words(plan)
    assert "account_daily: 5 of 7 days stored, 4 of them settled." in words
    assert (
        "account_period (by city): the figure for 2026-03-01 to 2026-03-07 is not stored yet."
        in words
    )
    assert "1 upstream call would be made:" in words
    assert "account_daily from 2026-03-13 to 2026-03-14 (missing): 1 call." in words
    assert present.plan_calls(plan) == ["GET 1/insights"]
    plan.update(upstream_calls=0, fetches=[])
    assert present.plan_words(plan)[-1].startswith("No upstream call is needed")


def test_the_plan_in_words_names_shared_calls() -> None:
    batch = {"method": "POST", "path": "/v1beta/properties/1:batchRunReports", "params": {}}
    fetch = {"dataset": "users", "variant": "-", "reason": "missing", "estimated": False}
    plan = {
        "account_today": "2026-03-15",
        "integration": {"timezone": "UTC"},
        "store": [],
        "fetches": [
            fetch | {"start": "2026-03-01", "end": "2026-03-07", "calls": [], "shared_calls": 0},
            fetch | {"start": "2026-02-22", "end": "2026-02-28", "calls": [], "shared_calls": 0},
        ],
        "shared_calls": [{"fetches": [0, 1], "calls": [batch]}],
        "upstream_calls": 1,
        "widgets": {},
    }
    words = present.plan_words(plan)
    assert "users from 2026-03-01 to 2026-03-07 (missing): shared call group 0." in words
    assert "Shared call group 0: 1 call answering 2 fetches together." in words
    assert present.plan_calls(plan) == ["POST /v1beta/properties/1:batchRunReports"]


def test_the_curl_survives_a_shell() -> None:
    body = {"customer_integration": "u", "metrics": [{"id": "a", "label": "it's"}]}
    words = shlex.split(curl_command("http://h:1", body, explain=True).replace("\\\n", " "))
    assert words[4] == "http://h:1/metrics/get-data?explain=true"
    assert json.loads(words[words.index("-d") + 1]) == body


def test_a_chart_without_chart_type_is_a_line_over_time_and_bars_otherwise() -> None:
    assert present.chart_kind(None, [], ["date"]) == "line"
    assert present.chart_kind(None, [], ["city"]) == "bar"
    assert present.chart_kind("pie", [], ["gender"]) == "pie"


async def test_the_demo_banner_prints_the_playground_and_a_link_that_signs_in(
    pg_client: httpx.AsyncClient,
    pg_runtime: Runtime,
    account: ConnectedAccount,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with pg_runtime.db.session() as db:
        customer = await db.get(Customer, account.customer_id)
        assert customer is not None
        merchant = await db.get(Merchant, customer.merchant_id)
        assert merchant is not None
        merchant_uuid = merchant.uuid
    token = merchant_token(account)
    link = demo_sign_in_link(pg_runtime.settings, merchant_uuid, token)
    tenant = DemoTenant(merchant_token=token, customer_token="c", merchant_uuid=merchant_uuid)
    print_banner("http://testserver", tenant, SandboxDirectory(networks={}), link)
    out = capsys.readouterr().out
    assert "playground:      http://testserver/playground" in out
    assert f"sign in once:  {link}" in out
    assert "merchant token:" in out and "Try:" in out  # the rest of the banner stays
    assert token not in link

    page = await pg_client.get(link.removeprefix("http://testserver"))
    r = await pg_client.post(
        "/playground/sign-in/link",
        data={"ticket": hidden(page.text, "ticket"), "csrf_token": hidden(page.text, "csrf_token")},
    )
    assert r.status_code == 303
    assert "Coffee" in (await pg_client.get("/playground")).text
