"""The emulator's impression shares as Google answers them: under 10% as 0.0999 and a
lost share over 90% as 0.9001; a period's unique users overlap over its days."""

from __future__ import annotations

from typing import Any

from metrics_connect.networks.google_ads.emulator import gaql


def value(name: str, sums: dict[str, float]) -> Any:
    return gaql.metric_values([name], sums)[name]


def test_a_share_under_ten_percent_answers_0_0999() -> None:
    sums = {"search_impressions": 5.0, "search_eligible_impressions": 100.0}
    assert value("search_impression_share", sums) == 0.0999
    sums["search_impressions"] = 50.0
    assert value("search_impression_share", sums) == 0.5


def test_a_lost_share_over_ninety_percent_answers_0_9001() -> None:
    sums = {"search_budget_lost_impressions": 95.0, "search_eligible_impressions": 100.0}
    assert value("search_budget_lost_impression_share", sums) == 0.9001
    sums["search_budget_lost_impressions"] = 30.0
    assert value("search_budget_lost_impression_share", sums) == 0.3


def test_unique_users_of_a_longer_period_overlap_more() -> None:
    one_day = {"user_days": 1000.0, "reach_impressions": 1900.0, "period_days": 1.0}
    thirty = {**one_day, "period_days": 30.0}
    assert value("unique_users", one_day) == "1000"
    assert int(value("unique_users", thirty)) < 1000
    frequency = value("average_impression_frequency_per_user", thirty)
    assert frequency > 1.9
