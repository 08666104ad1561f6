"""The account a Mailchimp token reaches, for the connect page's picker: the login
host's `GET /oauth2/metadata` names the data center (`dc`) and `api_endpoint`, then
`GET {api_endpoint}/3.0/` the account (id, name, time zone). The API endpoint is kept
with the credentials: every later call goes to that data center."""

from __future__ import annotations

import httpx

from metrics_connect.connect.discovery import Candidate, ConnectFailed, get_json


async def list_accounts(
    http: httpx.AsyncClient, api_base_url: str, version: str, token: str
) -> list[Candidate]:
    meta = await get_json(http, f"{api_base_url.rstrip('/')}/oauth2/metadata", token, {})
    endpoint = str(meta.get("api_endpoint") or "") if isinstance(meta, dict) else ""
    if not endpoint.startswith(("https://", "http://")):
        raise ConnectFailed("Mailchimp's metadata named no API endpoint")
    account = await get_json(http, f"{endpoint.rstrip('/')}/3.0/", token, {})
    if not isinstance(account, dict) or not account.get("account_id"):
        return []
    return [
        Candidate(
            external_id=str(account["account_id"]),
            name=str(account.get("account_name") or account["account_id"]),
            detail=f"{meta.get('dc')} ({account.get('email') or ''})",
            timezone=str(account.get("account_timezone") or "") or None,
            extra={"api_endpoint": endpoint.rstrip("/"), "dc": str(meta.get("dc") or "")},
        )
    ]
