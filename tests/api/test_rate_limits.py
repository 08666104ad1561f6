from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import Tenant


async def test_limit_headers_and_429_with_retry_after(
    client: httpx.AsyncClient, make_tenant: Any
) -> None:
    t: Tenant = await make_tenant("Limited", per_second=1000, per_minute=3)
    remaining = []
    for _ in range(3):
        r = await client.get("/merchants/settings", headers=t.merchant_headers)
        assert r.status_code == 200
        assert r.headers["X-RateLimit-Limit"] == "3"
        remaining.append(int(r.headers["X-RateLimit-Remaining"]))
    assert remaining == [2, 1, 0]
    r = await client.get("/merchants/settings", headers=t.merchant_headers)
    assert r.status_code == 429
    assert r.json() == {"message": "Too Many Attempts."}
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert r.headers["X-RateLimit-Remaining"] == "0"


async def test_per_second_limit_applies(client: httpx.AsyncClient, make_tenant: Any) -> None:
    t: Tenant = await make_tenant("Burst", per_second=2, per_minute=1000)
    codes = [
        (await client.get("/customers", headers=t.merchant_headers)).status_code for _ in range(5)
    ]
    assert codes.count(429) >= 2
    assert codes[:2] == [200, 200]


async def test_limits_are_per_merchant(client: httpx.AsyncClient, make_tenant: Any) -> None:
    a: Tenant = await make_tenant("A", per_minute=1)
    b: Tenant = await make_tenant("B", per_minute=1)
    assert (await client.get("/customers", headers=a.merchant_headers)).status_code == 200
    assert (await client.get("/customers", headers=a.merchant_headers)).status_code == 429
    assert (await client.get("/customers", headers=b.merchant_headers)).status_code == 200
