"""The Instagram Graph API emulator's HTTP face: the Graph family app (sandbox kit) with
Instagram's endpoints, usage headers and permission errors."""

from __future__ import annotations

import json
from typing import Any

from metrics_connect.networks.instagram_business.emulator.graph import (
    DEFAULT_VERSION,
    OLDEST_VERSION,
    GraphHandler,
)
from metrics_connect.networks.instagram_business.emulator.model import InstagramSandbox
from metrics_connect.sandbox.kit import meta_graph as graph
from metrics_connect.sandbox.kit.meta_graph import GraphError
from metrics_connect.sandbox.kit.meta_graph_app import Call, GraphApp

INSIGHTS_ENDPOINTS = frozenset({"user_insights", "media_insights", "multi_id_insights"})


class InstagramGraphApp(GraphApp):
    """ASGI app emulating the Graph API host for one Instagram professional account."""

    def __init__(self, sandbox: InstagramSandbox, hourly_budget: int = 20_000) -> None:
        super().__init__(
            sandbox.controls,
            graph.graph_versions(DEFAULT_VERSION, OLDEST_VERSION),
            sandbox.now,
            trace_seed=sandbox.seed,
            hourly_budget=hourly_budget,
        )
        self.sandbox = sandbox
        self.handler = GraphHandler(sandbox)

    def endpoint_name(self, method: str, path: list[str], params: dict[str, str]) -> str:
        return self.handler.endpoint_name(path, params)

    def handle(self, call: Call) -> Any:
        return self.handler.handle(call)

    def revoked(self, endpoint: str) -> GraphError:
        insights = endpoint in INSIGHTS_ENDPOINTS or endpoint.startswith(
            ("user", "media", "stories")
        )
        return graph.permission_denied(10 if insights else 200)

    def usage_headers(self, version: str, throttled: bool) -> dict[str, str]:
        account = self.usage_report("instagram", throttled)
        app_usage = {k: account[k] for k in ("call_count", "total_cputime", "total_time")}
        buc = {self.sandbox.user_id: [account]}
        return {
            "x-app-usage": json.dumps(app_usage, separators=(",", ":")),
            "x-business-use-case-usage": json.dumps(buc, separators=(",", ":")),
            **graph.version_header(version),
        }
