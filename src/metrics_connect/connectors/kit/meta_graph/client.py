"""The Graph client of every Meta network: versioned URLs, the shared error envelope,
pacing near the usage quota, batch requests (50 operations a call) and async report runs.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from typing import Any
from urllib.parse import urlencode

import httpx

from metrics_connect.connectors.base import UpstreamError, UpstreamTransient
from metrics_connect.connectors.kit.calls import Answer, Call
from metrics_connect.connectors.kit.errors import ErrorMap, Failure, TooMuchData, is_retryable
from metrics_connect.connectors.kit.http import KitClient
from metrics_connect.connectors.kit.meta_graph import errors
from metrics_connect.connectors.kit.spec import AsyncReport, Requester

# Graph batch requests take at most 50 operations; multi-id reads (?ids=) 50 ids.
BATCH_LIMIT = 50
MAX_IDS = 50


def relative_url(call: Call, version: str) -> str:
    """A batch operation's relative URL: version, path and query."""
    query = urlencode(dict(call.params), safe=",")
    return f"{version}/{call.path.lstrip('/')}" + (f"?{query}" if query else "")


class GraphClient(KitClient):
    family_name = "Graph API"
    log_fields = ("graph_code", "graph_subcode")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.envelope = self.streams.errors.envelope
        self.pause_seconds = 0.0
        self.pace_near_limit = self.envelope.pace_near_limit_percent is not None
        # The highest quota usage the headers reported to this client (the sync's
        # scheduler lets an account near its quota wait).
        self.usage_percent: float | None = None

    def url(self, path: str) -> str:
        return f"{self.base}/{self.version}/{path.lstrip('/')}"

    def parse_failure(self, status: int, body: Any) -> Failure:
        return errors.parse_failure(status, body, self.envelope.message_fields)

    def is_error_body(self, body: Any) -> bool:
        return errors.is_error_body(body)

    def error_map(self) -> ErrorMap:
        return errors.error_map(self.streams)

    async def before_request(self) -> None:
        if self.pause_seconds > 0:
            # The last answer said the quota is nearly spent: slow down before Meta
            # starts refusing (then every call would cost a backoff).
            await asyncio.sleep(random.uniform(0.5, 1.0) * self.pause_seconds)

    def after_response(self, response: httpx.Response) -> None:
        limit = self.envelope.pace_near_limit_percent
        usage = errors.max_usage_percent(response.headers, self.envelope.usage_headers)
        if usage is not None:
            self.usage_percent = max(usage, self.usage_percent or 0.0)
        near = limit is not None and usage is not None and usage >= limit
        pace = self.pace_near_limit and near and response.status_code < 400
        self.pause_seconds = self.envelope.pace_seconds if pace else 0.0

    # --- planned calls ---

    async def run(
        self, call: Call, requester: Requester, report: AsyncReport | None = None
    ) -> Answer:
        if call.operations:
            return Answer(call, [], operations=await self.batch(list(call.operations)))
        if report is not None and call.method == "POST":
            return Answer(call, await self.report_run(call, report))
        try:
            return await super().run(call, requester, report)
        except UpstreamError as error:
            if report is None or not isinstance(error, TooMuchData):
                raise
            return Answer(call, await self.report_run(call, report))

    # --- async report runs ---

    async def report_run(self, call: Call, report: AsyncReport) -> list[dict[str, Any]]:
        """POST the query as an async job, poll it, then page its rows."""
        deadline = time.monotonic() + max(self.budget, 5.0) * report.poll.budget_factor
        started = await self.request("POST", call.path, call.params)
        run_id = str(started.get(report.id_field) or "") if isinstance(started, dict) else ""
        if not run_id:
            raise UpstreamTransient(f"the {self.family_name} did not start the report run")
        poll = report.poll
        for attempt in range(1000):
            await asyncio.sleep(poll.delays[min(attempt, len(poll.delays) - 1)])
            status = await self.get(poll.path.format(run_id=run_id), {})
            state = str(status.get(poll.status_field) or "") if isinstance(status, dict) else ""
            if state in poll.completed:
                path = report.download_path.format(run_id=run_id)
                rows, _ = await self.paged(
                    "GET", path, {}, report.download_paginator, Requester(path=path).selector
                )
                return rows
            if state in poll.failed:
                raise UpstreamTransient(f"Meta report run {run_id} ended with {state!r}")
            if time.monotonic() > deadline:
                break
        raise UpstreamTransient(f"Meta report run {run_id} did not complete in time")

    # --- batch requests ---

    async def batch(self, items: list[Call]) -> list[dict[str, Any] | UpstreamError]:
        """Each item's JSON body, or its classified error, in order (50 per HTTP call).

        Items answered with a rate limit, a transient error or nothing at all (Graph
        answers `null` for operations that did not run in time) are retried, within the
        same budget, in smaller follow-up batches.
        """
        results: list[dict[str, Any] | UpstreamError] = []
        for start in range(0, len(items), BATCH_LIMIT):
            results.extend(await self._batch_chunk(items[start : start + BATCH_LIMIT]))
        return results

    async def _batch_chunk(self, chunk: list[Call]) -> list[dict[str, Any] | UpstreamError]:
        pending = list(range(len(chunk)))
        out: dict[int, dict[str, Any] | UpstreamError] = {}

        async def attempt() -> None:
            nonlocal pending
            answers = await self._batch_once([chunk[i] for i in pending])
            still: list[int] = []
            first_retryable: UpstreamError | None = None
            for index, answer in zip(pending, answers, strict=True):
                out[index] = answer
                if isinstance(answer, UpstreamError) and is_retryable(answer):
                    still.append(index)
                    first_retryable = first_retryable or answer
            pending = still
            if first_retryable is not None:
                raise first_retryable

        try:
            await self.retrying(attempt)
        except UpstreamError as exc:
            if not is_retryable(exc):
                raise
            # Budget spent: the items still failing keep their last error; those the
            # batch never answered (the whole POST failed every time) get its error.
            for index in pending:
                out.setdefault(index, exc)
        return [out[i] for i in range(len(chunk))]

    async def _batch_once(self, items: list[Call]) -> list[dict[str, Any] | UpstreamError]:
        operations = [
            {"method": "GET", "relative_url": relative_url(i, self.version)} for i in items
        ]
        form = {"batch": json.dumps(operations, separators=(",", ":")), "include_headers": "false"}
        response = await self.send("batch", "POST", "", params=form)
        body = self.body_or_raise("batch", response)
        answers = body if isinstance(body, list) else body.get("data")
        if not isinstance(answers, list) or len(answers) != len(items):
            raise UpstreamTransient("malformed batch response", upstream_code=response.status_code)
        out: list[dict[str, Any] | UpstreamError] = []
        for item, answer in zip(items, answers, strict=True):
            if not isinstance(answer, dict):
                out.append(UpstreamTransient("batch operation not completed in time"))
                continue
            status = int(answer.get("code") or 0)
            raw = answer.get("body")
            try:
                parsed = json.loads(raw) if isinstance(raw, str) else raw
            except ValueError:
                parsed = None
            if 200 <= status < 300 and isinstance(parsed, dict):
                out.append(parsed)
                continue
            failure = self.parse_failure(status, parsed)
            self.log_failure(item.path, failure)
            out.append(self.errors.classify(failure, _batch_headers(answer)))
        return out


def _batch_headers(answer: dict[str, Any]) -> dict[str, str]:
    headers = answer.get("headers")
    if not isinstance(headers, list):
        return {}
    return {
        str(h.get("name", "")).lower(): str(h.get("value", ""))
        for h in headers
        if isinstance(h, dict)
    }
