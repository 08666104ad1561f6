"""?explain=true over HTTP: paged fetches say their calls are estimated, and from what."""

from __future__ import annotations

from .conftest import Connected
from .test_call_economy import media_widgets, reach_chart


async def test_explain_marks_paged_fetches_estimated(connected: Connected) -> None:
    body = connected.body("2026-10-01", "2026-10-31", [reach_chart(), *media_widgets()])
    explain = (await connected.get_data(body, explain="true"))["explain"]
    assert connected.calls == 0
    by_dataset = {f["dataset"]: f for f in explain["fetches"]}
    media, daily = by_dataset["media"], by_dataset["account_daily"]
    assert media["estimated"] and media["estimate"]["basis"] == "none"
    assert media["estimate"]["objects"] is None
    assert all(c["estimated"] for c in media["calls"]) and len(media["calls"]) == 2
    assert daily["estimated"] is False and "estimate" not in daily
    assert explain["upstream_calls_estimated"] == 2
    assert explain["upstream_calls"] == explain["upstream_calls_exact"] + 2

    await connected.get_data(body)  # October's posts are stored now
    wider = connected.body("2026-09-01", "2026-10-31", media_widgets())
    again = (await connected.get_data(wider, explain="true"))["explain"]
    (media,) = [f for f in again["fetches"] if f["dataset"] == "media"]
    assert (media["start"], media["end"]) == ("2026-09-01", "2026-09-30")
    assert media["estimate"]["basis"] == "stored_objects_rate"
    assert media["estimate"]["objects"] > 0
