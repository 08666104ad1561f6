"""One webhook delivery attempt: POST the signed body, time it, classify the answer."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime

import h11

from metrics_connect import clock
from metrics_connect.jobs.ssrf import WebhookGuard, WebhookURLRefused
from metrics_connect.jobs.webhook_client import ConnectionClosedEarly, WebhookClient

# We only need the status line; a receiver's body is read up to this much so the
# connection can be reused, and the rest is dropped.
MAX_RESPONSE_BYTES = 64 * 1024


@dataclass(frozen=True)
class DeliveryOutcome:
    attempted_at: datetime
    http_status: int | None
    error: str | None
    latency_ms: float

    @property
    def delivered(self) -> bool:
        return self.http_status is not None and 200 <= self.http_status < 300


def webhook_client(guard: WebhookGuard, timeout_seconds: float) -> WebhookClient:
    """The client of every delivery: pinned to vetted addresses, never following redirects."""
    return WebhookClient(guard, connect_timeout_seconds=timeout_seconds)


async def deliver(
    client: WebhookClient,
    url: str,
    body: bytes,
    headers: dict[str, str],
    timeout_seconds: float,
) -> DeliveryOutcome:
    """POST `body` as is; a 2xx within `timeout_seconds` (whole exchange) is success.

    The exchange runs as its own task and is abandoned at the deadline even if it
    does not honour cancellation promptly, so one stuck connection can never hold
    a job (and its lease) beyond the timeout.
    """
    attempted_at = clock.now()
    started = time.perf_counter()
    seen: list[int] = []  # the status, as soon as the status line arrived
    status: int | None = None
    error: str | None = None
    exchange = asyncio.ensure_future(
        client.post(url, body, headers, seen.append, MAX_RESPONSE_BYTES)
    )
    done, _ = await asyncio.wait({exchange}, timeout=timeout_seconds)
    if not done:
        exchange.cancel()
        exchange.add_done_callback(_consume)
        status = seen[0] if seen else None
        if status is None:
            error = f"timed out after {timeout_seconds:g} s"
    else:
        try:
            status = exchange.result()
        except WebhookURLRefused as exc:
            error = f"refused: {exc.reason}"
        except TimeoutError:  # connecting took the whole timeout
            error = f"timed out after {timeout_seconds:g} s"
        except (OSError, h11.ProtocolError, ConnectionClosedEarly) as exc:
            status = seen[0] if seen else None
            if status is None:
                error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if error is None and status is not None:
        if 300 <= status < 400:
            error = "redirect not followed"
        elif not 200 <= status < 300:
            error = f"HTTP {status}"
    latency_ms = round((time.perf_counter() - started) * 1000, 2)
    return DeliveryOutcome(attempted_at, status, error, latency_ms)


def _consume(task: asyncio.Future[int]) -> None:
    """An abandoned exchange's outcome is not needed; retrieve it so none is logged."""
    if not task.cancelled():
        task.exception()
