"""The Search Console sync: keep what the API forgets after 16 months.

Weekly, the last 30 settled days of the daily dataset go to the fact store, in the
variants the predefined widgets read (the property's totals, by country, by device), so
that those widgets still answer once the days are older than the API keeps. Tables by
query or page are period figures and are not archived (docs/networks/search_console.md).
The shared part: sync/settled_archive.py.
"""

from __future__ import annotations

from functools import partial
from zoneinfo import ZoneInfo

from metrics_connect.sync.settled_archive import Variants, archive_settled_days

WINDOW_DAYS = 30
# Days are archived once settled (the dataset's settle_after_days).
SETTLED_AFTER_DAYS = 4
PACIFIC = ZoneInfo("America/Los_Angeles")
DATASET = "performance"
VARIANTS: Variants = ((DATASET, ()), (DATASET, ("country",)), (DATASET, ("device",)))

# The scheduler's entry point (network.yaml `sync`).
sync_search_console = partial(
    archive_settled_days,
    variants=VARIANTS,
    timezone=PACIFIC.key,
    settled_after_days=SETTLED_AFTER_DAYS,
    window_days=WINDOW_DAYS,
)
