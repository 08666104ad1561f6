"""Asynchronous report tasks as reporting APIs run them: a task is created from a query
and named by a random id; each check answers the next of its `statuses` (queued,
running...), then `done`; its file can be downloaded once a check has answered `done`.
The file is the query's rows as CSV (`csv_text`), computed at download time."""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

Q = TypeVar("Q")


@dataclass
class TaskBook(Generic[Q]):
    statuses: Sequence[str]
    done: str
    # task id -> (its query, checks so far)
    tasks: dict[str, tuple[Q, int]] = field(default_factory=dict)

    def create(self, query: Q) -> str:
        task_id = secrets.token_hex(10)
        self.tasks[task_id] = (query, 0)
        return task_id

    def __contains__(self, task_id: object) -> bool:
        return task_id in self.tasks

    def query(self, task_id: str) -> Q:
        return self.tasks[task_id][0]

    def check(self, task_id: str) -> str:
        query, checks = self.tasks[task_id]
        self.tasks[task_id] = (query, checks + 1)
        return self.statuses[checks] if checks < len(self.statuses) else self.done

    def finished(self, task_id: str) -> bool:
        """Whether a check has answered `done`."""
        return self.tasks[task_id][1] > len(self.statuses)


def rows_csv(
    rows: Iterable[dict[str, Any]], dimensions: Sequence[str], metrics: Sequence[str]
) -> str:
    """Report rows `{"dimensions": {...}, "metrics": {...}}` as a file: dimensions then
    metrics, a missing value empty."""
    return csv_text(
        [*dimensions, *metrics],
        (
            [row["dimensions"].get(d, "") for d in dimensions]
            + [row["metrics"].get(m, "") for m in metrics]
            for row in rows
        ),
    )


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()
