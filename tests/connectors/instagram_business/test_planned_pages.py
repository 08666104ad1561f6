"""The planned list pages and insight batches of posts and stories, given an estimate,
against what the connector really takes on the emulator."""

from __future__ import annotations

from datetime import date

import pytest

from metrics_connect.connectors.base import FetchRequest, ObjectEstimate
from metrics_connect.connectors.kit.meta_graph.connector import object_calls
from metrics_connect.networks.instagram_business.connector.hooks import (
    STREAMS,
    InstagramConnector,
)
from metrics_connect.networks.instagram_business.emulator.network import InstagramSandboxNetwork

from .conftest import Recorder


@pytest.mark.parametrize(
    ("in_span", "newer", "older", "pages", "batches"),
    [
        (494, 4, True, 10, ["50"] * 9 + ["44"]),
        (100, 0, True, 3, ["50", "50"]),  # the 101st post, older, is on page 3
        (100, 0, False, 2, ["50", "50"]),  # the list ends with the 100th
        (49, 1, True, 2, ["49"]),
        (0, 0, True, 1, []),  # one page to see the first post is older
        (0, 0, False, 1, []),  # an account without posts still answers one page
        (0, 120, True, 3, []),
    ],
)
def test_media_pages_and_batches(
    in_span: int, newer: int, older: bool, pages: int, batches: list[str]
) -> None:
    estimate = ObjectEstimate(in_span=in_span, newer=newer, older=older, basis="x")
    assert object_calls(STREAMS.datasets["media"], estimate) == (pages, batches)


def test_stories_are_all_listed_and_read_in_one_batch() -> None:
    assert object_calls(STREAMS.datasets["stories"], ObjectEstimate(in_span=3, newer=1))[0] == 1
    assert (
        len(object_calls(STREAMS.datasets["stories"], ObjectEstimate(in_span=3, newer=1))[1]) == 1
    )
    assert object_calls(STREAMS.datasets["stories"], ObjectEstimate(in_span=0, newer=2)) == (1, [])


def test_without_an_estimate_one_page_and_one_batch(connector: InstagramConnector) -> None:
    request = FetchRequest("media", date(2026, 1, 1), date(2026, 1, 31))
    calls = connector.plan_calls(request)
    assert [c.path.rsplit("/", 1)[-1] for c in calls] == ["media", "batch"]
    assert all(c.estimated for c in calls)
    planned = connector.plan_object_calls(request, ObjectEstimate(in_span=None))
    assert planned == calls


def test_other_datasets_are_exact(connector: InstagramConnector) -> None:
    today = connector.today()
    request = FetchRequest("account_period", today.replace(day=1), today)
    assert not any(c.estimated for c in connector.plan_calls(request))
    assert connector.plan_object_calls(request, ObjectEstimate(in_span=5)) == (
        connector.plan_calls(request)
    )


async def test_a_full_last_page_takes_one_more_to_pass_the_first_day(
    connector: InstagramConnector, network: InstagramSandboxNetwork, recorder: Recorder
) -> None:
    """Posts newest first: when exactly 50k posts are on or after the first day, the
    listing reads page k + 1 to meet an older one, as planned."""
    sandbox = network.sandbox
    days = [sandbox.local_day(m.timestamp) for m in sandbox.media()]
    k = next(n for n in range(50, len(days), 50) if days[n - 1] != days[n])
    start, today = days[k - 1], connector.today()
    estimate = ObjectEstimate(in_span=k, newer=0, older=True, basis="truth")
    planned = connector.plan_object_calls(FetchRequest("media", start, today), estimate)
    result = await connector.fetch(FetchRequest("media", start, today))
    assert len(result.objects) == k
    pages = len(recorder.gets("/media"))
    assert pages == k // 50 + 1
    assert len(recorder.posts()) == k // 50
    assert len(planned) == pages + len(recorder.posts())
