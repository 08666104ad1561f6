"""Google's OAuth 2.0 web-server flow and the Analytics Admin API listing, emulated.

From Google's documentation ("Using OAuth 2.0 for Web Server Applications",
the token endpoint, Analytics Admin API accountSummaries.list and properties.get):

- GET /o/oauth2/v2/auth: client_id, redirect_uri, response_type=code, scope (space
  separated, required), state, access_type=offline, prompt, include_granted_scopes,
  code_challenge(_method). A bad client or redirect URI shows an error page
  (invalid_client, redirect_uri_mismatch), no redirect.
- allowed: redirect_uri?state=...&code=...&scope=...; denied: ?error=access_denied&state=...
- POST /token (form): grant_type=authorization_code with code, client_id,
  client_secret (body or HTTP Basic), redirect_uri, code_verifier ->
  {"access_token", "expires_in": 3599, "scope", "token_type": "Bearer",
  "refresh_token" (only with access_type=offline)}; grant_type=refresh_token ->
  a new access token. Failures: {"error": "invalid_grant" | "invalid_client" |
  "invalid_request" | "unsupported_grant_type", "error_description"}.
- GET /v1beta/accountSummaries (pageSize, pageToken) and GET /v1beta/properties/{id},
  with `Authorization: Bearer`; failures as {"error": {"code", "message", "status"}}.
- GET /webmasters/v3/sites (the Search Console properties of the user: siteEntry with
  siteUrl and permissionLevel), so that the connect page can list them.
"""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any
from urllib.parse import unquote

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

CLIENT_ID = "100000000042-sandbox.apps.googleusercontent.com"
CLIENT_SECRET = "sandbox-google-client-secret"
ACCESS_LIFETIME = timedelta(seconds=3599)
USER_NAME = "sandbox.tester@example.com"

GA4_ACCOUNT_NAME = "Acme Coffee"


def oauth_error(error: str, description: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def api_error(code: int, message: str, status: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message, "status": status}}, status_code=code
    )


CODE_ERRORS = {
    "unknown": "Malformed auth code.",
    "used": "Bad Request",
    "expired": "Bad Request",
    "redirect_uri": "Bad Request",
    "client": "Bad Request",
    "pkce": "Invalid code verifier.",
}


def property_resource() -> dict[str, Any]:
    return {
        "name": sandbox.GA4_PROPERTY_ID,
        "propertyType": "PROPERTY_TYPE_ORDINARY",
        "createTime": "2023-03-01T12:00:00.000Z",
        "updateTime": "2024-06-01T12:00:00.000Z",
        "parent": sandbox.GA4_ACCOUNT_ID,
        "displayName": sandbox.GA4_PROPERTY_NAME,
        "industryCategory": "FOOD_AND_DRINK",
        "timeZone": sandbox.GA4_TIMEZONE,
        "currencyCode": sandbox.GA4_CURRENCY,
        "serviceLevel": "GOOGLE_ANALYTICS_STANDARD",
        "account": sandbox.GA4_ACCOUNT_ID,
    }


def account_summaries() -> list[dict[str, Any]]:
    account_number = sandbox.GA4_ACCOUNT_ID.removeprefix("accounts/")
    return [
        {
            "name": f"accountSummaries/{account_number}",
            "account": sandbox.GA4_ACCOUNT_ID,
            "displayName": GA4_ACCOUNT_NAME,
            "propertySummaries": [
                {
                    "property": sandbox.GA4_PROPERTY_ID,
                    "displayName": sandbox.GA4_PROPERTY_NAME,
                    "propertyType": "PROPERTY_TYPE_ORDINARY",
                    "parent": sandbox.GA4_ACCOUNT_ID,
                }
            ],
        }
    ]


class GoogleOAuthApp:
    def __init__(self, server: AuthorizationServer) -> None:
        self.server = server
        self.client = server.client
        self.app = Starlette(
            routes=[
                Route("/o/oauth2/v2/auth", self.authorize, methods=["GET"]),
                Route("/o/oauth2/v2/auth/confirm", self.confirm, methods=["POST"]),
                Route("/token", self.token, methods=["POST"]),
                Route("/{api_version}/accountSummaries", self.account_summaries, methods=["GET"]),
                Route("/{api_version}/properties/{property_id}", self.property, methods=["GET"]),
                Route("/webmasters/v3/sites", self.sites, methods=["GET"]),
                # Business Profile's location picker (Account Management, Business Information).
                Route("/v1/accounts", self.business_accounts, methods=["GET"]),
                Route(
                    "/v1/accounts/{account_id}/locations",
                    self.business_locations,
                    methods=["GET"],
                ),
            ]
        )

    def _error_page(self, title: str, text: str, status: int = 400) -> HTMLResponse:
        body = pages.get_template("error.html").render(provider="Google", title=title, text=text)
        return HTMLResponse(body, status_code=status)

    async def authorize(self, request: Request) -> Response:
        self.server.controls.calls.record("o/oauth2/v2/auth")
        q = request.query_params
        client_id = q.get("client_id", "")
        redirect_uri = q.get("redirect_uri", "")
        if client_id != self.server.client.client_id:
            return self._error_page(
                "Error 401: invalid_client", "The OAuth client was not found.", 401
            )
        if not redirect_uri or not self.server.client.allows(redirect_uri):
            return self._error_page(
                "Error 400: redirect_uri_mismatch",
                "The redirect URI in the request does not match the ones authorized for the "
                "OAuth client.",
            )
        scopes = tuple(s for s in q.get("scope", "").split(" ") if s)
        if not scopes:
            return self._error_page(
                "Error 400: invalid_request", "Missing required parameter: scope"
            )
        if q.get("response_type") != "code":
            return self._error_page(
                "Error 400: invalid_request", "Invalid response_type: only code is supported here."
            )
        method = q.get("code_challenge_method")
        if q.get("code_challenge") and method not in (None, "S256", "plain"):
            return self._error_page("Error 400: invalid_request", "Invalid code_challenge_method.")
        ticket = self.server.hold(
            AuthorizationRequest(
                client_id=client_id,
                redirect_uri=redirect_uri,
                state=q.get("state"),
                scopes=scopes,
                code_challenge=q.get("code_challenge"),
                code_challenge_method=method,
                offline=q.get("access_type") == "offline",
                created_at=self.server.now(),
            )
        )
        body = pages.get_template("consent.html").render(
            provider="Google",
            color="#1a73e8",
            user_name=USER_NAME,
            client_id=client_id,
            scopes=scopes,
            ticket=ticket,
            action="/o/oauth2/v2/auth/confirm",
        )
        return HTMLResponse(body)

    async def confirm(self, request: Request) -> Response:
        form = await request.form()
        auth_request = self.server.release(str(form.get("ticket", "")))
        if auth_request is None:
            return self._error_page("Session expired", "Please start again.")
        if form.get("decision") != "allow":
            url = with_query(
                auth_request.redirect_uri, {"error": "access_denied", "state": auth_request.state}
            )
            return RedirectResponse(url, status_code=302)
        code = self.server.issue_code(auth_request, "4/0A")
        url = with_query(
            auth_request.redirect_uri,
            {"state": auth_request.state, "code": code, "scope": " ".join(auth_request.scopes)},
        )
        return RedirectResponse(url, status_code=302)

    def _client_credentials(self, request: Request, form: dict[str, str]) -> tuple[str, str | None]:
        basic = request.headers.get("authorization", "")
        if basic.lower().startswith("basic "):
            try:
                raw = base64.b64decode(basic[6:].strip()).decode()
            except ValueError:
                return "", None
            user, _, secret = raw.partition(":")
            return unquote(user), unquote(secret)
        return form.get("client_id", ""), form.get("client_secret")

    async def token(self, request: Request) -> Response:
        self.server.controls.calls.record("token")
        await self.server.controls.apply_latency()
        form = {k: str(v) for k, v in (await request.form()).items()}
        client_id, secret = self._client_credentials(request, form)
        grant_type = form.get("grant_type")
        if grant_type not in ("authorization_code", "refresh_token"):
            return oauth_error("unsupported_grant_type", "Invalid grant_type: " + str(grant_type))
        if not self.server.client_secret_ok(client_id, secret):
            return oauth_error("invalid_client", "Unauthorized", 401)
        if grant_type == "refresh_token":
            refresh = form.get("refresh_token")
            if self.server.token_problem(refresh) is not None:
                return oauth_error("invalid_grant", "Token has been expired or revoked.")
            issued = self.server.tokens.get(refresh or "")
            scopes = issued.scopes if issued else ()
            token, expires_in = self.server.issue_token(
                "ga-access", client_id, scopes, ACCESS_LIFETIME
            )
            return JSONResponse(
                {
                    "access_token": token,
                    "expires_in": expires_in,
                    "scope": " ".join(scopes),
                    "token_type": "Bearer",
                }
            )
        code = form.get("code")
        if not code:
            return oauth_error("invalid_request", "Missing required parameter: code")
        try:
            auth_request = self.server.redeem_code(
                code, client_id, form.get("redirect_uri"), form.get("code_verifier")
            )
        except CodeRefused as exc:
            return oauth_error("invalid_grant", CODE_ERRORS[exc.reason])
        token, expires_in = self.server.issue_token(
            "ga-access", client_id, auth_request.scopes, ACCESS_LIFETIME
        )
        body: dict[str, Any] = {
            "access_token": token,
            "expires_in": expires_in,
            "scope": " ".join(auth_request.scopes),
            "token_type": "Bearer",
        }
        if auth_request.offline:
            body["refresh_token"], _ = self.server.issue_token(
                "ga-refresh", client_id, auth_request.scopes, None
            )
        return JSONResponse(body)

    async def _guard(self, request: Request, endpoint: str) -> Response | None:
        self.server.controls.calls.record(endpoint)
        await self.server.controls.apply_latency()
        if self.server.controls.should_fail():
            return api_error(503, "The service is currently unavailable.", "UNAVAILABLE")
        problem = self.server.token_problem(bearer(request.headers.get("authorization")))
        if problem is not None:
            return api_error(
                401,
                "Request had invalid authentication credentials. Expected OAuth 2 access "
                "token, login cookie or other valid authentication credential.",
                "UNAUTHENTICATED",
            )
        return None

    async def account_summaries(self, request: Request) -> Response:
        refused = await self._guard(request, "accountSummaries")
        if refused is not None:
            return refused
        return JSONResponse({"accountSummaries": account_summaries()})

    async def sites(self, request: Request) -> Response:
        refused = await self._guard(request, "sites.list")
        if refused is not None:
            return refused
        entries = [{"siteUrl": url, "permissionLevel": p} for url, p in sandbox.GOOGLE_SITES]
        return JSONResponse({"siteEntry": entries})

    async def business_accounts(self, request: Request) -> Response:
        refused = await self._guard(request, "accounts.list")
        if refused is not None:
            return refused
        account = {
            "name": sandbox.BUSINESS_PROFILE_ACCOUNT_ID,
            "accountName": sandbox.BUSINESS_PROFILE_ACCOUNT_NAME,
            "type": "LOCATION_GROUP",
            "role": "PRIMARY_OWNER",
        }
        return JSONResponse({"accounts": [account]})

    async def business_locations(self, request: Request) -> Response:
        refused = await self._guard(request, "accounts.locations.list")
        if refused is not None:
            return refused
        if f"accounts/{request.path_params['account_id']}" != sandbox.BUSINESS_PROFILE_ACCOUNT_ID:
            return api_error(403, "The caller does not have permission", "PERMISSION_DENIED")
        if not request.query_params.get("readMask"):
            return api_error(400, "Request contains an invalid argument.", "INVALID_ARGUMENT")
        location = {
            "name": sandbox.BUSINESS_PROFILE_LOCATION_ID,
            "title": sandbox.BUSINESS_PROFILE_LOCATION_TITLE,
        }
        return JSONResponse({"locations": [location]})

    async def property(self, request: Request) -> Response:
        refused = await self._guard(request, "properties.get")
        if refused is not None:
            return refused
        name = f"properties/{request.path_params['property_id']}"
        if name != sandbox.GA4_PROPERTY_ID:
            return api_error(
                403,
                "User does not have sufficient permissions for this property.",
                "PERMISSION_DENIED",
            )
        return JSONResponse(property_resource())


def build_google_oauth(
    redirect_uris: tuple[str, ...] = (), controls: SandboxControls | None = None
) -> GoogleOAuthApp:
    server = AuthorizationServer(
        controls=controls or SandboxControls(),
        client=RegisteredClient(CLIENT_ID, CLIENT_SECRET, redirect_uris),
    )
    return GoogleOAuthApp(server)


def build(spec: ProviderSpec, redirect_uris: tuple[str, ...] = ()) -> GoogleOAuthApp:
    """The provider's `emulator` target (its providers.yaml entry)."""
    return build_google_oauth(redirect_uris=redirect_uris)
