"""Many generated accounts behind one emulator: a request's token names its account.

A token `<prefix><n>` (n >= 1) reads generated account n, whose app `build(n)` makes
from n alone (so it is the same account in every process and needs no storage). Apps
are built on first use and the most recently used `cached_accounts` are kept (another
is rebuilt identically when asked again). Every other token reads the default app.

The token is read where the network's clients send it: the `access_token` query
parameter, an `Authorization: Bearer|OAuth` header, or (a POST) the `access_token` of a
form or JSON body, which is then replayed to the chosen app unchanged.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qs

from starlette.datastructures import Headers

from metrics_connect.sandbox.kit.meta_graph import bearer

App = TypeVar("App", bound=Callable[..., Any])


class TokenFleet(Generic[App]):
    """ASGI app: the request's token picks the account's app (`default` otherwise)."""

    def __init__(
        self,
        default: App,
        token_prefix: str,
        build: Callable[[int], App],
        *,
        cached_accounts: int = 2048,
    ) -> None:
        self.default = default
        self.token_prefix = token_prefix
        self.build = build
        self.cached_accounts = cached_accounts
        self._apps: OrderedDict[int, App] = OrderedDict()

    def account_number(self, token: str | None) -> int | None:
        """The generated account a token names (None: not a fleet token)."""
        if not token or not token.startswith(self.token_prefix):
            return None
        raw = token.removeprefix(self.token_prefix)
        return int(raw) if raw.isdigit() and int(raw) >= 1 else None

    def account_app(self, number: int) -> App:
        app = self._apps.get(number)
        if app is not None:
            self._apps.move_to_end(number)
            return app
        app = self.build(number)
        self._apps[number] = app
        if len(self._apps) > self.cached_accounts:
            self._apps.popitem(last=False)
        return app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.default(scope, receive, send)
            return
        token = _query_token(scope) or bearer(Headers(scope=scope).get("authorization"))
        if token is None and scope.get("method") == "POST":
            body = await _read_body(receive)
            token = _body_token(scope, body)
            receive = _replay(body, receive)
        number = self.account_number(token)
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
