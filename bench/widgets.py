"""The benchmark's requests: the 87 Instagram predefined widgets and the seed request."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from metrics_connect.engine.days import account_today
from metrics_connect.sandbox.accounts import INSTAGRAM_TIMEZONE

REFERENCE = Path("/work/shared/reference/reportei-connect/instagram_business/metrics.json")
SEED_WIDGET_ID = "f35a44ce-7b1e-4b43-9d0a-3b2f4c1a9e11"
WIDGET_NAMESPACE = uuid.UUID("6f1d2a8e-2f4b-4d6e-9a57-0b8c1e3d5f70")


def reference_path() -> Path:
    """The shared reference, the copy CI lays beside the clone, or the catalog tests' copy."""
    repo = Path(__file__).resolve().parents[1]
    candidates = (
        REFERENCE,
        repo.parent
        / "shared"
        / "reference"
        / "reportei-connect"
        / "instagram_business"
        / "metrics.json",
        repo / "tests" / "catalog" / "reference" / "metrics.json",
    )
    for candidate in candidates:
        if candidate.exists():
            return candidate
    raise FileNotFoundError("the Instagram predefined widgets (reference/.../metrics.json)")


def predefined_widgets() -> list[dict[str, Any]]:
    """Each predefined widget as a request item, with a stable id."""
    widgets: list[dict[str, Any]] = json.loads(reference_path().read_text())["metrics"]
    out = []
    for index, widget in enumerate(widgets):
        item = dict(widget)
        item["id"] = str(uuid.uuid5(WIDGET_NAMESPACE, f"{index}:{widget['reference_key']}"))
        out.append(item)
    return out


def demo_account_today() -> date:
    """Today as the demo Instagram account counts days: the periods end on its yesterday
    whatever the hour of the run (UTC's date would move them a day for 3 hours a day)."""
    return account_today(datetime.now(UTC), INSTAGRAM_TIMEZONE)


def dashboard_request(integration: str, today: date, days: int = 365) -> dict[str, Any]:
    """All predefined widgets over the last `days` whole days, compared with the days before."""
    end = today - timedelta(days=1)
    start = end - timedelta(days=days - 1)
    comparison_end = start - timedelta(days=1)
    comparison_start = comparison_end - timedelta(days=days - 1)
    return {
        "customer_integration": integration,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "comparison_start": comparison_start.isoformat(),
        "comparison_end": comparison_end.isoformat(),
        "metrics": predefined_widgets(),
    }


def seed_request(integration: str) -> dict[str, Any]:
    """API.md's example: story replies, 2024-01-01 .. 2024-09-01."""
    return {
        "customer_integration": integration,
        "start": "2024-01-01",
        "end": "2024-09-01",
        "metrics": [
            {
                "id": SEED_WIDGET_ID,
                "reference_key": "ig:story_replies",
                "component": "number_v1",
                "metrics": ["replies"],
                "dimensions": ["stories"],
            }
        ],
    }
