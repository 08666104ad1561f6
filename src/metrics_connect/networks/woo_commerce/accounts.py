"""The connect form's live check: the store the typed URL and key pair reach, from
`GET /wp-json/` (the site's name and time zone) and `GET /wp-json/wc/v3/system_status`
(the store's currency; a key that cannot read is refused there). The URL was vetted by
the SSRF guard and `http` reaches only addresses the guard admits."""

from __future__ import annotations

from typing import Any

import httpx

from metrics_connect.connect.discovery import Candidate
from metrics_connect.connect.oauth import ConnectFailed

REFUSED = {
    "woocommerce_rest_authentication_error": "The store refused this consumer key and secret.",
    "woocommerce_rest_cannot_view": "This key cannot read the store: give it Read permissions.",
}


async def _json(http: httpx.AsyncClient, url: str, auth: tuple[str, str] | None) -> Any:
    response = await http.get(url, auth=auth, headers={"Accept": "application/json"})
    if "json" not in response.headers.get("content-type", ""):
        raise ConnectFailed(
            f"{url} answered with {response.headers.get('content-type') or 'no content type'} "
            f"(HTTP {response.status_code}), not the WordPress REST API."
        )
    body = response.json()
    if response.status_code >= 400:
        code = body.get("code") if isinstance(body, dict) else None
        raise ConnectFailed(
            REFUSED.get(str(code), f"The store answered HTTP {response.status_code}.")
        )
    return body


def site_zone(site: dict[str, Any]) -> str | None:
    """The site's time zone: its `timezone_string`, else a whole-hour `gmt_offset` (a site
    set to "UTC-3" has no zone name: Etc/GMT+3, whose sign POSIX inverts)."""
    if site.get("timezone_string"):
        return str(site["timezone_string"])
    try:
        offset = float(site.get("gmt_offset") or 0)
    except (TypeError, ValueError):
        return None
    if offset != int(offset):
        return None  # half-hour offsets have no Etc zone: the account's default applies
    return f"Etc/GMT{-int(offset):+d}" if offset else "UTC"


async def check(http: httpx.AsyncClient, fields: dict[str, str]) -> list[Candidate]:
    store = fields["store_url"].rstrip("/")
    if not store.startswith("https://"):
        # Over plain HTTP WooCommerce accepts keys only as OAuth 1.0a signatures, and a
        # secret must not travel in clear.
        raise ConnectFailed("The store URL must start with https://.")
    site = await _json(http, f"{store}/wp-json/", None)
    if "wc/v3" not in (site.get("namespaces") or []):
        raise ConnectFailed("This site does not serve the WooCommerce REST API (wc/v3).")
    auth = (fields["consumer_key"], fields["consumer_secret"])
    status = await _json(http, f"{store}/wp-json/wc/v3/system_status", auth)
    currency = (status.get("settings") or {}).get("currency") or "?"
    return [
        Candidate(
            external_id=store,
            name=str(site.get("name") or store),
            detail=f"{store} ({currency})",
            timezone=site_zone(site),
        )
    ]
