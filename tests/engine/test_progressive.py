"""Widgets answered as their facts arrive: each once all it reads is read, the same
bodies as answering them all on the whole read, and before the request's last fetch."""

from __future__ import annotations

from typing import Any

import pytest

from metrics_connect.engine import progressive
from metrics_connect.engine.facts import FactSnapshot, FactStore, StoredPeriod
from metrics_connect.engine.model import ResolvedWidget, WidgetError
from metrics_connect.engine.progressive import ProgressiveAnswer
from metrics_connect.engine.resolve import resolve_widget

from .conftest import Connected
from .rules import answer, day, toy_catalog, toy_facts, widget
from .test_warm_answer import dashboard

DAILY = ("daily", "-")
POSTS = ("posts", "-")
PERIOD = ("period", "-")


def widgets() -> list[Any]:
    return [
        widget("clicks", metrics=["clicks"]),
        # Reach reads the posts and the period dataset: two keys.
        widget("reach", metrics=["reach"]),
        widget("broken", metrics=["no_such_metric"]),
    ]


def read_of(*keys: tuple[str, str]) -> FactSnapshot:
    """What the store returns for `keys` of the toy facts."""
    facts = toy_facts()
    periods = {
        k: StoredPeriod(rows, fetched_at=None, settled=True)  # type: ignore[arg-type]
        for k, rows in facts.periods.items()
        if (k[0], k[1]) in keys
    }
    return FactSnapshot(
        coverage={k: {} for k in keys if k != PERIOD},
        rows={k: v for k, v in facts.rows.items() if k in keys},
        objects={k: v for k, v in facts.objects.items() if k in keys},
        periods=periods,
    )


def resolved() -> list[ResolvedWidget]:
    return [resolve_widget(toy_catalog(), w) for w in widgets()]


def test_a_widget_is_rendered_once_every_key_it_reads_is_read() -> None:
    progress = ProgressiveAnswer(resolved(), toy_facts().today, (day(0), day(9)), None)
    assert set(progress.bodies) == {2}  # the unresolvable widget answers its error at once
    progress.add({DAILY}, read_of(DAILY))
    assert set(progress.bodies) == {0, 2}
    progress.add({POSTS}, read_of(POSTS))
    assert 1 not in progress.bodies  # still waits for the period dataset
    progress.add({PERIOD}, read_of(PERIOD))
    assert progress.waiting == {}
    # Coverage is checked as the whole read does: toy facts without coverage.
    whole = toy_facts()
    whole.coverage = {DAILY: set(), POSTS: set()}
    expected = answer(widgets(), facts=whole)
    assert progress.body() == expected
    assert list(progress.body()) == ["clicks", "reach", "broken"]


def test_the_failures_reported_at_the_end_replace_those_told_first() -> None:
    progress = ProgressiveAnswer(resolved(), toy_facts().today, (day(0), day(9)), None)
    progress.fail(DAILY, WidgetError("upstream_error", "the first chunk's error"))
    progress.add({DAILY}, read_of(DAILY))
    assert progress.bodies[0]["error"]["message"] == "the first chunk's error"
    progress.settle({DAILY: WidgetError("upstream_timeout", "the reported error")})
    assert progress.bodies[0]["error"] == {
        "code": "upstream_timeout",
        "message": "the reported error",
    }


async def test_a_cold_dashboard_renders_widgets_before_its_last_fetch_is_stored(
    connected: Connected, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    original_render = progressive.render_one
    original_store = FactStore.store

    def render(*args: Any) -> dict[str, Any]:
        events.append("render")
        return original_render(*args)

    async def store(self: FactStore, *args: Any, **kwargs: Any) -> None:
        await original_store(self, *args, **kwargs)
        events.append("stored")

    monkeypatch.setattr(progressive, "render_one", render)
    monkeypatch.setattr(FactStore, "store", store)
    connected.network.controls.switches.latency_seconds = 0.02
    body = dashboard(connected)
    response = await connected.client.post(
        "/metrics/get-data", json=body, headers=connected.headers
    )
    assert response.status_code == 200
    last_store = max(i for i, event in enumerate(events) if event == "stored")
    assert "render" in events[:last_store]
    assert events.count("render") >= len(body["metrics"])
    # The same answer as computed at once from the store.
    monkeypatch.undo()
    again = await connected.client.post("/metrics/get-data", json=body, headers=connected.headers)
    assert again.json() == response.json()
