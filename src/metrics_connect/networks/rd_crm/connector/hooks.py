"""RD Station CRM (API v1) on the kit: deals, their product lines and tasks as records
datasets (docs/networks/rd_crm.md). What no spec says:

- v1 has no "modified since" filter and lists no deletions, so every sync is a full
  listing (`page`/`limit`, `has_more`; its first 10,000 records): the last page says
  `listed_all` when this connector walked the listing from its first page, and the store
  then marks deleted what it did not list (a listing resumed mid-way says nothing);
- labels denormalized onto the records: the stage's place in its funnel
  (`/deal_pipelines`), the owner's team (`/teams`); `win` is true (won), false (lost)
  or null (open), `hold` a paused deal.
"""

from __future__ import annotations

import json
from typing import Any

from metrics_connect.connectors.base import AccountInfo, PlannedCall, RecordPage, RecordRow
from metrics_connect.connectors.kit.executor import KitConnector
from metrics_connect.connectors.kit.json_rest.client import JsonRestClient
from metrics_connect.connectors.kit.spec import streams_of

API = "api/v1"
LISTING = {"deals": "deals", "deal_products": "deals", "tasks": "tasks"}


def _number(value: Any) -> float:
    try:
        return float(value or 0)
    except (TypeError, ValueError):
        return 0.0


def _id(item: dict[str, Any] | None) -> str | None:
    if not item:
        return None
    value = item.get("id") or item.get("_id")
    return str(value) if value else None


class RdCrmConnector(KitConnector):
    slug = "rd_crm"
    streams = streams_of(__file__)
    client_class = JsonRestClient

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stages: dict[str, dict[str, Any]] | None = None
        self._teams: dict[str, str] | None = None
        self._from_first_page: set[str] = set()

    async def account_info(self) -> AccountInfo:
        body = await self.client.get(f"{API}/users", {})
        users = body.get("users") or [] if isinstance(body, dict) else []
        return AccountInfo(
            name=f"RD Station CRM ({len(users)} users)", timezone="America/Sao_Paulo"
        )

    def _params(self, page: int) -> dict[str, str]:
        return {"page": str(page), "limit": str(self.streams.extra["page_size"])}

    def plan_record_calls(self, dataset: str, cursor: str | None) -> list[PlannedCall]:
        page = int((json.loads(cursor) if cursor else {}).get("page") or 1)
        calls = [
            PlannedCall("GET", f"{API}/{LISTING[dataset]}", self._params(page), estimated=True)
        ]
        lookups = ["teams"] if dataset == "tasks" else ["teams", "deal_pipelines"]
        return [PlannedCall("GET", f"{API}/{path}", {}, estimated=True) for path in lookups] + calls

    async def fetch_records(self, dataset: str, cursor: str | None) -> RecordPage:
        page = int((json.loads(cursor) if cursor else {}).get("page") or 1)
        if page == 1:
            self._from_first_page.add(dataset)
        await self._lookups(dataset)
        listing = LISTING[dataset]
        body = await self.client.get(f"{API}/{listing}", self._params(page))
        items = [i for i in (body.get(listing) or []) if isinstance(i, dict)]
        if dataset == "deals":
            rows = [self._deal(item) for item in items]
        elif dataset == "deal_products":
            rows = [line for item in items for line in self._lines(item)]
        else:
            rows = [self._task(item) for item in items]
        if body.get("has_more"):
            return RecordPage(rows, [], json.dumps({"page": page + 1}), more=True)
        complete = dataset in self._from_first_page
        return RecordPage(rows, [], json.dumps({"page": 1}), more=False, listed_all=complete)

    async def _lookups(self, dataset: str) -> None:
        if self._teams is None:
            teams = await self.client.get(f"{API}/teams", {})
            self._teams = {
                str(_id(user)): str(team.get("name"))
                for team in (teams if isinstance(teams, list) else [])
                for user in team.get("team_users") or []
            }
        if dataset != "tasks" and self._stages is None:
            pipelines = await self.client.get(f"{API}/deal_pipelines", {})
            self._stages = {
                str(_id(stage)): {"order": stage.get("order") or i + 1, "pipeline": pipeline}
                for pipeline in (pipelines if isinstance(pipelines, list) else [])
                for i, stage in enumerate(pipeline.get("deal_stages") or [])
            }

    def _owner(self, user: dict[str, Any] | None) -> dict[str, Any]:
        owner = _id(user)
        return {
            "owner": owner,
            "owner_name": (user or {}).get("name") or owner,
            "team": (self._teams or {}).get(str(owner)) if owner else None,
        }

    def _outcome(self, deal: dict[str, Any]) -> dict[str, Any]:
        win = deal.get("win")
        return {"won": win is True, "lost": win is False}

    def _deal(self, deal: dict[str, Any]) -> RecordRow:
        stage = deal.get("deal_stage") or {}
        known = (self._stages or {}).get(str(_id(stage)), {})
        pipeline = deal.get("deal_pipeline") or known.get("pipeline") or {}
        win = deal.get("win")
        fields = {
            "name": deal.get("name"),
            "amount": _number(deal.get("amount_total")),
            "pipeline": _id(pipeline),
            "pipeline_label": pipeline.get("name"),
            "stage": _id(stage),
            "stage_label": stage.get("name"),
            "stage_order": known.get("order"),
            **self._owner(deal.get("user")),
            **self._outcome(deal),
            "open": win is None,
            "paused": win is None and deal.get("hold") is True,
            "lost_reason": (deal.get("deal_lost_reason") or {}).get("name"),
            "rating": deal.get("rating"),
            "created_at": deal.get("created_at"),
            "updated_at": deal.get("updated_at"),
            "closed_at": deal.get("closed_at") if win is not None else None,
        }
        return RecordRow(str(_id(deal)), fields)

    def _lines(self, deal: dict[str, Any]) -> list[RecordRow]:
        rows = []
        for line in deal.get("deal_products") or []:
            product = str(line.get("product_id") or _id(line))
            fields = {
                "deal": _id(deal),
                "product": product,
                "product_name": line.get("name"),
                "quantity": _number(line.get("amount")),
                "total": _number(line.get("total")),
                **self._owner(deal.get("user")),
                **self._outcome(deal),
                "created_at": deal.get("created_at"),
                "closed_at": deal.get("closed_at") if deal.get("win") is not None else None,
            }
            rows.append(RecordRow(f"{_id(deal)}:{product}", fields))
        return rows

    def _task(self, task: dict[str, Any]) -> RecordRow:
        users = task.get("users") or []
        fields = {
            "subject": task.get("subject"),
            "type": task.get("type"),
            "done": task.get("done") is True,
            **self._owner(users[0] if users else None),
            "created_at": task.get("created_at"),
            "updated_at": task.get("updated_at"),
            "done_at": task.get("done_date") if task.get("done") else None,
        }
        return RecordRow(str(_id(task)), fields)
