"""Runs the chosen widgets through the engine, one request each, as the API would.

Each widget is its own `POST /metrics/get-data` body, so the `curl` shown beside it is
exactly the request whose answer is shown. Its plan (`?explain=true`, no upstream
call) is asked first, then the answer. The merchant's rate limit counts each widget
once, as the request the curl would make.
"""

from __future__ import annotations

import asyncio
import json
import shlex
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from metrics_connect.accounts.models import CustomerIntegration, Merchant
from metrics_connect.api.errors import ApiError
from metrics_connect.engine.request import GetDataRequest, max_range_days_var
from metrics_connect.engine.service import run_get_data
from metrics_connect.playground.choices import WidgetChoice
from metrics_connect.playground.periods import Periods
from metrics_connect.runtime import Runtime

GET_DATA_PATH = "/metrics/get-data"
MAX_RATE_LIMIT_WAIT_SECONDS = 2


@dataclass
class WidgetRun:
    choice: WidgetChoice
    widget_id: str
    body: dict[str, Any]
    curl: str
    explain_curl: str
    answer: dict[str, Any] | None = None  # the widget's part of the answer
    plan: dict[str, Any] | None = None  # the `explain` object
    refused: str | None = None  # the request itself was refused (words)
    refused_errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def answer_json(self) -> str:
        return json.dumps({self.widget_id: self.answer}, indent=2, ensure_ascii=False)

    @property
    def plan_json(self) -> str:
        return json.dumps({"explain": self.plan}, indent=2, ensure_ascii=False)


def request_body(
    integration_uuid: str, periods: Periods, widget_id: str, choice: WidgetChoice
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "customer_integration": integration_uuid,
        "start": periods.start.isoformat(),
        "end": periods.end.isoformat(),
    }
    if periods.comparison_start is not None and periods.comparison_end is not None:
        body["comparison_start"] = periods.comparison_start.isoformat()
        body["comparison_end"] = periods.comparison_end.isoformat()
    body["metrics"] = [{"id": widget_id, **choice.widget}]
    return body


def curl_command(base_url: str, body: dict[str, Any], *, explain: bool = False) -> str:
    """The request as a shell command; the tokens stay in the caller's variables."""
    url = f"{base_url.rstrip('/')}{GET_DATA_PATH}" + ("?explain=true" if explain else "")
    return " \\\n".join(
        [
            f"curl -s -X POST {shlex.quote(url)}",
            '  -H "Authorization: Bearer $MERCHANT_TOKEN"',
            '  -H "x-customer-token: $CUSTOMER_TOKEN"',
            "  -H 'Content-Type: application/json'",
            f"  -d {shlex.quote(json.dumps(body, ensure_ascii=False))}",
        ]
    )


def widget_id_for(choice: WidgetChoice) -> str:
    return choice.key.replace(":", "_")


async def _within_rate_limit(runtime: Runtime, merchant: Merchant) -> str | None:
    """One hit of the merchant's limit; a short wait (a per-second limit) is waited out."""
    for _attempt in range(2):
        decision = await runtime.rate_limiter.hit(
            merchant.uuid, merchant.rate_limit_per_second, merchant.rate_limit_per_minute
        )
        if decision.allowed:
            return None
        if decision.retry_after > MAX_RATE_LIMIT_WAIT_SECONDS:
            break
        await asyncio.sleep(decision.retry_after)
    return f"Your rate limit is reached; try again in {decision.retry_after} s."


async def run_widgets(
    runtime: Runtime,
    merchant: Merchant,
    integration: CustomerIntegration,
    periods: Periods,
    choices: list[WidgetChoice],
) -> list[WidgetRun]:
    max_range_days_var.set(int(runtime.settings.max_range_days))
    base_url = runtime.settings.public_base_url
    runs: list[WidgetRun] = []
    for choice in choices:
        widget_id = widget_id_for(choice)
        body = request_body(integration.uuid, periods, widget_id, choice)
        run = WidgetRun(
            choice,
            widget_id,
            body,
            curl_command(base_url, body),
            curl_command(base_url, body, explain=True),
        )
        runs.append(run)
        try:
            request = GetDataRequest.model_validate(body)
        except ValidationError as exc:
            run.refused = "The request is not valid."
            for err in exc.errors():
                path = ".".join(str(p) for p in err.get("loc", ())) or "body"
                run.refused_errors.setdefault(path, []).append(str(err.get("msg")))
            continue
        limited = await _within_rate_limit(runtime, merchant)
        if limited:
            run.refused = limited
            continue
        for explain in (True, False):
            try:
                answer = await run_get_data(runtime, integration, request, explain=explain)
            except ApiError as exc:
                run.refused = exc.message
                break
            if explain:
                run.plan = answer.get("explain")
            else:
                run.answer = answer.get(widget_id)
    return runs
