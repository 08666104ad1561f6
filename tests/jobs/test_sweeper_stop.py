"""Stopping the sweeper lets a sweep under way finish (a query cancelled halfway can
leave its connection mid-transaction, holding job rows); only a stuck one is cancelled."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from metrics_connect.jobs import sweeper as sweeper_module
from metrics_connect.jobs.sweeper import Sweeper


def fake_ctx(interval: float) -> Any:
    settings = SimpleNamespace(job_sweep_interval_seconds=interval)
    return SimpleNamespace(runtime=SimpleNamespace(settings=settings))


async def test_stop_waits_for_the_sweep_under_way(monkeypatch: pytest.MonkeyPatch) -> None:
    started, events = asyncio.Event(), []

    async def slow_sweep(_ctx: Any) -> int:
        events.append("start")
        started.set()
        await asyncio.sleep(0.2)
        events.append("end")
        return 0

    monkeypatch.setattr(sweeper_module, "sweep_once", slow_sweep)
    sweeper = Sweeper(fake_ctx(0.01))
    sweeper.start()
    await asyncio.wait_for(started.wait(), 5)
    await sweeper.stop()
    assert events == ["start", "end"]  # finished, not cancelled; and no sweep after stop


async def test_a_stuck_sweep_is_cancelled_after_the_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def stuck_sweep(_ctx: Any) -> int:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return 0

    monkeypatch.setattr(sweeper_module, "sweep_once", stuck_sweep)
    sweeper = Sweeper(fake_ctx(0.01))
    sweeper.start()
    await asyncio.wait_for(started.wait(), 5)
    await asyncio.wait_for(sweeper.stop(timeout=0.1), 5)
    assert cancelled.is_set()


async def test_a_failing_sweep_does_not_stop_the_next(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = 0
    enough = asyncio.Event()

    async def failing_sweep(_ctx: Any) -> int:
        nonlocal calls
        calls += 1
        if calls >= 3:
            enough.set()
        raise RuntimeError("database went away")

    monkeypatch.setattr(sweeper_module, "sweep_once", failing_sweep)
    sweeper = Sweeper(fake_ctx(0.01))
    sweeper.start()
    await asyncio.wait_for(enough.wait(), 5)
    await sweeper.stop()
