"""HubSpot marketing on the JSON REST kit (docs/networks/hubspot_marketing.md). What no
spec says:

- the analytics report of a request: one breakdown a call (`totals`, `sources`,
  `geolocation`, `utm-campaigns`), days as YYYYMMDD in the portal's time zone, answers
  keyed by day; rates turned back into counts (bounceRate x sessions, timePerSession x
  sessions, pageBounceRate x entrances, timePerPageview x views), so that a period's
  rate is a ratio of the period's sums, never a mean of daily rates;
- forms joined to their names and last edit (`/marketing/v3/forms`);
- e-mails: the histogram counts each e-mail on the interval it was sent in, so per
  e-mail it is one call on the day of its send (listed by `/marketing/v3/emails`);
- contacts (records): the CRM search on `lastmodifieddate` GTE the cursor, ascending,
  `after` paging restarted from the last instant before the 10,000-result cap;
  archived contacts listed apart (`?archived=true`, kept by `archivedAt`).
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, ClassVar

from metrics_connect.connectors.base import (
    AccountInfo,
    FetchRequest,
    FetchResult,
    PlannedCall,
    RecordPage,
    RecordRow,
    Row,
    Scalar,
    UpstreamError,
)
from metrics_connect.connectors.kit.calls import Answer, Call
from metrics_connect.connectors.kit.executor import KitConnector, render_call
from metrics_connect.connectors.kit.json_rest.client import JsonRestClient
from metrics_connect.connectors.kit.spec import Paginator, Requester, Stream, streams_of
from metrics_connect.connectors.kit.windows import moment
from metrics_connect.engine.records import parse_instant

REPORTS = {"source": "sources", "country": "geolocation", "utm_campaign": "utm-campaigns"}
ROW_KEYS = {"source", "country", "utm_campaign", "page", "form"}
# Counts recovered from the rates a row carries: field -> (rate, its base).
FROM_RATES = {
    "bounces": ("bounceRate", "visits"),
    "session_seconds": ("timePerSession", "visits"),
}
PAGE_RATES = {
    "bounces": ("pageBounceRate", "entrances"),
    "page_seconds": ("timePerPageview", "rawViews"),
}


ARCHIVED_PAGES = Paginator(
    type="cursor",
    page_size=100,
    page_size_param="limit",
    cursor_path="paging.next.after",
    next_path=None,
    param="after",
)


def _ms(value: Any) -> int:
    instant = parse_instant(value)
    return int(instant.timestamp() * 1000) if instant is not None else 0


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


class HubSpotMarketingConnector(KitConnector):
    slug: ClassVar[str] = "hubspot_marketing"
    streams = streams_of(__file__)
    client_class = JsonRestClient

    async def account_info(self) -> AccountInfo:
        body = await self.client.get("account-info/v3/details", {})
        return AccountInfo(
            name=f"HubSpot portal {body.get('portalId')}",
            timezone=str(body.get("timeZone") or "UTC"),
            currency=body.get("companyCurrency"),
        )

    def variables(self, request: FetchRequest, stream: Stream) -> dict[str, str]:
        reports = [REPORTS[b] for b in request.breakdowns if b in REPORTS]
        if len(reports) > 1:
            raise UpstreamError("HubSpot's analytics break traffic down by one field at a time")
        report = reports[0] if reports else "totals"
        return super().variables(request, stream) | {"report": report, "email_id": ""}

    def window_variables(
        self, request: FetchRequest, requester: Requester, first: date, last: date
    ) -> dict[str, str]:
        return {
            "ymd_start": first.strftime("%Y%m%d"),
            "ymd_end": last.strftime("%Y%m%d"),
            "start_instant": self._instant(first),
            "end_instant": self._instant(last + timedelta(days=1)),
        }

    def _instant(self, day: date) -> str:
        midnight = datetime.combine(day, time(), self.tz)
        return midnight.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    # --- e-mails: overall by window, or one call per e-mail on its send day ---

    def plan(self, request: FetchRequest) -> list[Call]:
        calls = super().plan(request)
        if request.dataset != "emails":
            return calls
        if not self._per_email(request):
            return [c for c in calls if c.requester == "histogram"]
        listing = next(c for c in calls if c.requester == "list")
        return [
            listing,
            replace(self._email_call(request, "{email_id}", request.start), estimated=True),
        ]

    @staticmethod
    def _per_email(request: FetchRequest) -> bool:
        return bool({"email", "email_name"} & set(request.breakdowns))

    def _email_call(self, request: FetchRequest, email_id: str, day: date) -> Call:
        requester = self.streams.requester("emails", "histogram")
        variables = (
            self.variables(request, self.stream(request))
            | self.window_variables(request, requester, day, day)
            | {"email_id": email_id}
        )
        return render_call(requester, variables, (day, day))

    def plan_calls(self, request: FetchRequest) -> list[PlannedCall]:
        return [call.planned() for call in self.plan(request)]

    async def fetch(self, request: FetchRequest) -> FetchResult:
        if request.dataset != "emails" or not self._per_email(request):
            return await super().fetch(request)
        listing = await self.run(request, self.plan(request)[0])
        rows: list[Row] = []
        for email in listing.records:
            sent = email.get("publishDate")
            day = moment(str(sent)).astimezone(self.tz).date() if sent else None
            if day is None or not request.start <= day <= request.end:
                continue
            answer = await self.run(request, self._email_call(request, str(email["id"]), day))
            keys = {"email": str(email["id"]), "email_name": str(email.get("name") or email["id"])}
            keys = {k: v for k, v in keys.items() if k in request.breakdowns}
            rows += self._histogram_rows(answer, keys)
        result = FetchResult(rows=rows)
        result.incomplete_days |= self.incomplete(request)
        return result

    def _histogram_rows(self, answer: Answer, keys: dict[str, str]) -> list[Row]:
        fields = self.streams.datasets["emails"].fields
        rows = []
        for interval in answer.records:
            day = moment(str(interval["interval"]["start"])).astimezone(self.tz).date()
            counters = (interval.get("aggregations") or {}).get("counters") or {}
            values: dict[str, Scalar] = {f: _number(counters.get(f)) for f in fields}
            rows.append(Row(day=day, keys=dict(keys), values=values))
        return rows

    # --- contacts: the incremental CRM search ---

    def _search(self, since: int, after: str | None) -> dict[str, Any]:
        extra = self.streams.datasets["contacts"].extra
        body: dict[str, Any] = {
            "filterGroups": [
                {
                    "filters": [
                        {"propertyName": "lastmodifieddate", "operator": "GTE", "value": str(since)}
                    ]
                }
            ],
            "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
            "properties": sorted(extra["rename"]),
            "limit": int(extra["page_size"]),
        }
        return body | ({"after": after} if after is not None else {})

    def plan_record_calls(self, dataset: str, cursor: str | None) -> list[PlannedCall]:
        state = json.loads(cursor) if cursor else {}
        body = self._search(int(state.get("since", 0)), state.get("after"))
        search = {"body": json.dumps(body)}
        return [
            PlannedCall("POST", "crm/v3/objects/contacts/search", search, estimated=True),
            PlannedCall(
                "GET", "crm/v3/objects/contacts", {"archived": "true", "limit": "100"}, True
            ),
        ]

    async def fetch_records(self, dataset: str, cursor: str | None) -> RecordPage:
        state = json.loads(cursor) if cursor else {}
        since, after = int(state.get("since", 0)), state.get("after")
        answer = await self.client.request(
            "POST", "crm/v3/objects/contacts/search", {}, json=self._search(since, after)
        )
        items = [i for i in answer.get("results") or [] if isinstance(i, dict)]
        rename = self.streams.datasets["contacts"].extra["rename"]
        rows = [
            RecordRow(
                str(i["id"]),
                {new: (i.get("properties") or {}).get(old) for old, new in rename.items()},
            )
            for i in items
        ]
        latest = max(
            [since, *(_ms((i.get("properties") or {}).get("lastmodifieddate")) for i in items)]
        )
        following = ((answer.get("paging") or {}).get("next") or {}).get("after")
        if following is not None:
            extra = self.streams.datasets["contacts"].extra
            if int(following) + int(extra["page_size"]) <= int(extra["search_cap"]):
                state = {**state, "after": str(following)}
            else:  # the search's cap: a new search from the last instant reached
                state = {**state, "since": max(latest, since + 1), "after": None}
            return RecordPage(rows, [], json.dumps(state), more=True)
        gone, newest = await self._archived(int(state.get("archived_since", 0)))
        state = {"since": latest, "after": None, "archived_since": newest}
        return RecordPage(rows, gone, json.dumps(state), more=False)

    async def _archived(self, since: int) -> tuple[list[str], int]:
        """Contacts archived at or after `since` (ms), and the newest archivedAt seen."""
        call = Call("crm/v3/objects/contacts", {"archived": "true", "limit": "100"})
        requester = Requester(
            path=call.path, paginator=ARCHIVED_PAGES, selector={"records": "results"}
        )
        answer = await self.client.run(call, requester)
        gone = [(str(i["id"]), _ms(i.get("archivedAt"))) for i in answer.records]
        kept = [(i, at) for i, at in gone if at >= since]
        return [i for i, _ in kept], max([since, *(at for _, at in kept)])

    # --- answers to rows ---

    def result(self, request: FetchRequest, answers: list[Answer]) -> FetchResult:
        if request.dataset == "emails":
            return FetchResult(rows=[r for a in answers for r in self._histogram_rows(a, {})])
        forms = {
            str(item["id"]): item
            for answer in answers
            if answer.call.requester == "list"
            for item in answer.records
        }
        fields = self.stream(request).fields
        key = next((b for b in request.breakdowns if b in ROW_KEYS), None)
        rates = FROM_RATES if request.dataset == "traffic" else PAGE_RATES
        rows: list[Row] = []
        for answer in answers:
            if answer.call.requester != "report" or not isinstance(answer.body, dict):
                continue
            for day, entries in answer.body.items():
                for entry in entries or []:
                    values: dict[str, Scalar] = {f: _number(entry[f]) for f in fields if f in entry}
                    for name, (rate, base) in rates.items():
                        if name in fields and rate in entry:
                            values[name] = _number(entry[rate]) * _number(entry.get(base))
                    keys = {key: str(entry["breakdown"])} if key else {}
                    if request.dataset == "forms":
                        form = forms.get(str(entry["breakdown"]), {})
                        keys = {
                            "form": str(entry["breakdown"]),
                            "form_name": str(form.get("name") or entry["breakdown"]),
                        }
                        updated = form.get("updatedAt")
                        values["updated_at"] = (
                            moment(str(updated)).astimezone(self.tz).strftime("%Y-%m-%d %H:%M:%S")
                            if updated
                            else None
                        )
                    rows.append(Row(day=date.fromisoformat(day), keys=keys, values=values))
        if request.dataset == "forms":
            rows = _merged(rows, set(request.breakdowns))
        return FetchResult(rows=rows)


def _merged(rows: list[Row], wanted: set[str]) -> list[Row]:
    """Form rows keyed by the requested breakdowns only: the forms of one key summed
    (a day's figures of every form when none is asked), the latest edit kept."""
    out: dict[tuple[date | None, tuple[tuple[str, str], ...]], Row] = {}
    for row in rows:
        keys = {k: v for k, v in row.keys.items() if k in wanted}
        index = (row.day, tuple(sorted(keys.items())))
        if index not in out:
            out[index] = replace(row, keys=keys, values=dict(row.values))
            continue
        values = out[index].values
        for name, value in row.values.items():
            if isinstance(value, str) or value is None:
                values[name] = max((v for v in (values.get(name), value) if v), default=None)
            else:
                values[name] = _number(values.get(name)) + value
    return list(out.values())
