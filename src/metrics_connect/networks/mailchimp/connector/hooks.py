"""Mailchimp on the kit: campaign reports and open events as records datasets, the
audiences' stats as a daily snapshot (docs/networks/mailchimp.md). What no spec says:

- the host: an OAuth token belongs to one data center; the connect page keeps the
  metadata's `api_endpoint` with the credentials, and only a Mailchimp API host
  (`https://<dc>.api.mailchimp.com`) is called from it (else the operator's setting);
- a report has no "modified since": it keeps growing for weeks after sending, so every
  sync re-reads the campaigns sent within `refresh_days` of the previous sync
  (`since_send_time`); the first sync reads them all. `count`/`offset` paging runs
  newest first: a campaign sent meanwhile shifts the pages by one (read twice: an upsert);
- a campaign deleted in that window is gone from the listing: its record is deleted;
- opens: each recent campaign's `open-details?since=` the previous sync, one record per
  open (campaign, subscriber, time), counted by the day it happened.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

from metrics_connect.connectors.base import (
    AccountInfo,
    FetchRequest,
    FetchResult,
    PlannedCall,
    RecordPage,
    RecordRow,
    Row,
    Scalar,
)
from metrics_connect.connectors.kit.executor import KitConnector
from metrics_connect.connectors.kit.json_rest.client import JsonRestClient
from metrics_connect.connectors.kit.spec import streams_of
from metrics_connect.engine.records import parse_instant

MAILCHIMP_HOST = re.compile(r"^https://[a-z]{2,4}\d{1,3}\.api\.mailchimp\.com$")


class MailchimpClient(JsonRestClient):
    family_name = "Mailchimp API"

    def url(self, path: str) -> str:
        # The token's data center, when the operator's host is Mailchimp's own (an
        # operator pointing the setting elsewhere, a sandbox or a proxy, keeps it).
        endpoint = str(self.ctx.credentials.get("api_endpoint") or "").rstrip("/")
        mailchimp = MAILCHIMP_HOST.match(self.base) and MAILCHIMP_HOST.match(endpoint)
        return f"{endpoint if mailchimp else self.base}/{path.lstrip('/')}"


def _number(value: Any) -> float:
    try:
        return float(value or 0)
    except (TypeError, ValueError):
        return 0.0


class MailchimpConnector(KitConnector):
    slug = "mailchimp"
    streams = streams_of(__file__)
    client_class = MailchimpClient

    @property
    def page_size(self) -> int:
        return int(self.streams.extra["page_size"])

    async def account_info(self) -> AccountInfo:
        body = await self.client.get("3.0/", {"fields": "account_id,account_name,account_timezone"})
        return AccountInfo(
            name=str(body.get("account_name") or body.get("account_id")),
            timezone=str(body.get("account_timezone") or "UTC"),
        )

    # --- "now": the audiences' stats (the sync snapshots them daily) ---

    def plan_calls(self, request: FetchRequest) -> list[PlannedCall]:
        if request.end < self.today():
            return []  # only today is served: older days come from the archive
        return [PlannedCall("GET", "3.0/lists", {"count": str(self.page_size)})]

    async def fetch(self, request: FetchRequest) -> FetchResult:
        today = self.today()
        if request.end < today:
            return FetchResult()
        rows = []
        params = {"count": str(self.page_size), "offset": "0"}
        for _ in range(1000):
            body = await self.client.get("3.0/lists", params)
            lists = [x for x in body.get("lists") or [] if isinstance(x, dict)]
            for item in lists:
                stats = item.get("stats") or {}
                keys = {"list_id": str(item.get("id")), "list_name": str(item.get("name"))}
                values: dict[str, Scalar] = {
                    "name": str(item.get("name") or item.get("id")),
                    "member_count": int(stats.get("member_count") or 0),
                    "open_rate": _number(stats.get("open_rate")),
                    "click_rate": _number(stats.get("click_rate")),
                    "campaign_last_sent": str(stats.get("campaign_last_sent") or "") or None,
                }
                wanted = {k: v for k, v in keys.items() if k in request.breakdowns}
                rows.append(Row(today, wanted, values))
            offset = int(params["offset"]) + len(lists)
            if not lists or offset >= int(body.get("total_items") or 0):
                break
            params = {**params, "offset": str(offset)}
        return FetchResult(rows=rows)

    # --- the records ---

    def _since(self, state: dict[str, Any]) -> str | None:
        """The pass's since_send_time: `refresh_days` before the previous pass began."""
        last = parse_instant(state.get("last"))
        if last is None:
            return None
        since = last - timedelta(days=int(self.streams.extra["refresh_days"]))
        return since.isoformat()

    def _report_params(self, since: str | None, offset: int, fields: str) -> dict[str, str]:
        params = {"count": str(self.page_size), "offset": str(offset), "type": "regular"}
        params |= {"fields": fields} if fields else {"exclude_fields": "reports._links"}
        return params | ({"since_send_time": since} if since else {})

    def plan_record_calls(self, dataset: str, cursor: str | None) -> list[PlannedCall]:
        state = json.loads(cursor) if cursor else {}
        since = state.get("since") if "pass" in state else self._since(state)
        calls = [PlannedCall("GET", "3.0/reports", self._report_params(since, 0, ""), True)]
        if dataset == "opens":
            calls.append(
                PlannedCall(
                    "GET", "3.0/reports/{campaign_id}/open-details", {"count": "1000"}, True
                )
            )
        return calls

    async def fetch_records(self, dataset: str, cursor: str | None) -> RecordPage:
        state = json.loads(cursor) if cursor else {}
        if "pass" not in state:  # a new pass: from `refresh_days` before the last one
            now = self.clock().isoformat()
            state = {"last": state.get("last"), "window": state.get("window") or {},
                     "pass": now, "since": self._since(state), "offset": 0, "seen": {},
                     "queue": None}  # fmt: skip
        if dataset == "opens":
            return await self._opens(state)
        body = await self.client.get(
            "3.0/reports", self._report_params(state["since"], int(state["offset"]), "")
        )
        reports = [r for r in body.get("reports") or [] if isinstance(r, dict)]
        rows = [self._campaign(r) for r in reports]
        state["seen"] |= {row.id: row.fields["sent_at"] for row in rows}
        state["offset"] = int(state["offset"]) + len(reports)
        if reports and state["offset"] < int(body.get("total_items") or 0):
            return RecordPage(rows, [], json.dumps(state), more=True)
        # The pass is complete: what the last pass saw in this window and this one did
        # not was deleted.
        since = parse_instant(state["since"])
        gone = [
            cid
            for cid, sent in state["window"].items()
            if cid not in state["seen"] and (since is None or _after(sent, since))
        ]
        done = {"last": state["pass"], "window": self._window(state["seen"], state["pass"])}
        return RecordPage(rows, gone, json.dumps(done), more=False)

    def _window(self, seen: dict[str, str], began: str) -> dict[str, str]:
        """The campaigns the next pass will list again (its since_send_time onwards)."""
        next_since = self._since({"last": began})
        start = parse_instant(next_since)
        return {cid: sent for cid, sent in seen.items() if start is None or _after(sent, start)}

    def _campaign(self, report: dict[str, Any]) -> RecordRow:
        bounces, opens = report.get("bounces") or {}, report.get("opens") or {}
        clicks, forwards = report.get("clicks") or {}, report.get("forwards") or {}
        shop = report.get("ecommerce") or {}
        sent, hard, soft = (
            int(report.get("emails_sent") or 0),
            int(bounces.get("hard_bounces") or 0),
            int(bounces.get("soft_bounces") or 0),
        )
        fields = {
            "campaign_id": str(report["id"]),
            "title": report.get("campaign_title") or report.get("subject_line") or report["id"],
            "list_id": report.get("list_id"),
            "list_name": report.get("list_name"),
            "subject": report.get("subject_line"),
            "emails_sent": sent,
            # Mailchimp's rates divide by the delivered: sent less all bounces.
            "delivered": sent - hard - soft,
            "hard_bounces": hard,
            "soft_bounces": soft,
            "unsubscribed": int(report.get("unsubscribed") or 0),
            "forwards_count": int(forwards.get("forwards_count") or 0),
            "forwards_opens": int(forwards.get("forwards_opens") or 0),
            "opens_total": int(opens.get("opens_total") or 0),
            "unique_opens": int(opens.get("unique_opens") or 0),
            "clicks_total": int(clicks.get("clicks_total") or 0),
            "unique_clicks": int(clicks.get("unique_clicks") or 0),
            "subscriber_clicks": int(clicks.get("unique_subscriber_clicks") or 0),
            "total_orders": int(shop.get("total_orders") or 0),
            "total_spent": _number(shop.get("total_spent")),
            "total_revenue": _number(shop.get("total_revenue")),
            "currency": shop.get("currency_code"),
            "sent_at": report.get("send_time"),
            "created_at": report.get("send_time"),
        }
        return RecordRow(str(report["id"]), fields)

    async def _opens(self, state: dict[str, Any]) -> RecordPage:
        """One campaign's new opens a page: the queue of recent campaigns first."""
        if state["queue"] is None:
            queue: list[dict[str, str]] = []
            fields = "reports.id,reports.campaign_title,reports.list_id,total_items"
            for _ in range(1000):
                params = self._report_params(state["since"], len(queue), fields)
                body = await self.client.get("3.0/reports", params)
                reports = [r for r in body.get("reports") or [] if isinstance(r, dict)]
                queue += [
                    {"id": str(r["id"]), "title": str(r.get("campaign_title") or r["id"]),
                     "list_id": str(r.get("list_id") or "")}
                    for r in reports
                ]  # fmt: skip
                if not reports or len(queue) >= int(body.get("total_items") or 0):
                    break
            state = {**state, "queue": queue}
        queue = list(state["queue"])
        if not queue:
            return RecordPage([], [], json.dumps({"last": state["pass"]}), more=False)
        campaign = queue[0]
        params = {"count": str(self.page_size), "offset": str(state["offset"])}
        if state.get("last"):
            params["since"] = str(state["last"])
        body = await self.client.get(f"3.0/reports/{campaign['id']}/open-details", params)
        members = [m for m in body.get("members") or [] if isinstance(m, dict)]
        rows = [
            RecordRow(
                f"{campaign['id']}:{member.get('email_id')}:{stamp}",
                {
                    "campaign_id": campaign["id"],
                    "title": campaign["title"],
                    "list_id": campaign["list_id"],
                    "email_id": member.get("email_id"),
                    "opened_at": stamp,
                    "created_at": stamp,
                },
            )  # fmt: skip
            for member in members
            for stamp in (str(o.get("timestamp")) for o in member.get("opens") or [])
        ]
        offset = int(state["offset"]) + len(members)
        if members and offset < int(body.get("total_items") or 0):
            state = {**state, "offset": offset}
        else:
            state = {**state, "offset": 0, "queue": queue[1:]}
        if not state["queue"] and state["offset"] == 0:
            return RecordPage(rows, [], json.dumps({"last": state["pass"]}), more=False)
        return RecordPage(rows, [], json.dumps(state), more=True)


def _after(value: Any, start: datetime) -> bool:
    instant = parse_instant(value)
    return instant is not None and instant >= start
