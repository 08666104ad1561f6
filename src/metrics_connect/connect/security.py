"""Browser-facing protections of the connect page: headers, CSRF token, origin check."""

from __future__ import annotations

import hashlib
import hmac

from starlette.requests import Request

from metrics_connect.accounts.credentials import resolve_key
from metrics_connect.connect.providers import authorize_origins, origin
from metrics_connect.settings import Settings


def content_security_policy(settings: Settings, *, own_scripts: bool = False) -> str:
    """The connect page's policy; `own_scripts` also lets this origin's script files
    run (the playground's charts), never an inline one. Those pages post only to
    themselves."""
    # form-action also governs where a submitted form may be redirected: the
    # connect buttons POST here and are redirected to the provider's consent page.
    form_targets = "'self'" if own_scripts else " ".join(["'self'", *authorize_origins(settings)])
    return "; ".join(
        [
            "default-src 'none'",
            *(["script-src 'self'"] if own_scripts else []),
            "style-src 'self'",
            "img-src 'self'",
            f"form-action {form_targets}",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ]
    )


def security_headers(settings: Settings, *, own_scripts: bool = False) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(settings, own_scripts=own_scripts),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
    }


def _csrf_key(settings: Settings) -> bytes:
    return hashlib.sha256(
        b"metrics-connect/connect-csrf\0" + resolve_key(settings).encode()
    ).digest()


def csrf_token(settings: Settings, session_uuid: str) -> str:
    """Per-session form token: an HMAC of the session id under a server-side key."""
    return hmac.new(_csrf_key(settings), session_uuid.encode(), hashlib.sha256).hexdigest()


def csrf_valid(settings: Settings, session_uuid: str, submitted: str | None) -> bool:
    return bool(submitted) and hmac.compare_digest(
        csrf_token(settings, session_uuid), str(submitted)
    )


def same_origin(request: Request, settings: Settings) -> bool:
    """A form POST must come from our own page, as far as the browser tells.

    Fetch metadata first: Sec-Fetch-Site is sent whatever the referrer policy. The
    Origin header is the fallback; under `Referrer-Policy: no-referrer` browsers send
    `Origin: null` for our own forms, which proves nothing either way. The CSRF token
    is checked in every case.
    """
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site in {"same-origin", "none"}
    sent = request.headers.get("origin")
    if sent is None or sent == "null":
        return True
    return sent == origin(settings.public_base_url)
