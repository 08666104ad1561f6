"""New jobs, and the steps' claims and state writes, coalesced across one process.

Every request still stores its own job, every step still claims its own job and
writes its own state changes, each guarded by its lease as in `store`; what this
adds is that those running at once share the statements and transactions
(jobs/coalesce.py): under load one INSERT, one claim, one attempt-start and one
attempt-record transaction serve a whole batch of jobs.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from metrics_connect.db.engine import Database
from metrics_connect.jobs import store
from metrics_connect.jobs.coalesce import Coalescer
from metrics_connect.jobs.delivery import DeliveryOutcome
from metrics_connect.jobs.store import AttemptRecord, ClaimedJob, DeliveryStart

# Jobs per statement at most: well under SQLite's bound on parameters per statement.
MAX_BATCH = 100


class BatchedWrites:
    def __init__(self, db: Database, owner: str, lease_seconds: float) -> None:
        self._db = db
        self._owner = owner
        self._lease_seconds = lease_seconds
        self._inserts: Coalescer[dict[str, Any], int] = Coalescer(
            partial(store.insert_jobs, db), MAX_BATCH
        )
        self._claims: Coalescer[str, ClaimedJob | None] = Coalescer(self._claim, MAX_BATCH)
        self._starts: Coalescer[DeliveryStart, bytes | None] = Coalescer(
            partial(store.start_deliveries, db), MAX_BATCH
        )
        self._records: Coalescer[AttemptRecord, str | None] = Coalescer(
            partial(store.record_attempts, db), MAX_BATCH
        )

    async def _claim(self, job_uuids: Sequence[str]) -> list[ClaimedJob | None]:
        return await store.claim_many(self._db, job_uuids, self._owner, self._lease_seconds)

    async def insert_job(self, values: dict[str, Any]) -> int:
        """A new job row (`store.create_or_reuse`'s `insert_job`): its id."""
        return await self._inserts.submit(values)

    async def claim(self, job_uuid: str) -> ClaimedJob | None:
        """As `store.claim` for this process's owner name and lease."""
        return await self._claims.submit(job_uuid)

    async def start_delivery(self, job: ClaimedJob, result_body: str | None) -> bytes | None:
        """As `store.start_delivery`."""
        return await self._starts.submit(
            DeliveryStart(job.uuid, job.merchant_id, self._owner, result_body)
        )

    async def record_attempt(
        self,
        job: ClaimedJob,
        number: int,
        outcome: DeliveryOutcome,
        retry_in_seconds: float | None,
    ) -> str | None:
        """As `store.record_attempt`."""
        return await self._records.submit(
            AttemptRecord(job, self._owner, number, outcome, retry_in_seconds)
        )

    async def settled(self) -> None:
        """Until every batch under way is written (before the leases are handed back)."""
        for coalescer in (self._inserts, self._claims, self._starts, self._records):
            await coalescer.settled()
