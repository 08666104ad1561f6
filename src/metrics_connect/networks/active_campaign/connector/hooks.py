"""ActiveCampaign (API v3) on the kit: deals, contacts, campaigns and automation entries
as records datasets (docs/networks/active_campaign.md). What no spec says:

- every call goes to the customer's own account URL (`https://<account>.api-us1.com`),
  vetted by the SSRF guard before each call (`CustomerUrlClient`);
- v3 lists no deletions, so every sync is a full listing (`limit` 100 / `offset`,
  `meta.total`); its last page says `listed_all` when this connector walked the listing
  from offset 0, and the store then marks deleted what it did not list;
- every number is a string; a deal's `value` is in cents; a deal has no close date: a
  won or lost deal's last modification (`mdate`) stands for it;
- labels denormalized onto the records: pipeline and stage titles, owner names, a
  contact's list and form (its sideloaded `contactLists`), an automation's name and
  status on its campaigns and entries.
"""

from __future__ import annotations

import json
from typing import Any

from metrics_connect.connectors.base import AccountInfo, PlannedCall, RecordPage, RecordRow
from metrics_connect.connectors.kit.executor import KitConnector
from metrics_connect.connectors.kit.json_rest.customer_url import CustomerUrlClient
from metrics_connect.connectors.kit.spec import streams_of

LISTING = {
    "deals": "deals",
    "contacts": "contacts",
    "campaigns": "campaigns",
    "contact_automations": "contactAutomations",
}
LOOKUPS = ("users", "dealGroups", "lists", "forms", "automations")
FIGURES = (
    *("send_amt", "opens", "uniqueopens", "linkclicks", "uniquelinkclicks"),
    *("unsubscribes", "hardbounces", "forwards", "replies"),
)
AUTOMATION_STATUS = {"1": "Active", "2": "Inactive"}
VALUE_RANGES = ((1000, "Under 1,000"), (5000, "1,000 to 5,000"), (10000, "5,000 to 10,000"))


def value_range(amount: float) -> str:
    return next((label for top, label in VALUE_RANGES if amount < top), "10,000 and over")


def _number(value: Any) -> float:
    try:
        return float(value or 0)
    except (TypeError, ValueError):
        return 0.0


class AccountClient(CustomerUrlClient):
    family_name = "ActiveCampaign account"
    url_credential = "account_url"
    api_path = "/api/3"


class ActiveCampaignConnector(KitConnector):
    slug = "active_campaign"
    streams = streams_of(__file__)
    client_class = AccountClient

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._names: dict[str, dict[str, dict[str, Any]]] | None = None
        self._from_first_page: set[str] = set()
        self.page_size = int(self.streams.extra["page_size"])

    async def account_info(self) -> AccountInfo:
        body = await self.client.get("users/me", {})
        user = body.get("user") or {} if isinstance(body, dict) else {}
        url = self.ctx.credentials.get("account_url") or "ActiveCampaign"
        return AccountInfo(name=str(url), timezone=str(user.get("localZoneid") or "UTC"))

    def _params(self, dataset: str, offset: int) -> dict[str, str]:
        params = {"limit": str(self.page_size), "offset": str(offset)}
        if dataset == "contacts":
            params["include"] = "contactLists"
        return params

    def plan_record_calls(self, dataset: str, cursor: str | None) -> list[PlannedCall]:
        offset = int((json.loads(cursor) if cursor else {}).get("offset") or 0)
        lookups = [PlannedCall("GET", name, {"limit": "100"}, estimated=True) for name in LOOKUPS]
        listing = PlannedCall(
            "GET", LISTING[dataset], self._params(dataset, offset), estimated=True
        )
        return [*lookups, listing]

    async def fetch_records(self, dataset: str, cursor: str | None) -> RecordPage:
        offset = int((json.loads(cursor) if cursor else {}).get("offset") or 0)
        if offset == 0:
            self._from_first_page.add(dataset)
        names = await self._lookups()
        listing = LISTING[dataset]
        body = await self.client.get(listing, self._params(dataset, offset))
        items = [i for i in (body.get(listing) or []) if isinstance(i, dict)]
        if dataset == "contacts":
            subscriptions = {str(s.get("contact")): s for s in body.get("contactLists") or []}
            rows = [self._contact(i, subscriptions.get(str(i.get("id"))), names) for i in items]
        else:
            rows = [getattr(self, f"_{dataset}")(item, names) for item in items]
        total = int(_number((body.get("meta") or {}).get("total")))
        after = offset + len(items)
        if items and after < total:
            return RecordPage(rows, [], json.dumps({"offset": after}), more=True)
        complete = dataset in self._from_first_page
        return RecordPage(rows, [], json.dumps({"offset": 0}), more=False, listed_all=complete)

    async def _lookups(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Pipelines, stages, users, lists, forms and automations by id (a few each)."""
        if self._names is None:
            names: dict[str, dict[str, dict[str, Any]]] = {}
            for name in LOOKUPS:
                body = await self.client.get(name, {"limit": "100"})
                names[name] = {str(i.get("id")): i for i in body.get(name) or []}
                if name == "dealGroups":
                    stages = body.get("dealStages") or []
                    names["dealStages"] = {str(s.get("id")): s for s in stages}
            self._names = names
        return self._names

    def _deals(self, deal: dict[str, Any], names: dict[str, dict[str, Any]]) -> RecordRow:
        status = str(deal.get("status"))
        pipeline = names["dealGroups"].get(str(deal.get("group"))) or {}
        stage = names["dealStages"].get(str(deal.get("stage"))) or {}
        owner = names["users"].get(str(deal.get("owner"))) or {}
        owner_name = f"{owner.get('firstName') or ''} {owner.get('lastName') or ''}".strip()
        amount = _number(deal.get("value")) / 100  # cents
        fields = {
            "title": deal.get("title"),
            "amount": amount,
            "value_range": value_range(amount),
            "currency": str(deal.get("currency") or "").upper() or None,
            "pipeline": str(deal.get("group")),
            "pipeline_label": pipeline.get("title"),
            "stage": str(deal.get("stage")),
            "stage_label": stage.get("title"),
            "owner": str(deal.get("owner")),
            "owner_name": owner_name or str(deal.get("owner")),
            "won": status == "1",
            "lost": status == "2",
            "open": status == "0",
            "created_at": deal.get("cdate"),
            "updated_at": deal.get("mdate"),
            "closed_at": deal.get("mdate") if status in ("1", "2") else None,
        }
        return RecordRow(str(deal.get("id")), fields)

    def _contact(
        self,
        contact: dict[str, Any],
        subscription: dict[str, Any] | None,
        names: dict[str, dict[str, Any]],
    ) -> RecordRow:
        listed, form = (
            (str(subscription.get(k) or "") for k in ("list", "form"))
            if (subscription)
            else ("", "")
        )
        fields = {
            "email": contact.get("email"),
            "list": listed or None,
            "list_name": (names["lists"].get(listed) or {}).get("name"),
            "form": form or None,
            "form_name": (names["forms"].get(form) or {}).get("name"),
            "created_at": contact.get("cdate"),
            "updated_at": contact.get("udate"),
            "subscribed_at": (subscription or {}).get("sdate"),
        }
        return RecordRow(str(contact.get("id")), fields)

    def _automation(self, automation_id: Any, names: dict[str, Any]) -> dict[str, Any]:
        found = names["automations"].get(str(automation_id)) or {}
        known = bool(found)
        return {
            "automation": str(automation_id) if known else None,
            "automation_name": found.get("name"),
            "automation_status": AUTOMATION_STATUS.get(str(found.get("status"))) if known else None,
        }

    def _campaigns(self, campaign: dict[str, Any], names: dict[str, Any]) -> RecordRow:
        sent = campaign.get("sdate") if str(campaign.get("status")) == "5" else None
        fields = {
            "campaign_id": str(campaign.get("id")),
            "name": campaign.get("name"),
            "type": campaign.get("type"),
            "status": str(campaign.get("status")),
            **self._automation(campaign.get("automation"), names),
            **{k: int(_number(campaign.get(k))) for k in FIGURES},
            "created_at": campaign.get("cdate"),
            "updated_at": campaign.get("mdate"),
            "sent_at": sent or campaign.get("sdate"),
        }
        return RecordRow(str(campaign.get("id")), fields)

    def _contact_automations(self, entry: dict[str, Any], names: dict[str, Any]) -> RecordRow:
        completed = str(entry.get("status")) == "2"
        fields = {
            "contact": str(entry.get("contact")),
            **self._automation(entry.get("automation"), names),
            "completed": completed,
            "created_at": entry.get("adddate"),
            "updated_at": entry.get("lastdate"),
            "completed_at": entry.get("remdate") if completed else None,
        }
        return RecordRow(str(entry.get("id")), fields)
