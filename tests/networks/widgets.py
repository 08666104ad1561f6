"""What every network's widget tests share: the reference's predefined widgets, the
periods they are asked over, and POST /metrics/get-data on a connected integration."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

REFERENCE = Path("/work/shared/reference/reportei-connect")


def reference_widgets(slug: str) -> list[dict[str, Any]]:
    """The network's predefined widgets (metrics.json); skips where the reference is absent."""
    path = REFERENCE / slug / "metrics.json"
    if not path.exists():
        pytest.skip("the shared reference payloads are not on this machine")
    # Most reference files list them under "metrics", a few (nuvem_shop) under "widgets".
    payload = json.loads(path.read_text())
    widgets: list[dict[str, Any]] = payload.get("metrics") or payload["widgets"]
    return widgets


def reference_widget(slug: str, reference_key: str, **overrides: Any) -> dict[str, Any]:
    """One predefined widget, its reference key as its id."""
    for item in reference_widgets(slug):
        if item["reference_key"] == reference_key:
            return {"id": reference_key, **item, **overrides}
    raise KeyError(reference_key)


def numbered(widgets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The widgets with ids of their own (w0, w1, ...), to ask them all at once."""
    return [{"id": f"w{i}", **w} for i, w in enumerate(widgets)]


def widget_errors(result: dict[str, Any], widgets: list[dict[str, Any]]) -> dict[str, Any]:
    """The error of each widget of `result` that answered one, by its reference key."""
    return {
        w["reference_key"]: result[w["id"]]["error"] for w in widgets if "error" in result[w["id"]]
    }


@dataclass(frozen=True)
class Periods:
    """A period of `days` ending on `end`, and the same number of days just before it."""

    end: date
    days: int = 90

    @property
    def start(self) -> date:
        return self.end - timedelta(days=self.days - 1)

    @property
    def comparison_end(self) -> date:
        return self.start - timedelta(days=1)

    @property
    def comparison_start(self) -> date:
        return self.comparison_end - timedelta(days=self.days - 1)


async def get_data(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    integration_uuid: str,
    widgets: list[dict[str, Any]],
    periods: Periods,
    *,
    comparison: bool = True,
    start: date | None = None,
    end: date | None = None,
) -> Any:
    """The answer of POST /metrics/get-data over the periods (or start/end), which must be 200."""
    body: dict[str, Any] = {
        "customer_integration": integration_uuid,
        "start": (start or periods.start).isoformat(),
        "end": (end or periods.end).isoformat(),
        "metrics": widgets,
    }
    if comparison:
        body["comparison_start"] = periods.comparison_start.isoformat()
        body["comparison_end"] = periods.comparison_end.isoformat()
    response = await client.post("/metrics/get-data", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()
