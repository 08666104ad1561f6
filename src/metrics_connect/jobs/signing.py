"""Standard Webhooks signatures (standardwebhooks.org), with the merchant's secret."""

from __future__ import annotations

from datetime import datetime

from standardwebhooks import Webhook


def signed_headers(
    secret: str, webhook_id: str, timestamp: datetime, body: bytes
) -> dict[str, str]:
    """The three headers of a Standard Webhooks message; `body` is the exact bytes sent.

    The signature is v1,base64(HMAC-SHA256(secret, "{id}.{timestamp}.{body}")), and a
    retry reuses the id but signs afresh with its own timestamp.
    """
    signature = Webhook(secret).sign(webhook_id, timestamp, body.decode("utf-8"))
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signature,
    }
