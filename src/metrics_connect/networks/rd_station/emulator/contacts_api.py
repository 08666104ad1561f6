"""The leads base as the RD Station Marketing API serves it (docs/networks/rd_station.md):

- `GET /platform/segmentations` and `GET /platform/segmentations/{id}/contacts`: `page`
  (from 1) and `page_size` (25 by default, at most 125: more is a 400), the
  `pagination-total-rows`, `pagination-page-size` and `pagination-page` headers; a
  segmentation's contacts carry only uuid, name, email, `created_at` and
  `last_conversion_date` (RD's "Mais informações" page of the segmentations API);
- `GET /platform/contacts/{uuid}` or `/platform/contacts/email:{email}`: the contact's
  fields with its `tags`;
- `GET /platform/contacts/{uuid}/funnels/default`: `lifecycle_stage`, `opportunity`,
  `contact_owner_email`, `fit` and `interest` (integers);
- `GET /platform/contacts/{uuid}/events?event_type=CONVERSION|OPPORTUNITY`: the
  contact's events, 10 a `page`, oldest first unless `order=created_at:desc` (or
  `direction=desc`), each with `event_identifier`, `event_timestamp` and the
  conversion's `payload` (`traffic_source`, `tags`...);
- a contact not in the base (never, or removed) is a 404 `RESOURCE_NOT_FOUND`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from metrics_connect.networks.rd_station.emulator.app import MarketingApp, RdError
from metrics_connect.networks.rd_station.emulator.leads import Lead, LeadBase, iso

API = "https://api.rd.services"
MAX_PAGE_SIZE = 125


def _page(request: Request, rows: list[dict[str, Any]], key: str) -> JSONResponse:
    try:
        page = int(request.query_params.get("page", "1"))
        size = int(request.query_params.get("page_size", "25"))
    except ValueError:
        raise RdError(400, "BAD_REQUEST", "page and page_size must be integers.") from None
    if page < 1 or not 1 <= size <= MAX_PAGE_SIZE:
        raise RdError(400, "BAD_REQUEST", f"page from 1; page_size from 1 to {MAX_PAGE_SIZE}.")
    names = ("pagination-total-rows", "pagination-page-size", "pagination-page")
    headers = dict(zip(names, map(str, (len(rows), size, page)), strict=True))
    return JSONResponse({key: rows[(page - 1) * size : page * size]}, headers=headers)


def _link(rel: str, path: str) -> dict[str, str]:
    return {"rel": rel, "href": f"{API}{path}", "media": "application/json", "type": "GET"}


class ContactsApi:
    def __init__(self, api: MarketingApp, base: LeadBase) -> None:
        self.api, self.base = api, base

    def now(self) -> datetime:
        return self.api.controls.clock.now()

    async def segmentations(self, request: Request) -> JSONResponse:
        await self.api.admit(request, "GET /platform/segmentations")
        made = "2024-01-02T09:00:00.000-03:00"
        rows = [
            {
                **{k: s[k] for k in ("id", "name", "standard")},
                **{"created_at": made, "updated_at": made, "process_status": "processed"},
                "links": [
                    _link("SEGMENTATIONS.CONTACTS", f"/platform/segmentations/{s['id']}/contacts")
                ],
            }
            for s in self.base.segmentations
        ]
        return _page(request, rows, "segmentations")

    async def members(self, request: Request) -> JSONResponse:
        await self.api.admit(request, "GET /platform/segmentations/{id}/contacts")
        wanted = request.path_params["segmentation"]
        found = [s for s in self.base.segmentations if str(s["id"]) == wanted]
        if not found:
            raise RdError(404, "RESOURCE_NOT_FOUND", "Segmentation not found.")
        now = self.now()
        rows = []
        for lead in self.base.members(found[0], now):
            conversions = lead.conversions_by(now)
            rows.append(
                {
                    "uuid": lead.uuid,
                    "name": lead.name,
                    "email": lead.email,
                    "last_conversion_date": iso(conversions[-1].at),
                    "created_at": iso(lead.created_at),
                    "links": [_link("CONTACTS.DETAILS", f"/platform/contacts/{lead.uuid}")],
                }
            )
        return _page(request, rows, "contacts")

    def _lead(self, request: Request) -> Lead:
        lead = self.base.find(request.path_params["contact"], self.now())
        if lead is None:
            raise RdError(404, "RESOURCE_NOT_FOUND", "Contact not found.")
        return lead

    async def contact(self, request: Request) -> JSONResponse:
        await self.api.admit(request, "GET /platform/contacts/{uuid}")
        lead = self._lead(request)
        fields = {"uuid": lead.uuid, "name": lead.name, "email": lead.email, "job_title": None}
        place = {"city": "São Paulo", "state": "SP", "country": "Brasil"}
        consent = {"category": "communications", "type": "consent", "status": "granted"}
        return JSONResponse(
            {
                **fields,
                **place,
                "tags": list(lead.tags),
                "extra_emails": [],
                "legal_bases": [consent],
                "links": [_link("SELF", f"/platform/contacts/{lead.uuid}")],
            }
        )

    async def funnel(self, request: Request) -> JSONResponse:
        await self.api.admit(request, "GET /platform/contacts/{uuid}/funnels/{funnel}")
        if request.path_params["funnel"] != "default":
            raise RdError(400, "BAD_REQUEST", 'The only funnel_name accepted is "default".')
        lead = self._lead(request)
        owner = "vendas@cafeaurora.example.com"
        stage = {"lifecycle_stage": lead.lifecycle_stage, "opportunity": lead.opportunity}
        scores = {"fit": lead.fit, "interest": lead.interest}
        return JSONResponse({**stage, "contact_owner_email": owner, **scores})

    async def events(self, request: Request) -> JSONResponse:
        await self.api.admit(request, "GET /platform/contacts/{uuid}/events")
        query = request.query_params
        kind = query.get("event_type", "")
        if kind not in ("CONVERSION", "OPPORTUNITY"):
            raise RdError(400, "INVALID_OPTION", "event_type must be CONVERSION or OPPORTUNITY.")
        field, _, direction = query.get("order", "created_at").partition(":")
        direction, page = direction or query.get("direction", "asc"), query.get("page", "1")
        if field != "created_at" or direction not in ("asc", "desc") or not page.isdigit():
            raise RdError(400, "BAD_REQUEST", "order is created_at[:asc|:desc]; page a number.")
        lead = self._lead(request)
        found = lead.conversions_by(self.now())
        if kind == "OPPORTUNITY":
            found = found[-1:] if lead.opportunity else []
        first = (max(int(page), 1) - 1) * 10
        chosen = (found[::-1] if direction == "desc" else found)[first : first + 10]
        return JSONResponse(
            [
                {
                    "event_type": kind,
                    "event_family": "CDP",
                    "event_identifier": c.identifier if kind == "CONVERSION" else "opportunity",
                    "event_timestamp": iso(c.at),
                    "payload": {"conversion_identifier": c.identifier, "email": lead.email}
                    | {"name": lead.name, "traffic_source": c.source, "tags": list(lead.tags)},
                }
                for c in chosen
            ]
        )
