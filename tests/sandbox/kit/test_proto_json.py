"""The kit's proto3 JSON mapping: camelCase members, nested messages, unset fields."""

from __future__ import annotations

from metrics_connect.sandbox.kit.proto_json import camel, field_mask, get, put


def test_snake_case_paths_become_nested_camel_case_members() -> None:
    row: dict[str, object] = {}
    put(row, "metrics.cost_micros", "120000")
    put(row, "metrics.clicks", "3")
    put(row, "ad_group_ad.ad.final_url_suffix", "utm_source=google")
    put(row, "segments.date", None)  # unset: left out, no empty message either
    assert row == {
        "metrics": {"costMicros": "120000", "clicks": "3"},
        "adGroupAd": {"ad": {"finalUrlSuffix": "utm_source=google"}},
    }
    assert get(row, "metrics.cost_micros") == "120000"
    assert get(row, "metrics.ctr") is None
    assert get(row, "segments.date") is None
    assert get(row, "metrics.cost_micros.units") is None  # below a scalar


def test_field_mask_and_camel() -> None:
    assert camel("video_trueview_views") == "videoTrueviewViews"
    assert camel("type") == "type"
    assert field_mask(["campaign.id", "metrics.cost_micros"]) == "campaign.id,metrics.costMicros"
    assert field_mask([]) == ""
