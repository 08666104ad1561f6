"""Many Instagram accounts behind one emulator (the sandbox kit's `TokenFleet`): a token
`sandbox-ig-account-<n>` reads generated account n, with its own user id, seed and
creation day, all derived from n; every other sandbox token reads the demo account.

Each account has its own usage meter, as Meta meters an app's calls per user (200 an
hour each): one busy account is throttled, the others are not. The meters follow real
time unless `usage_clock` is given (a replay on a simulated clock gives the sandbox's).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from time import monotonic

from metrics_connect.networks.instagram_business.emulator.app import InstagramGraphApp
from metrics_connect.networks.instagram_business.emulator.model import (
    DEFAULT_SEED,
    InstagramSandbox,
)
from metrics_connect.sandbox.accounts import (
    INSTAGRAM_TIMEZONE,
    INSTAGRAM_USER_ID,
    SANDBOX_TOKEN_PREFIX,
)
from metrics_connect.sandbox.kit.fleet import TokenFleet
from metrics_connect.sandbox.kit.meta_graph import UsageMeter
from metrics_connect.sandbox.kit.seeded import unit
from metrics_connect.sandbox.registry import DemoAccount

FLEET_TOKEN_PREFIX = SANDBOX_TOKEN_PREFIX + "ig-account-"
# Generated accounts were created within the 61 days from here (a short history keeps
# building one cheap: its follower counts are summed day by day from its creation).
FLEET_CREATED = date(2026, 9, 1)
HOURLY_CALLS_PER_ACCOUNT = 200


def fleet_token(number: int) -> str:
    return f"{FLEET_TOKEN_PREFIX}{number}"


def fleet_user_id(number: int) -> str:
    return str(int(INSTAGRAM_USER_ID) + number)


def fleet_account(number: int) -> DemoAccount:
    """What an integration of generated account `number` connects to."""
    return DemoAccount(
        source_name=f"fleet_account_{number}",
        external_id=fleet_user_id(number),
        credentials={"access_token": fleet_token(number)},
        timezone=INSTAGRAM_TIMEZONE,
    )


def fleet_sandbox(base: InstagramSandbox, number: int) -> InstagramSandbox:
    """Generated account `number`, on `base`'s controls (clock, switches, counter)."""
    return InstagramSandbox(
        base.controls,
        seed=int(unit(DEFAULT_SEED, "fleet", number) * 2**31),
        user_id=fleet_user_id(number),
        username=f"fleet_account_{number}",
        created=FLEET_CREATED + timedelta(days=number % 61),
    )


class InstagramFleetApp(TokenFleet[InstagramGraphApp]):
    """The demo account's app by default, a generated account's for its token."""

    def __init__(
        self,
        default: InstagramGraphApp,
        *,
        cached_accounts: int = 2048,
        hourly_calls: int = HOURLY_CALLS_PER_ACCOUNT,
        usage_clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(
            default, FLEET_TOKEN_PREFIX, self._account, cached_accounts=cached_accounts
        )
        self.hourly_calls = hourly_calls
        self.usage_clock = usage_clock
        # Kept for accounts whose app left the cache: a rebuilt app keeps its meter.
        self._meters: dict[int, UsageMeter] = {}

    def _account(self, number: int) -> InstagramGraphApp:
        app = InstagramGraphApp(fleet_sandbox(self.default.sandbox, number))
        if number not in self._meters:
            self._meters[number] = UsageMeter(self.hourly_calls, self.usage_clock or monotonic)
        app.usage = self._meters[number]
        return app

    @property
    def accounts_served(self) -> int:
        return len(self._meters)
