"""Group commit: many steps' writes of one kind run as one batch, one batch at a time.

A step submits its item and awaits its own answer. While a batch is in the
database, the items that arrive wait and form the next batch: an idle process runs
each item at once (a batch of one), a busy one pays one statement and one
transaction for as many jobs as arrived meanwhile. A batch that fails is run again
one item at a time, so that one job's failure (or a lost lease the batch statement
cannot attribute) fails only that job.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Answer = TypeVar("Answer")

BatchRunner = Callable[[Sequence[Item]], Awaitable[Sequence[Answer]]]


class Coalescer(Generic[Item, Answer]):
    def __init__(self, run_batch: BatchRunner[Item, Answer], max_batch: int) -> None:
        self._run_batch = run_batch
        self._max_batch = max(1, max_batch)
        self._waiting: list[tuple[Item, asyncio.Future[Answer]]] = []
        self._drain: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> Answer:
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._drain is None:
            self._drain = asyncio.create_task(self._run_waiting())
        # Shielded: a cancelled step leaves its item's batch to finish for the others.
        return await asyncio.shield(future)

    async def settled(self) -> None:
        """Until no batch is running or waiting (on shutdown, before leases are handed back)."""
        while self._drain is not None:
            await asyncio.shield(self._drain)

    async def _run_waiting(self) -> None:
        batch: list[tuple[Item, asyncio.Future[Answer]]] = []
        try:
            while self._waiting:
                batch = self._waiting[: self._max_batch]
                del self._waiting[: self._max_batch]
                await self._run(batch)
        except BaseException as exc:
            # Cancelled with the event loop: nobody may wait for an answer forever.
            for _, future in [*batch, *self._waiting]:
                _settle(future, exc)
            self._waiting.clear()
            raise
        finally:
            self._drain = None

    async def _run(self, batch: list[tuple[Item, asyncio.Future[Answer]]]) -> None:
        try:
            answers = await self._run_batch([item for item, _ in batch])
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0][1], exc)
                return
            for one in batch:
                await self._run([one])
            return
        for (_, future), answer in zip(batch, answers, strict=True):
            if not future.done():
                future.set_result(answer)


def _settle(future: asyncio.Future[Answer], exc: BaseException) -> None:
    if future.done():
        return
    if isinstance(exc, asyncio.CancelledError):
        future.cancel()
    else:
        future.set_exception(exc)
