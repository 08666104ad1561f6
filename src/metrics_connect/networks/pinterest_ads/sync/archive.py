"""The Pinterest Ads sync: keep what the API forgets after 914 days.

Weekly, the last 30 settled UTC days of the account's delivery go to the fact store in
the variants the predefined widgets read (the account's totals; by campaign), so that
those widgets still answer once the days are older than Pinterest's reports reach. Ad
group, ad and keyword tables and reach (a period figure) are not archived
(docs/networks/pinterest_ads.md). The shared part: sync/settled_archive.py.
"""

from __future__ import annotations

from functools import partial

from metrics_connect.sync.settled_archive import Variants, archive_settled_days

SETTLED_AFTER_DAYS = 3  # the datasets' settle_after_days
VARIANTS: Variants = (
    ("account_daily", ()),
    ("entity_daily", ("campaign_name",)),  # rows keyed by campaign_id too (key_field)
)

# The scheduler's entry point (network.yaml `sync`).
sync_pinterest_ads = partial(
    archive_settled_days,
    variants=VARIANTS,
    timezone="UTC",
    settled_after_days=SETTLED_AFTER_DAYS,
)
