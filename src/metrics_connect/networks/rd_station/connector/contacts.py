"""The leads base as records (docs/records.md, docs/networks/rd_station.md): the contacts
of the account's standard "all contacts" segmentation, listed page by page
(`GET /platform/segmentations/{id}/contacts`, 125 a page, oldest first), each completed
by its own endpoints, since the listing carries only uuid, name, e-mail and two dates:

- `contacts`: `GET /platform/contacts/{uuid}/funnels/default` (the fit and interest
  scores, lifecycle stage: "now" values) and `.../events?event_type=CONVERSION`, newest
  first (the last conversion's identifier and traffic source);
- `contact_tags`: `GET /platform/contacts/{uuid}` (its tags), one record per tag.

The API filters no listing by modification and lists no removals: every sync walks the
whole listing (`listed_all` on its last page when it started from the first one), and a
contact removed between the listing and its details (404) is left out."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from metrics_connect.connectors.base import PlannedCall, RecordPage, RecordRow, UpstreamError
from metrics_connect.connectors.kit.http import KitClient

PAGE_SIZE = 125  # the segmentations API's largest page
DETAILS_IN_FLIGHT = 4  # one page's detail calls run this many at once
ALL_CONTACTS = ("todos os contatos", "all contacts", "todos los contactos")
# What each dataset asks of every listed contact.
# The newest conversions first: the first page (10 events) holds the last one.
CONVERSIONS = {"event_type": "CONVERSION", "order": "created_at:desc", "page": "1"}
DETAILS: dict[str, tuple[tuple[str, dict[str, str]], ...]] = {
    "contacts": (
        ("platform/contacts/{uuid}/funnels/default", {}),
        ("platform/contacts/{uuid}/events", CONVERSIONS),
    ),
    "contact_tags": (("platform/contacts/{uuid}", {}),),
}
UNKNOWN_SOURCE = "(unknown)"


def _all_contacts(segmentations: list[dict[str, Any]]) -> Any:
    """The standard segmentation holding the whole base: by its name (RD names it in the
    account's language), else the first standard one."""
    standard = [s for s in segmentations if s.get("standard") is True]
    for segmentation in standard:
        if str(segmentation.get("name") or "").lower().startswith(ALL_CONTACTS):
            return segmentation.get("id")
    return standard[0].get("id") if standard else None


def _score(value: Any) -> str | None:
    return str(int(value)) if isinstance(value, int | float) else None


def _last_conversion(events: Any) -> dict[str, Any]:
    """The newest conversion event of the page (asked newest first; taken by its instant
    all the same)."""
    found = [e for e in events if isinstance(e, dict)] if isinstance(events, list) else []
    if not found:
        return {}
    return max(found, key=lambda e: str(e.get("event_timestamp") or ""))


class ContactRecords:
    def __init__(self, client: KitClient) -> None:
        self.client = client
        self.segmentation: Any = None
        self.from_first_page: set[str] = set()

    def plan(self, dataset: str, cursor: str | None) -> list[PlannedCall]:
        page = int((json.loads(cursor) if cursor else {}).get("page") or 1)
        calls = [PlannedCall("GET", "platform/segmentations", self._paging(1), estimated=True)]
        listing = "platform/segmentations/{id}/contacts"
        calls.append(PlannedCall("GET", listing, self._paging(page), estimated=True))
        details = [PlannedCall("GET", p, dict(q), estimated=True) for p, q in DETAILS[dataset]]
        return calls + details

    def _paging(self, page: int) -> dict[str, str]:
        return {"page": str(page), "page_size": str(PAGE_SIZE)}

    async def _find_segmentation(self) -> Any:
        if self.segmentation is None:
            found: list[dict[str, Any]] = []
            page = 1
            while True:
                body = await self.client.get("platform/segmentations", self._paging(page))
                items = (body or {}).get("segmentations") or [] if isinstance(body, dict) else []
                found += [s for s in items if isinstance(s, dict)]
                if len(items) < PAGE_SIZE:
                    break
                page += 1
            self.segmentation = _all_contacts(found)
            if self.segmentation is None:
                raise UpstreamError("RD Station: the account shows no standard segmentation.")
        return self.segmentation

    async def fetch(self, dataset: str, cursor: str | None) -> RecordPage:
        page = int((json.loads(cursor) if cursor else {}).get("page") or 1)
        if page == 1:
            self.from_first_page.add(dataset)
        segmentation = await self._find_segmentation()
        body = await self.client.get(
            f"platform/segmentations/{segmentation}/contacts", self._paging(page)
        )
        listed = (body or {}).get("contacts") or [] if isinstance(body, dict) else []
        contacts = [c for c in listed if isinstance(c, dict) and c.get("uuid")]
        detail = self._stages if dataset == "contacts" else self._tags
        limit = asyncio.Semaphore(DETAILS_IN_FLIGHT)

        async def one(contact: dict[str, Any]) -> list[RecordRow]:
            async with limit:
                return await self._unless_gone(detail, contact)

        rows = [row for found in await asyncio.gather(*map(one, contacts)) for row in found]
        if len(listed) >= PAGE_SIZE:
            return RecordPage(rows, [], json.dumps({"page": page + 1}), more=True)
        complete = dataset in self.from_first_page
        return RecordPage(rows, [], json.dumps({"page": 1}), more=False, listed_all=complete)

    async def _unless_gone(
        self,
        detail: Callable[[dict[str, Any]], Awaitable[list[RecordRow]]],
        contact: dict[str, Any],
    ) -> list[RecordRow]:
        try:
            return await detail(contact)
        except UpstreamError as exc:
            if type(exc) is UpstreamError and exc.upstream_code == "RESOURCE_NOT_FOUND":
                return []  # removed from the base since the listing
            raise

    def _dates(self, contact: dict[str, Any]) -> dict[str, Any]:
        return {
            "created_at": contact.get("created_at"),
            "last_conversion_at": contact.get("last_conversion_date"),
        }

    async def _stages(self, contact: dict[str, Any]) -> list[RecordRow]:
        uuid = str(contact["uuid"])
        funnel = await self.client.get(f"platform/contacts/{uuid}/funnels/default", {})
        events = await self.client.get(f"platform/contacts/{uuid}/events", CONVERSIONS)
        funnel = funnel if isinstance(funnel, dict) else {}
        last = _last_conversion(events)
        payload = last.get("payload") if isinstance(last.get("payload"), dict) else {}
        fields = {
            **self._dates(contact),
            "fit": _score(funnel.get("fit")),
            "interest": _score(funnel.get("interest")),
            "lifecycle_stage": funnel.get("lifecycle_stage"),
            "opportunity": funnel.get("opportunity") is True,
            "last_conversion_identifier": last.get("event_identifier")
            or (payload or {}).get("conversion_identifier"),
            "last_conversion_source": (payload or {}).get("traffic_source") or UNKNOWN_SOURCE,
        }
        return [RecordRow(uuid, fields)]

    async def _tags(self, contact: dict[str, Any]) -> list[RecordRow]:
        uuid = str(contact["uuid"])
        body = await self.client.get(f"platform/contacts/{uuid}", {})
        tags = (body or {}).get("tags") or [] if isinstance(body, dict) else []
        return [
            RecordRow(f"{uuid}:{tag}", {"contact": uuid, "tag": str(tag), **self._dates(contact)})
            for tag in dict.fromkeys(tags)
            if tag
        ]
