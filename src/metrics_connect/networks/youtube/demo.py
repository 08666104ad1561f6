"""The demo channel's archive of "now" counts, filled by replaying the sandbox clock
through the real sync one day at a time over the last 400 days (sync/daily_replay.py), so
that subscriber counts have a history to compare."""

from __future__ import annotations

from functools import partial

from metrics_connect.sync.daily_replay import replay_last_days

prepare_demo = partial(replay_last_days, slug="youtube", days=400)
