"""Retrying an upstream call within a time budget, shared by every connector."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_delay,
    stop_any,
    wait_random_exponential,
)
from tenacity.stop import stop_base

from metrics_connect.connectors.base import UpstreamRateLimited, UpstreamTransient

T = TypeVar("T")


def is_retryable(error: BaseException) -> bool:
    """Rate limits and transient failures are worth another try; nothing else is."""
    return isinstance(error, UpstreamRateLimited | UpstreamTransient)


class _StopPastDeadline(stop_base):
    """Give up now when the network's own wait estimate would overrun the budget."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline

    def __call__(self, retry_state: RetryCallState) -> bool:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        remaining = self.deadline - time.monotonic()
        if isinstance(error, UpstreamRateLimited) and error.retry_after:
            return error.retry_after > remaining
        return remaining <= 0


async def retry_within_budget(
    call: Callable[[], Awaitable[T]],
    budget_seconds: float,
    retryable: Callable[[BaseException], bool] = is_retryable,
) -> T:
    """Run `call`, retrying retryable failures with full jitter until the budget is spent;
    never sooner than the network's own `retry_after` estimate, never past the budget."""
    deadline = time.monotonic() + budget_seconds

    def wait(state: RetryCallState) -> float:
        delay = float(wait_random_exponential(multiplier=0.25, max=8.0)(state))
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, UpstreamRateLimited) and error.retry_after:
            delay = max(delay, error.retry_after)
        return max(0.0, min(delay, deadline - time.monotonic()))

    retrying = AsyncRetrying(
        retry=retry_if_exception(retryable),
        wait=wait,
        stop=stop_any(stop_after_delay(budget_seconds), _StopPastDeadline(deadline)),
        reraise=True,
    )
    async for attempt in retrying:
        with attempt:
            return await call()
    raise AssertionError("unreachable")  # pragma: no cover
