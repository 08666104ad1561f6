"""The sandbox's fixed accounts and token rule, shared by every emulator and the demo.

Emulators accept any access token that starts with `SANDBOX_TOKEN_PREFIX` unless a
switch marks it expired or revoked; the OAuth emulators issue such tokens.
"""

from __future__ import annotations

SANDBOX_TOKEN_PREFIX = "sandbox-"

# Facebook Login / Graph API
FACEBOOK_USER_ID = "10000000000000001"
FACEBOOK_PAGE_ID = "20000000000000001"
FACEBOOK_PAGE_NAME = "Acme Coffee Roasters"
INSTAGRAM_USER_ID = "17841400000000001"
INSTAGRAM_USERNAME = "acmecoffee"
INSTAGRAM_TIMEZONE = "America/Sao_Paulo"
AD_ACCOUNT_ID = "act_100000000000001"
AD_ACCOUNT_NAME = "Acme Coffee - Ads"
AD_ACCOUNT_TIMEZONE = "America/Sao_Paulo"
AD_ACCOUNT_CURRENCY = "BRL"

# Google Analytics 4
GA4_ACCOUNT_ID = "accounts/100000001"
GA4_PROPERTY_ID = "properties/300000001"
GA4_PROPERTY_NAME = "Acme Coffee - Web"
GA4_TIMEZONE = "America/Sao_Paulo"
GA4_CURRENCY = "BRL"

# Search Console properties of the sandbox Google user (sites.list): URL, permission level.
GOOGLE_SITES = (
    ("sc-domain:acmecoffee.example", "siteOwner"),
    ("https://www.acmecoffee.example/", "siteFullUser"),
    ("https://blog.acmecoffee.example/", "siteRestrictedUser"),
    ("https://old.acmecoffee.example/", "siteUnverifiedUser"),
)

# Google Business Profile (Account Management / Business Information APIs)
BUSINESS_PROFILE_ACCOUNT_ID = "accounts/108000000000000000001"
BUSINESS_PROFILE_ACCOUNT_NAME = "Acme Coffee Roasters"
BUSINESS_PROFILE_LOCATION_ID = "locations/4815162342000000001"
BUSINESS_PROFILE_LOCATION_TITLE = "Acme Coffee Roasters - Paulista"

DEMO_ACCESS_TOKEN = SANDBOX_TOKEN_PREFIX + "demo-access-token"
DEMO_REFRESH_TOKEN = SANDBOX_TOKEN_PREFIX + "demo-refresh-token"


def is_sandbox_token(token: str | None) -> bool:
    return bool(token) and str(token).startswith(SANDBOX_TOKEN_PREFIX)
