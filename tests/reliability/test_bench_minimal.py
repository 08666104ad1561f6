"""The benchmark's minimal plan (bench/minimal.py) and the emulator's ground truth it
reads (`/__bench/media`, bench/sandbox_server.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest
from bench import report
from bench.minimal import media_batches, media_list_pages, minimal_plan, stories_calls
from bench.sandbox_server import control_app
from bench.scenarios import call_kind

from metrics_connect.networks.instagram_business.emulator.network import build_sandbox


@pytest.mark.parametrize(
    ("newer", "in_span", "older", "pages"),
    [
        (4, 494, 300, 10),  # 498 listed: the first older post is the 499th, on page 10
        (0, 50, 1, 2),  # a full page, then one more to meet the older post
        (0, 50, 0, 1),  # nothing older: the list ends with the first page
        (0, 49, 7, 1),
        (30, 0, 9, 1),
        (0, 0, 0, 1),  # an empty list is still one call
        (120, 10, 0, 3),
    ],
)
def test_list_pages_until_the_list_passes_the_first_day(
    newer: int, in_span: int, older: int, pages: int
) -> None:
    assert media_list_pages(newer, in_span, older) == pages


def test_batches_of_fifty_and_stories() -> None:
    assert [media_batches(n) for n in (0, 1, 50, 51, 494)] == [0, 1, 1, 2, 10]
    assert stories_calls(live=0, in_span=0) == (1, 0)
    assert stories_calls(live=60, in_span=3) == (2, 1)


def test_minimal_plan_keeps_exact_calls_and_sizes_paged_ones() -> None:
    fetches = [
        {
            "dataset": "account_daily",
            "start": "2026-01-01",
            "end": "2026-01-30",
            "estimated": False,
            "calls": [{"path": "1/insights"}, {"path": "batch"}],
        },
        {
            "dataset": "media",
            "start": "2025-01-01",
            "end": "2026-01-30",
            "estimated": True,
            "estimate": {"basis": "followers_snapshot.media_count"},
            "calls": [{"path": "1/media"}, {"path": "batch"}],
        },
        # An explain from before `estimated` existed: paged by its dataset.
        {"dataset": "stories", "start": "x", "end": "y", "calls": [{"path": "1/stories"}]},
    ]
    truths = [
        {"in_span": 120, "newer": 5, "older": 40, "stories_live": 0, "stories_in_span": 0},
        {"in_span": 0, "newer": 0, "older": 0, "stories_live": 2, "stories_in_span": 2},
    ]
    plan = minimal_plan(fetches, truths, call_kind)
    assert plan.chains == [2, 3 + 3, 1 + 1]
    assert plan.calls == 10
    assert plan.by_kind == {"direct": 1, "batch": 1 + 3 + 1, "list page": 3 + 1}
    assert [(p.pages, p.batches, p.explain_basis) for p in plan.paged] == [
        (3, 3, "followers_snapshot.media_count"),
        (1, 1, None),
    ]


async def test_the_emulator_counts_media_around_a_span() -> None:
    network = build_sandbox()
    network.controls.clock.set(datetime(2026, 11, 20, 15, 0, tzinfo=network.sandbox.tz))
    sandbox = network.sandbox
    today = sandbox.today()
    start, end = today - timedelta(days=90), today - timedelta(days=1)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=control_app(network)), base_url="http://t"
    ) as http:
        body = (
            await http.get(
                "/__bench/media", params={"start": start.isoformat(), "end": end.isoformat()}
            )
        ).json()
        bad = await http.get("/__bench/media", params={"start": "yesterday"})
    media = sandbox.media()
    assert body["in_span"] == sum(
        1 for m in media if start <= sandbox.local_day(m.timestamp) <= end
    )
    assert body["newer"] == sum(1 for m in media if sandbox.local_day(m.timestamp) > end)
    assert body["in_span"] + body["newer"] + body["older"] == len(media)
    assert body["in_span"] > 50 and body["older"] > 0
    assert body["stories_live"] == len(sandbox.live_stories())
    assert bad.status_code == 422


def test_report_rows_judge_calls_against_the_minimal_plan() -> None:
    cold = {
        "wall_seconds": 5.0,
        "status": 200,
        "outcomes": {"ok": 87},
        "upstream_http_requests": 181,
        "upstream_endpoint_calls": 1405,
        "plan_calls": 181,
        "plan_exact_calls": 161,
        "plan_estimated_calls": 20,
        "minimal_calls": 181,
        "plan_by_kind": {"direct": 136, "list page": 10, "batch": 35},
        "minimal_by_kind": {"direct": 136, "list page": 10, "batch": 35},
        "upstream_by_kind": {"direct": 136, "list page": 10, "batch": 35},
        "minimal_paged": [
            {
                "dataset": "media",
                "explain_calls": 20,
                "explain_basis": "followers_snapshot.media_count",
                "explain_objects": 493,
                "calls": 20,
                "pages": 10,
                "batches": 10,
                "truth": {"in_span": 494},
            }
        ],
        "plan_critical_path_calls": 46,
        "critical_path_seconds": 4.6,
        "wall_over_critical_path": 5.0 / 4.6,
        "critical_path_calls_with_paging": 46,
        "latency_ms": 100.0,
    }
    rows = {measure: (value, verdict) for measure, value, _, verdict in report.rows({"cold": cold})}
    assert rows["cold: upstream HTTP calls vs minimal plan"] == (
        "181 vs 181 (1405 Graph operations)",
        "met",
    )
    explained = rows["cold: ?explain=true's plan, exact + estimated (paged fetches)"][0]
    assert explained == (
        "181 = 161 exact + 20 estimated; media: 20 estimated "
        "(followers_snapshot.media_count, 493 objects) vs 20 minimal "
        "(10 pages + 10 batches for 494 in the span)"
    )
    cold["upstream_http_requests"] = 182
    rows = {measure: (value, verdict) for measure, value, _, verdict in report.rows({"cold": cold})}
    assert rows["cold: upstream HTTP calls vs minimal plan"][1] == "MISSED"
