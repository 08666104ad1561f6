"""A generic sandbox authorization server, configured from a provider's declaration.

OAuth 2.0 (RFC 6749, RFC 7636 PKCE, RFC 7009 revocation) at the paths of the declared
authorize and token URLs:

- GET  <authorize>: client_id (or the declared client_id_param), redirect_uri,
  response_type=code, scope, state, code_challenge(_method) -> a consent page. An
  unknown client or an unregistered redirect URI is shown an error page, never
  redirected (§4.1.2.1); other errors go back as ?error=...&error_description=...&state=...
- POST <authorize>/confirm: allow -> redirect_uri?code=...&state=...;
  deny -> ?error=access_denied&state=...
- POST <token>: grant_type authorization_code (code bound to the client, the redirect
  URI and the PKCE challenge, single use) or refresh_token (lifetime and rotation
  configurable); client authentication as the declaration's token_auth says.
  Errors are §5.2 bodies: {"error", "error_description"}, 400 (401 invalid_client).
  grant_type client_credentials (RFC 6749 §4.4) answers an access token alone.
- POST /revoke (RFC 7009): token[, token_type_hint] -> 200 whatever the token.

OAuth 1.0a (RFC 5849, as X documents it) when protocol is oauth1:

- POST <request_token>: signed with the consumer secret, oauth_callback ->
  oauth_token, oauth_token_secret, oauth_callback_confirmed=true (form encoded).
- GET  <authorize>?oauth_token=... -> a consent page; allow -> callback with
  oauth_token and oauth_verifier; deny -> callback?denied=<oauth_token>.
- POST <token> (access_token): signed with the consumer secret and the temporary
  token's secret, oauth_verifier -> oauth_token, oauth_token_secret, user_id,
  screen_name.
- Every request's HMAC-SHA1 signature is checked; a nonce is used once and the
  timestamp must be within five minutes.

GET /sandbox/whoami answers the user of a valid access token (Bearer or OAuth 1.0a
signed): it is what a throw-away network's account listing asks.

Hooks shape what differs between providers: `read_token_request` (the token request's
fields, from a JSON body, say), `token_answer` and `error_answer` (the answer's envelope).
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from metrics_connect.networks.spec import ProviderSpec
from metrics_connect.sandbox.kit.controls import SandboxControls
from metrics_connect.sandbox.kit.oauth1 import oauth1_params, signature_holds
from metrics_connect.sandbox.oauth.server import (
    AuthorizationRequest,
    AuthorizationServer,
    CodeRefused,
    RegisteredClient,
    bearer,
    pages,
    with_query,
)

SANDBOX_USER_ID = "900000000000001"
SANDBOX_USER_NAME = "Sandbox Tester"
TIMESTAMP_SKEW = 300  # seconds an OAuth 1.0a timestamp may differ from now

# (fields) -> Response: the token endpoint's success answer.
TokenAnswer = Callable[[dict[str, Any]], Response]
# (error, description, status) -> Response: its error answer.
ErrorAnswer = Callable[[str, str, int], Response]
# (request) -> the token request's fields (grant_type, code, client_id...) and, from an
# Authorization: Basic header, the client's id and secret.
TokenRequestReader = Callable[[Request], Awaitable[dict[str, str]]]


def sandbox_client(name: str) -> tuple[str, str]:
    """The client id and secret the generic server registers for provider `name`."""
    return f"sandbox-{name.replace('_', '-')}-client", f"sandbox-{name.replace('_', '-')}-secret"


def rfc6749_answer(fields: dict[str, Any]) -> Response:
    return JSONResponse(fields, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


def rfc6749_error(error: str, description: str, status: int) -> Response:
    headers = {"Cache-Control": "no-store"}
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="sandbox"'
    return JSONResponse(
        {"error": error, "error_description": description}, status_code=status, headers=headers
    )


async def form_token_request(request: Request) -> dict[str, str]:
    """RFC 6749's token request: a form body; client credentials there or in Basic."""
    fields = {k: str(v) for k, v in (await request.form()).items()}
    basic = request.headers.get("authorization", "")
    if basic.lower().startswith("basic "):
        try:
            user, _, secret = base64.b64decode(basic[6:].strip()).decode().partition(":")
        except ValueError:
            user, secret = "", ""
        fields["basic_client_id"], fields["basic_client_secret"] = unquote(user), unquote(secret)
    return fields


def path_of(url: str | None) -> str:
    return urlsplit(url or "").path or "/"


@dataclass
class OAuth1Temporary:
    secret: str
    client_id: str
    callback: str
    created_at: datetime
    verifier: str | None = None


@dataclass
class OAuth1Token:
    secret: str
    client_id: str


@dataclass
class RefreshGrant:
    client_id: str
    scopes: tuple[str, ...]
    expires_at: datetime | None


@dataclass
class GenericOAuthServer:
    """The provider's authorization server in the sandbox (see the module docstring)."""

    spec: ProviderSpec
    server: AuthorizationServer
    # None: access tokens never expire (TikTok's advertiser tokens).
    access_lifetime: timedelta | None = timedelta(hours=1)
    # None: refresh tokens never expire.
    refresh_lifetime: timedelta | None = timedelta(days=365)
    # A refresh answers a new refresh token and retires the old one.
    rotate_refresh: bool = True
    read_token_request: TokenRequestReader = form_token_request
    token_answer: TokenAnswer = rfc6749_answer
    error_answer: ErrorAnswer = rfc6749_error
    refresh_tokens: dict[str, RefreshGrant] = field(default_factory=dict)
    temporary: dict[str, OAuth1Temporary] = field(default_factory=dict)
    oauth1_tokens: dict[str, OAuth1Token] = field(default_factory=dict)
    seen_nonces: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        authorize = path_of(self.spec.authorize_url)
        token = path_of(self.spec.token_url)
        routes = [
            Route(authorize, self.authorize, methods=["GET"]),
            Route(authorize.rstrip("/") + "/confirm", self.confirm, methods=["POST"]),
            Route(token, self.token, methods=["POST"]),
            Route("/revoke", self.revoke, methods=["POST"]),
            Route("/sandbox/whoami", self.whoami, methods=["GET"]),
        ]
        if self.spec.protocol == "oauth1":
            routes.append(
                Route(path_of(self.spec.request_token_url), self.request_token, methods=["POST"])
            )
        self.app = Starlette(routes=routes)
        self.client = self.server.client

    @property
    def controls(self) -> SandboxControls:
        return self.server.controls

    def _error_page(self, title: str, text: str, status: int = 400) -> HTMLResponse:
        body = pages.get_template("error.html").render(
            provider=self.spec.label, title=title, text=text
        )
        return HTMLResponse(body, status_code=status)

    def _consent(self, client_id: str, scopes: tuple[str, ...], ticket: str) -> HTMLResponse:
        body = pages.get_template("consent.html").render(
            provider=self.spec.label,
            color="#3558d6",
            user_name=SANDBOX_USER_NAME,
            client_id=client_id,
            scopes=scopes,
            ticket=ticket,
            # An authorize path naming the app ({client_id}, Nuvemshop) names it here too.
            action=path_of(self.spec.authorize_url)
            .replace("{client_id}", quote(client_id, safe=""))
            .rstrip("/")
            + "/confirm",
        )
        return HTMLResponse(body)

    # OAuth 2.0 -----------------------------------------------------------------------

    async def authorize(self, request: Request) -> Response:
        self.controls.calls.record("authorize")
        if self.spec.protocol == "oauth1":
            return self._authorize_oauth1(request)
        q = request.query_params
        client_id = q.get(self.spec.client_id_param, "")
        redirect_uri = q.get("redirect_uri", "")
        if client_id != self.client.client_id:
            return self._error_page("invalid_client", "Unknown client_id.", 401)
        if not redirect_uri or not self.client.allows(redirect_uri):
            return self._error_page("invalid_request", "The redirect_uri is not registered.")
        state = q.get("state")
        if q.get("response_type") != "code":
            return self._back(redirect_uri, "unsupported_response_type", "Only code.", state)
        method = q.get("code_challenge_method")
        challenge = q.get("code_challenge")
        if challenge and method not in (None, "S256", "plain"):
            return self._back(redirect_uri, "invalid_request", "code_challenge_method.", state)
        if self.spec.pkce and not challenge:
            return self._back(redirect_uri, "invalid_request", "code_challenge required.", state)
        separator = self.spec.scope_separator or " "
        scopes = tuple(s for s in q.get("scope", "").split(separator) if s)
        ticket = self.server.hold(
            AuthorizationRequest(
                client_id=client_id,
                redirect_uri=redirect_uri,
                state=state,
                scopes=scopes,
                code_challenge=challenge,
                code_challenge_method=method,
                offline=True,
                created_at=self.server.now(),
            )
        )
        return self._consent(client_id, scopes, ticket)

    def _back(self, redirect_uri: str, error: str, description: str, state: str | None) -> Response:
        url = with_query(
            redirect_uri, {"error": error, "error_description": description, "state": state}
        )
        return RedirectResponse(url, status_code=302)

    async def confirm(self, request: Request) -> Response:
        form = await request.form()
        ticket = str(form.get("ticket", ""))
        allow = form.get("decision") == "allow"
        if self.spec.protocol == "oauth1":
            return self._confirm_oauth1(ticket, allow)
        auth_request = self.server.release(ticket)
        if auth_request is None:
            return self._error_page("Session expired", "Please start again.")
        if not allow:
            return self._back(
                auth_request.redirect_uri, "access_denied", "The user denied.", auth_request.state
            )
        code = self.server.issue_code(auth_request, "code-")
        url = with_query(auth_request.redirect_uri, {"code": code, "state": auth_request.state})
        return RedirectResponse(url, status_code=302)

    def _client_of(self, fields: dict[str, str]) -> tuple[str, str | None] | None:
        """The authenticated client's id, as the declared token_auth method allows."""
        if self.spec.token_auth == "client_secret_basic":
            client_id, secret = fields.get("basic_client_id"), fields.get("basic_client_secret")
        else:
            client_id, secret = fields.get("client_id"), fields.get("client_secret")
        if client_id is None or not self.server.client_secret_ok(client_id, secret):
            return None
        return client_id, secret

    async def token(self, request: Request) -> Response:
        self.controls.calls.record("token")
        await self.controls.apply_latency()
        if self.spec.protocol == "oauth1":
            return await self._access_token_oauth1(request)
        fields = await self.read_token_request(request)
        grant_type = fields.get("grant_type")
        if grant_type not in ("authorization_code", "refresh_token", "client_credentials"):
            return self.error_answer("unsupported_grant_type", f"grant_type {grant_type}", 400)
        client = self._client_of(fields)
        if client is None:
            return self.error_answer("invalid_client", "Client authentication failed.", 401)
        client_id = client[0]
        if grant_type == "client_credentials":  # RFC 6749 §4.4: no refresh token
            scopes = tuple(s for s in fields.get("scope", "").split(" ") if s)
            access, expires_in = self.server.issue_token(
                "access", client_id, scopes, self.access_lifetime
            )
            return self.token_answer(
                {"access_token": access, "token_type": "Bearer", "expires_in": expires_in}
            )
        if grant_type == "refresh_token":
            return self._refresh(client_id, fields.get("refresh_token", ""))
        code = fields.get("code")
        if not code:
            return self.error_answer("invalid_request", "Missing parameter: code", 400)
        try:
            auth_request = self.server.redeem_code(
                code, client_id, fields.get("redirect_uri"), fields.get("code_verifier")
            )
        except CodeRefused as exc:
            return self.error_answer("invalid_grant", f"The code is not valid ({exc.reason}).", 400)
        return self.token_answer(self._tokens(client_id, auth_request.scopes))

    def _tokens(self, client_id: str, scopes: tuple[str, ...]) -> dict[str, Any]:
        access, expires_in = self.server.issue_token(
            "access", client_id, scopes, self.access_lifetime
        )
        refresh, refresh_expires_in = self.server.issue_token(
            "refresh", client_id, scopes, self.refresh_lifetime
        )
        expires_at = self.server.tokens[refresh].expires_at
        self.refresh_tokens[refresh] = RefreshGrant(client_id, scopes, expires_at)
        body: dict[str, Any] = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": expires_in,
            "refresh_token": refresh,
            "scope": (self.spec.scope_separator or " ").join(scopes),
        }
        if refresh_expires_in is not None:
            body["refresh_token_expires_in"] = refresh_expires_in
        return body

    def _refresh(self, client_id: str, refresh_token: str) -> Response:
        grant = self.refresh_tokens.get(refresh_token)
        problem = self.server.token_problem(refresh_token)
        if grant is None or grant.client_id != client_id or problem is not None:
            return self.error_answer("invalid_grant", "The refresh token is not valid.", 400)
        if not self.rotate_refresh:
            access, expires_in = self.server.issue_token(
                "access", client_id, grant.scopes, self.access_lifetime
            )
            return self.token_answer(
                {"access_token": access, "token_type": "Bearer", "expires_in": expires_in}
            )
        del self.refresh_tokens[refresh_token]
        self.controls.switches.revoked_tokens.add(refresh_token)
        return self.token_answer(self._tokens(client_id, grant.scopes))

    async def revoke(self, request: Request) -> Response:
        """RFC 7009: the token (access or refresh) stops working; 200 even if unknown."""
        self.controls.calls.record("revoke")
        fields = await self.read_token_request(request)
        if self._client_of(fields) is None:
            return self.error_answer("invalid_client", "Client authentication failed.", 401)
        token = fields.get("token", "")
        if token:
            self.controls.switches.revoked_tokens.add(token)
            self.refresh_tokens.pop(token, None)
        return Response(status_code=200)

    async def whoami(self, request: Request) -> Response:
        self.controls.calls.record("whoami")
        if self.spec.protocol == "oauth1":
            refused = self.verify_oauth1(request, await request.body(), expect="token")
            if refused is not None:
                return refused
        elif self.server.token_problem(bearer(request.headers.get("authorization"))):
            return self.error_answer("invalid_token", "The access token is not valid.", 401)
        return JSONResponse({"id": SANDBOX_USER_ID, "name": SANDBOX_USER_NAME})

    # OAuth 1.0a ----------------------------------------------------------------------

    def verify_oauth1(self, request: Request, body: bytes, *, expect: str) -> Response | None:
        """None when the request is signed (HMAC-SHA1) by the registered consumer and,
        as `expect` says, no token ("none"), a temporary one ("temporary") or an access
        token ("token"); else the 401 answer."""
        auth = oauth1_params(request)
        if auth is None:
            return self._oauth1_refused("Missing or malformed OAuth Authorization header.")
        if auth.get("oauth_consumer_key") != self.client.client_id:
            return self._oauth1_refused("Unknown consumer key.")
        if auth.get("oauth_signature_method") != "HMAC-SHA1":
            return self._oauth1_refused("Only HMAC-SHA1 signatures.")
        try:
            stamp = int(auth.get("oauth_timestamp", ""))
        except ValueError:
            return self._oauth1_refused("Bad timestamp.")
        if abs(time.time() - stamp) > TIMESTAMP_SKEW:
            return self._oauth1_refused("Timestamp out of bounds.")
        nonce = f"{stamp}:{auth.get('oauth_nonce', '')}"
        if not auth.get("oauth_nonce") or nonce in self.seen_nonces:
            return self._oauth1_refused("Nonce already used.")
        token = auth.get("oauth_token")
        token_secret = ""
        if expect == "temporary":
            temporary = self.temporary.get(token or "")
            if temporary is None:
                return self._oauth1_refused("Unknown request token.")
            token_secret = temporary.secret
        elif expect == "token":
            issued = self.oauth1_tokens.get(token or "")
            if issued is None or self.server.token_problem(token) is not None:
                return self._oauth1_refused("Invalid or expired token.")
            token_secret = issued.secret
        if not signature_holds(request, body, auth, self.client.client_secret, token_secret):
            return self._oauth1_refused("Could not authenticate you.")
        self.seen_nonces.add(nonce)
        return None

    def _oauth1_refused(self, text: str) -> Response:
        # X answers 401 {"errors": [{"code": 32, "message": "Could not authenticate you."}]}.
        return JSONResponse({"errors": [{"code": 32, "message": text}]}, status_code=401)

    async def request_token(self, request: Request) -> Response:
        self.controls.calls.record("request_token")
        body = await request.body()
        refused = self.verify_oauth1(request, body, expect="none")
        if refused is not None:
            return refused
        auth = oauth1_params(request) or {}
        callback = auth.get("oauth_callback", "")
        if callback != "oob" and not self.client.allows(callback.split("?")[0]):
            return self._oauth1_refused("Callback URL not approved for this client application.")
        token, secret = "temp-" + secrets.token_urlsafe(16), secrets.token_urlsafe(24)
        self.temporary[token] = OAuth1Temporary(
            secret, self.client.client_id, callback, self.server.now()
        )
        return _form_answer(
            {"oauth_token": token, "oauth_token_secret": secret, "oauth_callback_confirmed": "true"}
        )

    def _authorize_oauth1(self, request: Request) -> Response:
        token = request.query_params.get("oauth_token", "")
        if token not in self.temporary:
            return self._error_page("Invalid request token", "Start the sign-in again.")
        return self._consent(self.client.client_id, (), token)

    def _confirm_oauth1(self, token: str, allow: bool) -> Response:
        temporary = self.temporary.get(token)
        if temporary is None:
            return self._error_page("Invalid request token", "Start the sign-in again.")
        if not allow:
            self.temporary.pop(token, None)
            return RedirectResponse(with_query(temporary.callback, {"denied": token}), 302)
        temporary.verifier = secrets.token_urlsafe(16)
        url = with_query(
            temporary.callback, {"oauth_token": token, "oauth_verifier": temporary.verifier}
        )
        return RedirectResponse(url, status_code=302)

    async def _access_token_oauth1(self, request: Request) -> Response:
        body = await request.body()
        refused = self.verify_oauth1(request, body, expect="temporary")
        if refused is not None:
            return refused
        auth = oauth1_params(request) or {}
        verifier = auth.get("oauth_verifier") or dict(
            parse_qsl(body.decode("utf-8", "replace"))
        ).get("oauth_verifier")
        temporary = self.temporary.get(auth.get("oauth_token", ""))
        if temporary is None or not temporary.verifier or verifier != temporary.verifier:
            return self._oauth1_refused("Invalid oauth_verifier.")
        del self.temporary[auth["oauth_token"]]  # single use
        token, _ = self.server.issue_token("oauth1", temporary.client_id, (), None)
        secret = secrets.token_urlsafe(24)
        self.oauth1_tokens[token] = OAuth1Token(secret, temporary.client_id)
        return _form_answer(
            {
                "oauth_token": token,
                "oauth_token_secret": secret,
                "user_id": SANDBOX_USER_ID,
                "screen_name": "sandbox_tester",
            }
        )


def _form_answer(fields: dict[str, str]) -> Response:
    return Response(urlencode(fields), media_type="application/x-www-form-urlencoded")


def build_generic_oauth(
    spec: ProviderSpec,
    redirect_uris: tuple[str, ...] = (),
    controls: SandboxControls | None = None,
    **options: Any,
) -> GenericOAuthServer:
    """The generic server for `spec`, its client registered as sandbox_client(name)."""
    client_id, client_secret = sandbox_client(spec.name)
    server = AuthorizationServer(
        controls=controls or SandboxControls(),
        client=RegisteredClient(client_id, client_secret, redirect_uris),
    )
    return GenericOAuthServer(spec=spec, server=server, **options)
