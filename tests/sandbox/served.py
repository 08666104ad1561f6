"""Ask each served emulator for its demo account, as the curls of docs/sandbox.md do."""

from __future__ import annotations

from functools import partial
from urllib.parse import quote

import httpx
from authlib.integrations.httpx_client import OAuth1Auth

from metrics_connect.networks.twitter_ads.emulator.auth import DEMO_TOKEN_SECRET
from metrics_connect.sandbox.kit.oauth_server import sandbox_client
from metrics_connect.sandbox.serve import ServedNetwork

# A cold emulator generates its data on the first call: on a loaded 2-core machine GA4's
# report can take longer than httpx's default 5 s.
TIMEOUT = httpx.Timeout(60.0)
_get = partial(httpx.get, timeout=TIMEOUT)
_post = partial(httpx.post, timeout=TIMEOUT)


def ask(network: ServedNetwork) -> httpx.Response:
    """The docs/sandbox.md curl of each network, as an httpx call."""
    token = network.access_token
    base, account = network.base_url, network.account_id
    if network.slug == "google_analytics_4":
        return _post(
            f"{base}/v1beta/{account}:runReport",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "dateRanges": [{"startDate": "7daysAgo", "endDate": "yesterday"}],
                "metrics": [{"name": "sessions"}],
            },
        )
    if network.slug == "woo_commerce":  # the site's index: public, no key pair
        return _get(f"{base}/wp-json/")
    if network.slug == "search_console":
        return _get(
            f"{base}/webmasters/v3/sites/{quote(account, safe='')}",
            headers={"Authorization": f"Bearer {token}"},
        )
    if network.slug == "youtube":
        return _get(
            f"{base}/youtube/v3/channels",
            headers={"Authorization": f"Bearer {token}"},
            params={"part": "snippet,statistics", "id": account},
        )
    if network.slug == "google_my_business":
        # accounts/{a}/locations/{l}: the Business Information API's locations.get
        location = account.split("/", 2)[2]
        return _get(
            f"{base}/v1/{location}",
            params={"readMask": "name,title"},
            headers={"Authorization": f"Bearer {token}"},
        )
    if network.slug == "google_ads":
        return _post(
            f"{base}/v26/customers/{account}/googleAds:searchStream",
            headers={"Authorization": f"Bearer {token}", "developer-token": "sandbox"},
            json={"query": "SELECT customer.id, customer.descriptive_name FROM customer"},
        )
    if network.slug == "tiktok":
        return _get(
            f"{base}/open_api/v1.3/business/get/",
            params={"business_id": account, "fields": '["username","followers_count"]'},
            headers={"Access-Token": token},
        )
    if network.slug == "mailchimp":  # the API root: the account
        return _get(f"{base}/3.0/", headers={"Authorization": f"Bearer {token}"})
    if network.slug in ("hubspot_crm", "hubspot_marketing"):
        return _get(f"{base}/account-info/v3/details", headers={"Authorization": f"Bearer {token}"})
    if network.slug == "pipedrive":  # the token's user
        return _get(f"{base}/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    if network.slug == "rd_station":  # the account's name
        return _get(f"{base}/marketing/account_info", headers={"Authorization": f"Bearer {token}"})
    if network.slug == "rd_crm":  # v1: the API token as a query parameter
        return _get(f"{base}/api/v1/users", params={"token": token})
    if network.slug == "phonetrack":  # the token's accounts, the raw token as Authorization
        return _get(f"{base}/api/v3/accounts/{account}", headers={"Authorization": token})
    if network.slug == "egoi":  # the key's account, Apikey header
        return _get(f"{base}/my-account", headers={"Apikey": token})
    if network.slug == "active_campaign":  # the key's user, Api-Token header
        return _get(f"{base}/api/3/users/me", headers={"Api-Token": token})
    if network.slug == "nuvem_shop":  # Nuvemshop's Authentication header (sic), a User-Agent
        return _get(
            f"{base}/2025-03/{account}/store",
            headers={"Authentication": f"bearer {token}", "User-Agent": "tests (t@example.com)"},
        )
    if network.slug == "hotmart":  # the newest sale names the producer
        return _get(
            f"{base}/payments/api/v1/sales/history",
            params={"max_results": "1"},
            headers={"Authorization": f"Bearer {token}"},
        )
    if network.slug in ("linkedin_ads", "linkedin"):
        # adAccounts/{id} or organizations/{id}, with LinkedIn's version header
        resource = "adAccounts" if network.slug == "linkedin_ads" else "organizations"
        return _get(
            f"{base}/rest/{resource}/{account}",
            headers={
                "Authorization": f"Bearer {token}",
                "LinkedIn-Version": "202607",
                "X-Restli-Protocol-Version": "2.0.0",
            },
        )
    if network.slug == "tiktok_ads":
        return _get(
            f"{base}/open_api/v1.3/advertiser/info/",
            params={"advertiser_ids": f'["{account}"]'},
            headers={"Access-Token": token},
        )
    if network.slug == "twitter_ads":
        # OAuth 1.0a user context: the sandbox app's consumer and the demo user's token.
        key, secret = sandbox_client("x_login")
        signer = OAuth1Auth(key, secret, token=token, token_secret=DEMO_TOKEN_SECRET)
        return _get(f"{base}/12/accounts/{account}", auth=signer)
    if network.slug in ("pinterest_ads", "pinterest"):
        # Pinterest API v5: the ad account, or the user account
        path = f"v5/ad_accounts/{account}" if network.slug == "pinterest_ads" else "v5/user_account"
        return _get(f"{base}/{path}", headers={"Authorization": f"Bearer {token}"})
    fields = "id,username" if network.slug == "instagram_business" else "id,name"
    return _get(f"{base}/v27.0/{account}", params={"fields": fields, "access_token": token})
