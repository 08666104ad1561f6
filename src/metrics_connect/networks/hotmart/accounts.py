"""The producer a Hotmart token reaches, for the connect page's picker: Hotmart has no
"me" endpoint, so the producer named on the newest sale of the sales history (one
candidate); credentials without any sale yet still connect, as "Hotmart producer"."""

from __future__ import annotations

import httpx

from metrics_connect.connect.discovery import Candidate, get_json

HOTMART_TIMEZONE = "America/Sao_Paulo"


async def list_accounts(
    http: httpx.AsyncClient, api_base_url: str, version: str, token: str
) -> list[Candidate]:
    url = f"{api_base_url.rstrip('/')}/payments/api/v1/sales/history"
    body = await get_json(http, url, token, {"max_results": "1", "start_date": "0"})
    items = body.get("items") if isinstance(body, dict) else None
    producer = (items[0].get("producer") or {}) if items else {}
    ucode = str(producer.get("ucode") or "producer")
    return [
        Candidate(
            external_id=ucode,
            name=str(producer.get("name") or "Hotmart producer"),
            detail="Hotmart producer (Payments API)",
            timezone=HOTMART_TIMEZONE,
        )
    ]
