"""OAuth 1.0a (RFC 5849) on the server side: the Authorization header's parameters and
the HMAC-SHA1 signature check, for the sandbox's authorization server and for APIs whose
calls are signed (X)."""

from __future__ import annotations

import hmac
from urllib.parse import parse_qsl, unquote
from urllib.request import parse_http_list, parse_keqv_list

from authlib.oauth1.rfc5849.signature import construct_base_string, hmac_sha1_signature
from starlette.requests import Request


def oauth1_params(request: Request) -> dict[str, str] | None:
    """The `Authorization: OAuth ...` parameters; None when absent or malformed."""
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("oauth "):
        return None
    try:
        items = parse_keqv_list(parse_http_list(header[6:]))
    except (IndexError, ValueError):
        return None
    return {unquote(k): unquote(v) for k, v in items.items()}


def signature_holds(
    request: Request, body: bytes, auth: dict[str, str], consumer_secret: str, token_secret: str
) -> bool:
    """Whether `oauth_signature` is the HMAC-SHA1 of the request's base string (its
    OAuth, query and form parameters) with these secrets."""
    params = [(k, v) for k, v in auth.items() if k not in ("oauth_signature", "realm")]
    params += parse_qsl(request.url.query, keep_blank_values=True)
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        params += parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    base = construct_base_string(request.method, str(request.url), params)
    expected = hmac_sha1_signature(base, consumer_secret, token_secret)
    return hmac.compare_digest(expected, auth.get("oauth_signature", ""))
