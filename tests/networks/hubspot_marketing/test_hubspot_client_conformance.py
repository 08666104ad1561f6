"""HubSpot's official Python client (`hubspot-api-client`, real HTTP on loopback) against
the marketing emulator: e-mails and forms listed with `after` to the last page (the
v3 definitions' required parts present), the statistics histogram per day and per
e-mail matching the raw e-mails, and HubSpot's error bodies as the client's exceptions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from hubspot import HubSpot
from hubspot.crm.contacts import Filter, FilterGroup, PublicObjectSearchRequest
from hubspot.marketing.emails.exceptions import ApiException

from metrics_connect.networks.hubspot_marketing.emulator import contacts, data
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN
from metrics_connect.sandbox.oauth.serve import serve_in_background
from metrics_connect.sandbox.registry import SandboxNetwork, build_sandbox

NOW = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[SandboxNetwork, str]]:
    sandbox = build_sandbox("hubspot_marketing")
    sandbox.controls.clock.set(NOW)
    server = serve_in_background(sandbox.app, lifespan="off")
    try:
        yield sandbox, server.base_url
    finally:
        server.stop()


def client(base_url: str, token: str = DEMO_ACCESS_TOKEN) -> HubSpot:
    return HubSpot(access_token=token, host=base_url)


def every_page(get_page: Any, limit: int) -> list[Any]:
    seen: list[Any] = []
    after = None
    while True:
        page = get_page(limit=limit, after=after) if after else get_page(limit=limit)
        seen += page.results
        if page.paging is None or page.paging.next is None:
            return seen
        after = page.paging.next.after


def test_emails_and_forms_list_to_the_last_page(served: tuple[SandboxNetwork, str]) -> None:
    _, base_url = served
    hubspot = client(base_url)
    emails = every_page(hubspot.marketing.emails.marketing_emails_api.get_page, 100)
    listed = [e for e in data.emails() if e.sent_at - timedelta(days=2) <= NOW]
    assert [e.id for e in emails] == [str(e.id) for e in listed] and len(emails) > 100
    assert emails[0].publish_date == listed[0].sent_at.astimezone(UTC)
    forms = every_page(hubspot.marketing.forms.forms_api.get_page, 2)
    assert {f.name for f in forms} == {f.name for f in data.FORMS}
    assert all(f.updated_at <= NOW for f in forms)


def test_the_histogram_counts_the_emails_sent_each_day(served: tuple[SandboxNetwork, str]) -> None:
    _, base_url = served
    api = client(base_url).marketing.emails.statistics_api
    first, last = date(2026, 11, 1), date(2026, 11, 30)
    start = datetime.combine(first, time(), data.TZ)
    end = datetime.combine(last + timedelta(days=1), time(), data.TZ)
    answer = api.get_histogram(interval="DAY", start_timestamp=start, end_timestamp=end)
    assert len(answer.results) == 30
    by_day = {
        r.interval.start.astimezone(data.TZ).date(): r.aggregations.counters for r in answer.results
    }
    for day, counters in by_day.items():
        sent = [e for e in data.emails() if data.local_day(e.sent_at) == day]
        assert counters["open"] == sum(e.counters(NOW)["open"] for e in sent)
    one = next(e for e in data.emails() if data.local_day(e.sent_at) == date(2026, 11, 17))
    only = api.get_histogram(
        interval="DAY", start_timestamp=start, end_timestamp=end, email_ids=[one.id]
    )
    assert sum(r.aggregations.counters["sent"] for r in only.results) == one.final["sent"]


def test_errors_are_hubspot_bodies(served: tuple[SandboxNetwork, str]) -> None:
    sandbox, base_url = served
    api = client(base_url, token="not-a-sandbox-token").marketing.emails.marketing_emails_api
    with pytest.raises(ApiException) as caught:
        api.get_page(limit=10)
    assert caught.value.status == 401
    assert '"category":"INVALID_AUTHENTICATION"' in caught.value.body.replace(" ", "")
    sandbox.controls.switches.rate_limit_next = 1
    with pytest.raises(ApiException) as limited:
        client(base_url).marketing.emails.marketing_emails_api.get_page(limit=10)
    assert limited.value.status == 429 and "RATE_LIMITS" in limited.value.body


def test_the_contacts_search_pages_to_the_end_and_archived_ones_list_apart(
    served: tuple[SandboxNetwork, str],
) -> None:
    _, base_url = served
    hubspot = client(base_url)
    since = "2026-11-25T00:00:00.000Z"
    request = PublicObjectSearchRequest(
        filter_groups=[
            FilterGroup(
                filters=[Filter(property_name="lastmodifieddate", operator="GTE", value=since)]
            )
        ],
        sorts=["lastmodifieddate"],
        properties=["lifecyclestage", "hs_analytics_source"],
        limit=100,
    )
    seen: list[str] = []
    while True:
        page = hubspot.crm.contacts.search_api.do_search(public_object_search_request=request)
        seen += [c.id for c in page.results]
        if page.paging is None or page.paging.next is None:
            break
        request.after = page.paging.next.after
    bound = datetime.fromisoformat(since.replace("Z", "+00:00"))
    expected = [
        r.id
        for r, f in sorted(
            contacts.book().live("contacts", NOW),
            key=lambda rf: (rf[1]["lastmodifieddate"], rf[0].id),
        )
        if r.modified(NOW) >= bound
    ]
    assert seen == expected and len(seen) > 100
    archived = hubspot.crm.contacts.basic_api.get_page(limit=100, archived=True)
    assert archived.results and all(c.archived and c.archived_at <= NOW for c in archived.results)
