"""Many Instagram accounts behind one emulator: a token names its account.

A token `sandbox-ig-account-<n>` (n >= 1) reads generated account n: its own user id,
seed and creation day, all derived from n, so it is the same account in every process
and needs no storage. Accounts are built on first use and the most recently used
`cached_accounts` are kept (another is rebuilt identically when asked again). Every
other sandbox token reads the demo account, as before.

Each account has its own usage meter, as Meta meters an app's calls per user (200 an
hour each): one busy account is throttled, the others are not. The meters follow real
time unless `usage_clock` is given (a replay on a simulated clock gives the sandbox's).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable
from datetime import date, timedelta
from time import monotonic
from typing import Any
from urllib.parse import parse_qs

from starlette.datastructures import Headers

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
from metrics_connect.sandbox.kit.meta_graph import UsageMeter, bearer
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


def account_number(token: str | None) -> int | None:
    if not token or not token.startswith(FLEET_TOKEN_PREFIX):
        return None
    raw = token.removeprefix(FLEET_TOKEN_PREFIX)
    return int(raw) if raw.isdigit() and int(raw) >= 1 else None


def fleet_sandbox(base: InstagramSandbox, number: int) -> InstagramSandbox:
    """Generated account `number`, on `base`'s controls (clock, switches, counter)."""
    return InstagramSandbox(
        base.controls,
        seed=int(unit(DEFAULT_SEED, "fleet", number) * 2**31),
        user_id=fleet_user_id(number),
        username=f"fleet_account_{number}",
        created=FLEET_CREATED + timedelta(days=number % 61),
    )


class InstagramFleetApp:
    """ASGI app: the request's token picks the account's app (the demo's by default)."""

    def __init__(
        self,
        default: InstagramGraphApp,
        *,
        cached_accounts: int = 2048,
        hourly_calls: int = HOURLY_CALLS_PER_ACCOUNT,
        usage_clock: Callable[[], float] | None = None,
    ) -> None:
        self.default = default
        self.cached_accounts = cached_accounts
        self.hourly_calls = hourly_calls
        self.usage_clock = usage_clock
        self._apps: OrderedDict[int, InstagramGraphApp] = OrderedDict()
        self._meters: dict[int, UsageMeter] = {}

    def account_app(self, number: int) -> InstagramGraphApp:
        app = self._apps.get(number)
        if app is not None:
            self._apps.move_to_end(number)
            return app
        app = InstagramGraphApp(fleet_sandbox(self.default.sandbox, number))
        if number not in self._meters:
            self._meters[number] = UsageMeter(self.hourly_calls, self.usage_clock or monotonic)
        app.usage = self._meters[number]
        self._apps[number] = app
        if len(self._apps) > self.cached_accounts:
            self._apps.popitem(last=False)
        return app

    @property
    def accounts_served(self) -> int:
        return len(self._meters)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.default(scope, receive, send)
            return
        token = _query_token(scope) or bearer(Headers(scope=scope).get("authorization"))
        if token is None and scope.get("method") == "POST":
            body = await _read_body(receive)
            token = _body_token(scope, body)
            receive = _replay(body, receive)
        number = account_number(token)
        app = self.default if number is None else self.account_app(number)
        await app(scope, receive, send)


def _query_token(scope: Any) -> str | None:
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    values = query.get("access_token")
    return values[0] if values else None


def _body_token(scope: Any, body: bytes) -> str | None:
    if Headers(scope=scope).get("content-type", "").startswith("application/json"):
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            return None
        value = payload.get("access_token") if isinstance(payload, dict) else None
        return value if isinstance(value, str) else None
    values = parse_qs(body.decode("latin-1")).get("access_token")
    return values[0] if values else None


async def _read_body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _replay(body: bytes, receive: Any) -> Any:
    """The body read already, then the connection's own messages (a disconnect)."""
    sent = False

    async def replay() -> Any:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
