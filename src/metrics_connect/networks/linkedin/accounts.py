"""The organization pages a LinkedIn login administers, for the connect page: its
approved ADMINISTRATOR roles (organizationAcls?q=roleAssignee), then each organization
(organizations/{id}) for its name."""

from __future__ import annotations

from typing import Any

import httpx

from metrics_connect.connect.discovery import Candidate, get_json
from metrics_connect.connectors.kit.restli import restli_headers
from metrics_connect.networks.linkedin.connector.hooks import STREAMS

ORGANIZATION_URN = "urn:li:organization:"


async def restli_get(http: httpx.AsyncClient, url: str, token: str) -> Any:
    return await get_json(http, url, token, headers=restli_headers(STREAMS.api.default_version))


async def list_accounts(
    http: httpx.AsyncClient, api_base_url: str, version: str, token: str
) -> list[Candidate]:
    base = api_base_url.rstrip("/")
    query = "q=roleAssignee&role=ADMINISTRATOR&state=APPROVED"
    acls = await restli_get(http, f"{base}/rest/organizationAcls?{query}", token)
    out = []
    for acl in acls.get("elements") or []:
        org_id = str(acl.get("organization") or "").removeprefix(ORGANIZATION_URN)
        if not org_id.isdigit():
            continue
        org = await restli_get(http, f"{base}/rest/organizations/{org_id}", token)
        name = str(org.get("localizedName") or org_id)
        vanity = org.get("vanityName")
        detail = f"linkedin.com/company/{vanity}" if vanity else f"Organization {org_id}"
        out.append(Candidate(external_id=org_id, name=name, detail=detail, timezone="UTC"))
    return out
