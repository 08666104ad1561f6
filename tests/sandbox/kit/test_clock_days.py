"""The calendar kit's ClockDays: an account's local days on an emulator's clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from metrics_connect.sandbox.kit.calendar import ClockDays


def test_now_today_and_the_share_of_a_day_gone() -> None:
    at = datetime(2024, 9, 2, 5, 0, tzinfo=timezone(timedelta(hours=-3)))  # 08:00 UTC
    days = ClockDays("America/Los_Angeles", lambda: at)
    assert days.now() == at and days.now().tzinfo is UTC
    assert days.today() == date(2024, 9, 2)  # 01:00 in Los Angeles
    assert days.elapsed_share(date(2024, 9, 2)) == 1 / 24
    assert days.elapsed_share(date(2024, 9, 1)) == 1.0
    assert days.elapsed_share(date(2024, 9, 2), days.day_end(date(2024, 9, 2))) == 1.0
