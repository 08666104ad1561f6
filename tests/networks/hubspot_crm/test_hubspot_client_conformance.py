"""HubSpot's official Python client (`hubspot-api-client`, real HTTP on loopback) against
the emulator: searches paged with `after` to the last page and matching the raw records,
the 10,000-result cap, archived listings, owners and pipelines, HubSpot's error bodies as
the client's exceptions, and the rate-limit headers it reads."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hubspot import HubSpot
from hubspot.crm.contacts.exceptions import ApiException as ContactsApiException
from hubspot.crm.deals import Filter, FilterGroup, PublicObjectSearchRequest
from hubspot.crm.deals.exceptions import ApiException

from metrics_connect.networks.hubspot_crm.emulator.data import CrmData
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN
from metrics_connect.sandbox.oauth.serve import serve_in_background
from metrics_connect.sandbox.registry import SandboxNetwork, build_sandbox

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
SINCE = "2026-11-01T00:00:00.000Z"


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[SandboxNetwork, str]]:
    sandbox = build_sandbox("hubspot_crm")
    sandbox.controls.clock.set(NOW)
    server = serve_in_background(sandbox.app, lifespan="off")
    try:
        yield sandbox, server.base_url
    finally:
        server.stop()


def client(base_url: str, token: str = DEMO_ACCESS_TOKEN) -> HubSpot:
    return HubSpot(access_token=token, host=base_url)


def modified_since() -> PublicObjectSearchRequest:
    return PublicObjectSearchRequest(
        filter_groups=[
            FilterGroup(
                filters=[Filter(property_name="hs_lastmodifieddate", operator="GTE", value=SINCE)]
            )
        ],
        sorts=["hs_lastmodifieddate"],
        properties=["dealname", "amount", "dealstage", "closedate"],
        limit=100,
    )


def test_a_modified_since_search_pages_to_the_end_and_matches_the_raw_deals(
    served: tuple[SandboxNetwork, str],
) -> None:
    sandbox, base_url = served
    data: CrmData = sandbox.data
    api = client(base_url).crm.deals.search_api
    request = modified_since()
    seen: list[str] = []
    while True:
        page = api.do_search(public_object_search_request=request)
        seen += [deal.id for deal in page.results]
        if page.paging is None or page.paging.next is None:
            break
        request.after = page.paging.next.after
    expected = [
        r.id
        for r, p in sorted(
            data.live("deals", NOW), key=lambda rp: (rp[1]["hs_lastmodifieddate"], int(rp[0].id))
        )
        if (p["hs_lastmodifieddate"] or "") >= SINCE
    ]
    assert seen == expected and len(seen) > 100
    assert page.total == len(expected)
    first = api.do_search(public_object_search_request=modified_since()).results[0]
    assert set(first.properties) >= {"dealname", "amount", "dealstage", "hs_lastmodifieddate"}
    assert first.properties["hs_object_id"] == first.id


def test_the_search_stops_at_ten_thousand_results(served: tuple[SandboxNetwork, str]) -> None:
    _, base_url = served
    api = client(base_url).crm.deals.search_api
    request = modified_since()
    request.after = "9950"
    with pytest.raises(ApiException) as caught:
        api.do_search(public_object_search_request=request)
    assert caught.value.status == 400
    assert '"category":"VALIDATION_ERROR"' in caught.value.body.replace(" ", "")


def test_archived_deals_owners_and_pipelines(served: tuple[SandboxNetwork, str]) -> None:
    sandbox, base_url = served
    data: CrmData = sandbox.data
    hubspot = client(base_url)
    archived = hubspot.crm.deals.basic_api.get_page(limit=100, archived=True)
    assert {d.id for d in archived.results} == {r.id for r, _ in data.archived("deals", NOW)}
    assert all(d.archived and d.archived_at is not None for d in archived.results)
    owners = hubspot.crm.owners.owners_api.get_page(limit=100)
    assert [o.email for o in owners.results] == [o["email"] for o in data.owners]
    pipelines = hubspot.crm.pipelines.pipelines_api.get_all(object_type="deals")
    default = next(p for p in pipelines.results if p.id == "default")
    assert [s.id for s in default.stages][-2:] == ["closedwon", "closedlost"]
    assert default.stages[-2].metadata == {"isClosed": "true", "probability": "1.0"}


def test_errors_reach_the_client_as_hubspot_writes_them(
    served: tuple[SandboxNetwork, str],
) -> None:
    sandbox, base_url = served
    expired = "sandbox-expired-for-the-client"
    sandbox.controls.switches.expired_tokens.add(expired)
    try:
        with pytest.raises(ContactsApiException) as caught:
            client(base_url, expired).crm.contacts.basic_api.get_page(limit=1)
    finally:
        sandbox.controls.switches.expired_tokens.discard(expired)
    assert caught.value.status == 401
    assert "EXPIRED_AUTHENTICATION" in caught.value.body
    sandbox.controls.switches.rate_limit_next = 1
    with pytest.raises(ContactsApiException) as limited:
        client(base_url).crm.contacts.basic_api.get_page(limit=1)
    assert limited.value.status == 429
    assert "TEN_SECONDLY_ROLLING" in limited.value.body
    assert limited.value.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
