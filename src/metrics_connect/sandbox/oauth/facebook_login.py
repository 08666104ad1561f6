"""Facebook Login and the Graph API account listing, emulated.

From Meta's documentation ("Manually Build a Login Flow", "Long-Lived Access
Tokens", the OIDC/PKCE guide, Page and ad account references):

- GET  /{version}/dialog/oauth: client_id, redirect_uri, state, scope (comma
  separated), response_type=code, code_challenge(_method). An unknown app or a
  redirect URI not registered shows an error page (no redirect).
- the user allows: redirect_uri?code=...&state=...#_=_; cancels:
  redirect_uri?error_reason=user_denied&error=access_denied&error_description=...
- GET|POST /{version}/oauth/access_token: client_id, client_secret, redirect_uri,
  code (+ code_verifier) -> {"access_token", "token_type": "bearer", "expires_in"};
  grant_type=fb_exchange_token with fb_exchange_token -> a long-lived token
  (about 60 days). Failures: HTTP 400 {"error": {"message", "type":
  "OAuthException", "code", "error_subcode", "fbtrace_id"}}.
- GET /{version}/me, /me/accounts (Pages, with instagram_business_account{...}),
  /me/adaccounts: token in `Authorization: Bearer|OAuth` or `access_token`;
  results as {"data": [...], "paging": {"cursors": {"before", "after"}}}.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from metrics_connect.networks.spec import ProviderSpec
from metrics_connect.sandbox import accounts as sandbox
from metrics_connect.sandbox.kit.controls import SandboxControls
from metrics_connect.sandbox.oauth.server import (
    AuthorizationRequest,
    AuthorizationServer,
    CodeRefused,
    RegisteredClient,
    bearer,
    pages,
    with_query,
)

CLIENT_ID = "100000000000042"
CLIENT_SECRET = "sandbox-meta-login-app-secret"
SHORT_LIVED = timedelta(hours=1)
LONG_LIVED = timedelta(seconds=5183944)  # the documentation's example, about 60 days

USER_NAME = "Sandbox Tester"


def graph_error(
    message: str, code: int, *, subcode: int | None = None, status: int = 400
) -> JSONResponse:
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": secrets.token_urlsafe(8),
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return JSONResponse({"error": error}, status_code=status)


CODE_ERRORS = {
    "unknown": ("Invalid verification code format.", 100, None),
    "used": ("This authorization code has been used.", 100, 36009),
    "expired": ("This authorization code has expired.", 100, 36007),
    "redirect_uri": (
        "Error validating verification code. Please make sure your redirect_uri is "
        "identical to the one you used in the OAuth dialog request",
        100,
        36008,
    ),
    "client": ("Error validating verification code.", 100, None),
    "pkce": ("Invalid code verifier.", 100, None),
}

TOKEN_ERRORS = {
    "missing": (
        "An active access token must be used to query information about the current user.",
        2500,
        None,
    ),
    "invalid": ("Invalid OAuth access token - Cannot parse access token", 190, None),
    "expired": ("Error validating access token: Session has expired.", 190, 463),
    "revoked": (
        "Error validating access token: The user has not authorized application.",
        190,
        458,
    ),
}


def parse_fields(spec: str) -> dict[str, dict[str, Any]]:
    """The Graph API's field expansion: "id,name,ig{id,username}" -> nested dict."""
    out: dict[str, dict[str, Any]] = {}
    depth = 0
    token = ""
    parts: list[str] = []
    for ch in spec:
        if ch == "," and depth == 0:
            parts.append(token)
            token = ""
            continue
        depth += ch == "{"
        depth -= ch == "}"
        token += ch
    parts.append(token)
    for part in (p.strip() for p in parts):
        if not part:
            continue
        name, brace, rest = part.partition("{")
        out[name.strip()] = parse_fields(rest.rstrip("}")) if brace else {}
    return out


def select_fields(
    obj: dict[str, Any], wanted: dict[str, dict[str, Any]], default: tuple[str, ...]
) -> dict[str, Any]:
    if not wanted:
        wanted = {name: {} for name in default}
    out: dict[str, Any] = {}
    for name, sub in wanted.items():
        if name not in obj:
            continue
        value = obj[name]
        if isinstance(value, dict):
            value = select_fields(value, sub, ("id",))
        out[name] = value
    out.setdefault("id", obj["id"])
    return out


def _cursor(index: int) -> str:
    return base64.urlsafe_b64encode(str(index).encode()).decode().rstrip("=")


def _cursor_index(cursor: str | None) -> int:
    if not cursor:
        return -1
    try:
        return int(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
    except ValueError:
        return -1


def paged(rows: list[dict[str, Any]], request: Request) -> dict[str, Any]:
    try:
        limit = max(1, min(int(request.query_params.get("limit", "25")), 100))
    except ValueError:
        limit = 25
    start = _cursor_index(request.query_params.get("after")) + 1
    window = rows[start : start + limit]
    body: dict[str, Any] = {"data": window}
    if window:
        body["paging"] = {
            "cursors": {"before": _cursor(start), "after": _cursor(start + len(window) - 1)}
        }
        if start + limit < len(rows):
            # The real `next` URL repeats the token; clients should page by cursor.
            body["paging"]["next"] = str(
                request.url.include_query_params(after=_cursor(start + len(window) - 1))
            )
    return body


def user_utc_offset(now: datetime) -> int | float:
    """The sandbox user's `timezone`: hours from UTC, now, where the Instagram account is."""
    offset = now.astimezone(ZoneInfo(sandbox.INSTAGRAM_TIMEZONE)).utcoffset() or timedelta(0)
    hours = offset.total_seconds() / 3600
    return int(hours) if hours.is_integer() else hours


def pages_of_user() -> list[dict[str, Any]]:
    return [
        {
            "id": sandbox.FACEBOOK_PAGE_ID,
            "name": sandbox.FACEBOOK_PAGE_NAME,
            "category": "Coffee Shop",
            "tasks": ["ANALYZE", "ADVERTISE", "MODERATE", "CREATE_CONTENT", "MANAGE"],
            "instagram_business_account": {
                "id": sandbox.INSTAGRAM_USER_ID,
                "username": sandbox.INSTAGRAM_USERNAME,
                "name": sandbox.FACEBOOK_PAGE_NAME,
            },
        }
    ]


def ad_accounts_of_user() -> list[dict[str, Any]]:
    return [
        {
            "id": sandbox.AD_ACCOUNT_ID,
            "account_id": sandbox.AD_ACCOUNT_ID.removeprefix("act_"),
            "name": sandbox.AD_ACCOUNT_NAME,
            "timezone_name": sandbox.AD_ACCOUNT_TIMEZONE,
            "currency": sandbox.AD_ACCOUNT_CURRENCY,
            "account_status": 1,
        }
    ]


class FacebookOAuthApp:
    def __init__(self, server: AuthorizationServer) -> None:
        self.server = server
        self.client = server.client
        self.app = Starlette(
            routes=[
                Route("/{version}/dialog/oauth", self.dialog, methods=["GET"]),
                Route("/{version}/dialog/oauth/confirm", self.confirm, methods=["POST"]),
                Route("/{version}/oauth/access_token", self.access_token, methods=["GET", "POST"]),
                Route("/{version}/me", self.me, methods=["GET"]),
                Route("/{version}/me/accounts", self.me_accounts, methods=["GET"]),
                Route("/{version}/me/adaccounts", self.me_adaccounts, methods=["GET"]),
            ]
        )

    def _error_page(self, title: str, text: str, status: int = 400) -> HTMLResponse:
        body = pages.get_template("error.html").render(provider="Facebook", title=title, text=text)
        return HTMLResponse(body, status_code=status)

    async def dialog(self, request: Request) -> Response:
        self.server.controls.calls.record("dialog/oauth")
        q = request.query_params
        client_id = q.get("client_id", "")
        redirect_uri = q.get("redirect_uri", "")
        if client_id != self.server.client.client_id:
            return self._error_page(
                "Invalid App ID", "The provided app ID does not look like a valid app ID."
            )
        if not redirect_uri or not self.server.client.allows(redirect_uri):
            return self._error_page(
                "URL blocked",
                "This redirect failed because the redirect URI is not whitelisted in the "
                "app's Client OAuth Settings.",
            )
        if q.get("response_type", "code") != "code":
            return self._error_page("Unsupported response type", "Only response_type=code.")
        scopes = tuple(
            s for s in q.get("scope", "public_profile").replace(" ", ",").split(",") if s
        )
        ticket = self.server.hold(
            AuthorizationRequest(
                client_id=client_id,
                redirect_uri=redirect_uri,
                state=q.get("state"),
                scopes=scopes,
                code_challenge=q.get("code_challenge"),
                code_challenge_method=q.get("code_challenge_method"),
                offline=False,
                created_at=self.server.now(),
            )
        )
        body = pages.get_template("consent.html").render(
            provider="Facebook",
            color="#1877f2",
            user_name=USER_NAME,
            client_id=client_id,
            scopes=scopes,
            ticket=ticket,
            action=f"/{request.path_params['version']}/dialog/oauth/confirm",
        )
        return HTMLResponse(body)

    async def confirm(self, request: Request) -> Response:
        form = await request.form()
        auth_request = self.server.release(str(form.get("ticket", "")))
        if auth_request is None:
            return self._error_page("Session expired", "Please start the login again.")
        if form.get("decision") != "allow":
            url = with_query(
                auth_request.redirect_uri,
                {
                    "error_reason": "user_denied",
                    "error": "access_denied",
                    "error_description": "Permissions error.",
                    "state": auth_request.state,
                },
            )
            return RedirectResponse(url, status_code=302)
        code = self.server.issue_code(auth_request, "AQ")
        url = with_query(auth_request.redirect_uri, {"code": code, "state": auth_request.state})
        return RedirectResponse(url + "#_=_", status_code=302)

    async def access_token(self, request: Request) -> Response:
        self.server.controls.calls.record("oauth/access_token")
        await self.server.controls.apply_latency()
        params: dict[str, str] = dict(request.query_params)
        if request.method == "POST":
            params.update({k: str(v) for k, v in (await request.form()).items()})
        client_id = params.get("client_id", "")
        if client_id != self.server.client.client_id:
            return graph_error("Error validating application. Invalid application ID.", 101)
        if params.get("grant_type") == "fb_exchange_token":
            if not self.server.client_secret_ok(client_id, params.get("client_secret")):
                return graph_error("Error validating client secret.", 1)
            problem = self.server.token_problem(params.get("fb_exchange_token"))
            if problem is not None:
                text, error_code, subcode = TOKEN_ERRORS.get(problem, TOKEN_ERRORS["invalid"])
                return graph_error(text, error_code, subcode=subcode)
            old = self.server.tokens.get(params["fb_exchange_token"])
            token, expires_in = self.server.issue_token(
                "fb-long", client_id, old.scopes if old else (), LONG_LIVED
            )
            return JSONResponse(
                {"access_token": token, "token_type": "bearer", "expires_in": expires_in}
            )
        code = params.get("code")
        if not code:
            return graph_error("Missing authorization code", 100)
        verifier = params.get("code_verifier")
        # A confidential client proves itself with its secret; PKCE may stand in for it.
        secret = params.get("client_secret")
        if (secret is not None or not verifier) and not self.server.client_secret_ok(
            client_id, secret
        ):
            return graph_error("Error validating client secret.", 1)
        try:
            auth_request = self.server.redeem_code(
                code, client_id, params.get("redirect_uri"), verifier
            )
        except CodeRefused as exc:
            message, error_code, subcode = CODE_ERRORS[exc.reason]
            return graph_error(message, error_code, subcode=subcode)
        token, expires_in = self.server.issue_token(
            "fb-short", client_id, auth_request.scopes, SHORT_LIVED
        )
        return JSONResponse(
            {"access_token": token, "token_type": "bearer", "expires_in": expires_in}
        )

    def _token(self, request: Request) -> str | None:
        return bearer(request.headers.get("authorization")) or request.query_params.get(
            "access_token"
        )

    async def _guard(self, request: Request, endpoint: str) -> Response | None:
        self.server.controls.calls.record(endpoint)
        await self.server.controls.apply_latency()
        if self.server.controls.should_fail():
            return graph_error("An unknown error has occurred.", 1, status=500)
        problem = self.server.token_problem(self._token(request))
        if problem is not None:
            message, code, subcode = TOKEN_ERRORS[problem]
            return graph_error(message, code, subcode=subcode)
        return None

    async def me(self, request: Request) -> Response:
        refused = await self._guard(request, "me")
        if refused is not None:
            return refused
        user = {
            "id": sandbox.FACEBOOK_USER_ID,
            "name": USER_NAME,
            "timezone": user_utc_offset(self.server.now()),
        }
        wanted = parse_fields(request.query_params.get("fields", ""))
        return JSONResponse(select_fields(user, wanted, ("id", "name")))

    async def me_accounts(self, request: Request) -> Response:
        refused = await self._guard(request, "me/accounts")
        if refused is not None:
            return refused
        wanted = parse_fields(request.query_params.get("fields", ""))
        rows = [
            select_fields(p, wanted, ("id", "name", "category", "tasks")) for p in pages_of_user()
        ]
        return JSONResponse(paged(rows, request))

    async def me_adaccounts(self, request: Request) -> Response:
        refused = await self._guard(request, "me/adaccounts")
        if refused is not None:
            return refused
        wanted = parse_fields(request.query_params.get("fields", ""))
        rows = [select_fields(a, wanted, ("id", "account_id")) for a in ad_accounts_of_user()]
        return JSONResponse(paged(rows, request))


def build_facebook_oauth(
    redirect_uris: tuple[str, ...] = (), controls: SandboxControls | None = None
) -> FacebookOAuthApp:
    server = AuthorizationServer(
        controls=controls or SandboxControls(),
        client=RegisteredClient(CLIENT_ID, CLIENT_SECRET, redirect_uris),
    )
    return FacebookOAuthApp(server)


def build(spec: ProviderSpec, redirect_uris: tuple[str, ...] = ()) -> FacebookOAuthApp:
    """The provider's `emulator` target (its providers.yaml entry)."""
    return build_facebook_oauth(redirect_uris=redirect_uris)
