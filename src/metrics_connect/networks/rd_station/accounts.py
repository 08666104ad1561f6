"""The account an RD Station token reaches, for the connect page's picker: its name from
`GET /marketing/account_info` and its id from an analytics answer's `account_id` (the
API names no id elsewhere); RD Station accounts count days in Brasília time."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from metrics_connect.connect.discovery import Candidate, get_json


async def list_accounts(
    http: httpx.AsyncClient, api_base_url: str, version: str, token: str
) -> list[Candidate]:
    base = api_base_url.rstrip("/")
    info = await get_json(http, f"{base}/marketing/account_info", token, {})
    today = datetime.now(UTC).date().isoformat()
    funnel = await get_json(
        http, f"{base}/platform/analytics/funnels", token, {"start_date": today, "end_date": today}
    )
    account = funnel.get("account_id") if isinstance(funnel, dict) else None
    if account is None:
        return []
    name = str((info or {}).get("name") or f"RD Station {account}")
    return [
        Candidate(
            external_id=str(account),
            name=name,
            detail=f"RD Station Marketing account {account}",
            timezone="America/Sao_Paulo",
        )
    ]
