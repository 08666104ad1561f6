"""Google Analytics 4 connector: datasets answered by the Data API's runReport.

Daily datasets ask for `date` plus the requested breakdowns over the whole window (GA4
has no window limit; rows are paged with limit/offset); period datasets ask for the
exact period without `date`, so unique users are GA4's own figure for that period.
Filters are pushed down as a FilterExpression (an andGroup of the filters). Today (in
the property's time zone) is never complete, nor are the days Search Console has not
delivered yet.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any, ClassVar

from metrics_connect.connectors.base import (
    AccountInfo,
    Connector,
    ConnectorContext,
    DatasetSpec,
    FetchRequest,
    FetchResult,
    PlannedCall,
    Row,
    Scalar,
    UpstreamError,
)
from metrics_connect.networks.google_analytics_4.connector.client import DataApiClient
from metrics_connect.networks.google_analytics_4.connector.datasets import (
    DATASET_SPECS,
    GA4_DATASETS,
    SEARCH_CONSOLE_DELAY_DAYS,
    Ga4Dataset,
)
from metrics_connect.networks.google_analytics_4.connector.filters import filter_expression

INTEGER_TYPES = frozenset({"TYPE_INTEGER"})


class GoogleAnalytics4Connector(Connector):
    slug: ClassVar[str] = "google_analytics_4"
    datasets: ClassVar[dict[str, DatasetSpec]] = DATASET_SPECS

    def __init__(self, ctx: ConnectorContext) -> None:
        super().__init__(ctx)
        self.client = DataApiClient(ctx)

    # --- the contract ---

    async def fetch(self, request: FetchRequest) -> FetchResult:
        dataset = self._dataset(request)
        body = self.report_body(request)
        raw_rows, first = await self.client.run_report_pages(body)
        types = {h["name"]: h.get("type", "") for h in first.get("metricHeaders") or []}
        dims = [h["name"] for h in first.get("dimensionHeaders") or []]
        metrics = [h["name"] for h in first.get("metricHeaders") or []]
        daily = dataset.spec.kind == "daily"
        rows: list[Row] = []
        for raw in raw_rows:
            dim_values = [v.get("value", "") for v in raw.get("dimensionValues") or []]
            keys = dict(zip(dims, dim_values, strict=True))
            day = _parse_day(keys.pop("date")) if daily else None
            values: dict[str, Scalar] = {}
            for name, cell in zip(metrics, raw.get("metricValues") or [], strict=True):
                values[name] = _number(cell.get("value", "0"), types.get(name, ""))
            for derived in dataset.derived:
                values[derived.name] = _minus(values, derived.minuend, derived.subtrahend)
            rows.append(Row(day=day, keys=keys, values=values))
        return FetchResult(rows=rows, incomplete_days=self._incomplete_days(request))

    def plan_calls(self, request: FetchRequest) -> list[PlannedCall]:
        body = self.report_body(request)
        params = {
            "dateRanges": f"{request.start.isoformat()}..{request.end.isoformat()}",
            "dimensions": ",".join(d["name"] for d in body["dimensions"]),
            "metrics": ",".join(m["name"] for m in body["metrics"]),
        }
        if "dimensionFilter" in body:
            params["dimensionFilter"] = json.dumps(body["dimensionFilter"], sort_keys=True)
        return [PlannedCall("POST", self.client.report_path, params)]

    async def account_info(self) -> AccountInfo:
        """The property's display name, time zone and currency (Admin API properties.get).

        Without Admin API access, the Data API's report metadata still gives the time zone
        and currency; the name is then the property id.
        """
        admin = await self.client.property_resource()
        if admin is not None:
            return AccountInfo(
                name=str(admin.get("displayName") or self.ctx.external_id),
                timezone=str(admin.get("timeZone") or self.ctx.timezone),
                currency=admin.get("currencyCode"),
            )
        today = self.client.local_now().date().isoformat()
        report = await self.client.run_report(
            {
                "dateRanges": [{"startDate": today, "endDate": today}],
                "metrics": [{"name": "sessions"}],
                "limit": 1,
            }
        )
        metadata = report.get("metadata") or {}
        return AccountInfo(
            name=self.ctx.external_id,
            timezone=str(metadata.get("timeZone") or self.ctx.timezone),
            currency=metadata.get("currencyCode"),
        )

    # --- building blocks ---

    def report_body(self, request: FetchRequest) -> dict[str, Any]:
        dataset = self._dataset(request)
        dims = (["date"] if dataset.spec.kind == "daily" else []) + list(request.breakdowns)
        body: dict[str, Any] = {
            "dateRanges": [
                {"startDate": request.start.isoformat(), "endDate": request.end.isoformat()}
            ],
            "dimensions": [{"name": d} for d in dims],
            "metrics": [{"name": m} for m in dataset.metrics],
            # A stable order keeps limit/offset pages consistent.
            "orderBys": [{"dimension": {"dimensionName": d}} for d in dims],
            "keepEmptyRows": False,
        }
        if request.filters:
            body["dimensionFilter"] = filter_expression(request.filters)
        return body

    def _dataset(self, request: FetchRequest) -> Ga4Dataset:
        dataset = GA4_DATASETS.get(request.dataset)
        if dataset is None:
            raise UpstreamError(f"unknown Google Analytics 4 dataset {request.dataset!r}")
        unknown = set(request.breakdowns) - set(dataset.spec.breakdowns)
        if unknown:
            raise UpstreamError(
                f"dataset {request.dataset} cannot break down by {', '.join(sorted(unknown))}"
            )
        return dataset

    def _incomplete_days(self, request: FetchRequest) -> set[date]:
        today = self.client.local_now().date()
        # GA4 is still collecting today; linked Search Console data arrives two days late.
        first_missing = today
        if request.dataset.startswith("organic_search"):
            first_missing = today - timedelta(days=SEARCH_CONSOLE_DELAY_DAYS - 1)
        start = max(request.start, first_missing)
        return {start + timedelta(days=i) for i in range((request.end - start).days + 1)}


def _parse_day(value: str) -> date:
    return date(int(value[:4]), int(value[4:6]), int(value[6:8]))


def _number(text: str, type_: str) -> int | float:
    value = float(text)
    if type_ in INTEGER_TYPES:
        return int(value)
    return value


def _minus(values: dict[str, Scalar], a: str, b: str) -> int | float:
    left, right = values.get(a) or 0, values.get(b) or 0
    assert isinstance(left, int | float) and isinstance(right, int | float)
    return left - right
