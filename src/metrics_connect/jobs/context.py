"""What the job steps need in one process: runtime, queue, guard, webhook client, identity."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from typing import Literal, Protocol

from cachetools import LRUCache

from metrics_connect.jobs.batched_writes import BatchedWrites
from metrics_connect.jobs.compute import SharedComputes
from metrics_connect.jobs.delivery import webhook_client
from metrics_connect.jobs.schedule import parse_schedule
from metrics_connect.jobs.ssrf import WebhookGuard
from metrics_connect.jobs.webhook_client import WebhookClient
from metrics_connect.runtime import Runtime

Step = Literal["compute", "deliver"]


class JobQueue(Protocol):
    """Where job steps are sent: Dramatiq (a broker) or this process (embedded)."""

    async def dispatch(self, step: Step, job_uuid: str, delay_seconds: float = 0.0) -> None: ...

    async def close(self) -> None: ...


def worker_identity() -> str:
    """Unique per process and start: the lease owner name seen in the job rows."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{os.urandom(4).hex()}"


@dataclass
class JobsContext:
    runtime: Runtime
    queue: JobQueue
    guard: WebhookGuard
    client: WebhookClient
    owner: str = field(default_factory=worker_identity)
    # Decrypted merchants' signing secrets by their encrypted form: a rotation stores a
    # new encrypted value, so an entry never outlives the secret it stands for.
    _signing_keys: LRUCache[bytes, str] = field(
        default_factory=lambda: LRUCache(maxsize=1024), repr=False
    )
    # Computations shared by the jobs asking the same at once.
    computes: SharedComputes = field(default_factory=SharedComputes, repr=False)
    # The steps' claims and state writes, shared by the steps running at once.
    writes: BatchedWrites = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.writes = BatchedWrites(self.runtime.db, self.owner, self.lease_seconds)

    def signing_key(self, encrypted: bytes) -> str:
        """The merchant's webhook secret, decrypted once per process (Fernet's check
        and decryption cost more than the HMAC of a small body)."""
        key = self._signing_keys.get(encrypted)
        if key is None:
            key = self._signing_keys[encrypted] = self.runtime.vault.decrypt_text(encrypted)
        return key

    @property
    def lease_seconds(self) -> float:
        return self.runtime.settings.job_lease_seconds

    @property
    def retry_schedule(self) -> list[float]:
        return parse_schedule(self.runtime.settings.webhook_retry_schedule)

    @classmethod
    def build(
        cls, runtime: Runtime, queue: JobQueue, guard: WebhookGuard | None = None
    ) -> JobsContext:
        settings = runtime.settings
        guard = guard or WebhookGuard(settings.webhook_allowlist)
        return cls(
            runtime=runtime,
            queue=queue,
            guard=guard,
            client=webhook_client(guard, settings.webhook_timeout_seconds),
        )

    async def close(self) -> None:
        await self.client.aclose()
