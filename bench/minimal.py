"""The minimal plan of a request: the calls a perfect client of the Graph API makes.

Exact calls (insights windows, account fields, the daily views batches) are what
`?explain=true` plans; they are known in advance. A paged fetch (posts, stories) takes
as many list pages and insight batches as the emulator really holds objects, which the
benchmark reads from the emulator itself (`/__bench/media`, bench/sandbox_server.py):

- posts: Graph lists them newest first, 50 a page; a client reads pages until it meets
  the first post older than the fetch's first day (it cannot know it has passed the
  day before), so `(newer + in_span) // 50 + 1` pages when an older post exists, else
  the pages holding them all (at least one); then one insights operation per post in
  the span, 50 operations per batch request: `ceil(in_span / 50)` batches.
- stories: the live ones (24 hours) are all listed, `max(1, ceil(live / 50))` pages;
  their insights are two multi-id reads in one batch, if any story is in the span.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

PAGE_SIZE = 50
BATCH_OPERATIONS = 50
# The datasets fetched by paging, when explain does not say (before it did).
PAGED_DATASETS = {"media", "stories"}


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def media_list_pages(newer: int, in_span: int, older: int, page_size: int = PAGE_SIZE) -> int:
    """Pages of a newest-first list read until it passes the span's first day."""
    listed = newer + in_span
    if older:
        return listed // page_size + 1  # the page holding the first older post
    return max(1, ceil_div(listed, page_size))


def media_batches(in_span: int, per_batch: int = BATCH_OPERATIONS) -> int:
    return ceil_div(in_span, per_batch)


def stories_calls(live: int, in_span: int) -> tuple[int, int]:
    return max(1, ceil_div(live, PAGE_SIZE)), 1 if in_span else 0


@dataclass
class PagedFetch:
    """One paged fetch: explain's estimate next to the emulator's truth."""

    dataset: str
    start: str
    end: str
    truth: dict[str, int]
    pages: int
    batches: int
    explain_calls: int
    explain_basis: str | None
    explain_objects: int | None = None

    @property
    def calls(self) -> int:
        return self.pages + self.batches


@dataclass
class MinimalPlan:
    calls: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    # Calls in sequence per fetch (the coordinator runs each fetch's calls one by one).
    chains: list[int] = field(default_factory=list)
    paged: list[PagedFetch] = field(default_factory=list)


def is_paged(fetch: dict[str, Any]) -> bool:
    return bool(fetch.get("estimated", fetch["dataset"] in PAGED_DATASETS))


def paged_fetch(fetch: dict[str, Any], truth: dict[str, int]) -> PagedFetch:
    if fetch["dataset"] == "stories":
        pages, batches = stories_calls(truth["stories_live"], truth["stories_in_span"])
    else:
        pages = media_list_pages(truth["newer"], truth["in_span"], truth["older"])
        batches = media_batches(truth["in_span"])
    return PagedFetch(
        dataset=fetch["dataset"],
        start=fetch["start"],
        end=fetch["end"],
        truth=truth,
        pages=pages,
        batches=batches,
        explain_calls=len(fetch["calls"]),
        explain_basis=(fetch.get("estimate") or {}).get("basis"),
        explain_objects=(fetch.get("estimate") or {}).get("objects"),
    )


def minimal_plan(
    fetches: list[dict[str, Any]], truths: list[dict[str, int]], kind_of: Any
) -> MinimalPlan:
    """Explain's exact fetches as planned, the paged ones (`truths`, in their order) at
    their minimum. `kind_of(path)`: "direct", "list page" or "batch"."""
    plan = MinimalPlan()
    kinds: Counter[str] = Counter()
    paged_truths = iter(truths)
    for fetch in fetches:
        if is_paged(fetch):
            paged = paged_fetch(fetch, next(paged_truths))
            plan.paged.append(paged)
            plan.chains.append(paged.calls)
            kinds["list page"] += paged.pages
            kinds["batch"] += paged.batches
        else:
            plan.chains.append(len(fetch["calls"]))
            for call in fetch["calls"]:
                kinds[kind_of(call["path"])] += 1
    plan.by_kind = dict(kinds)
    plan.calls = sum(plan.chains)
    return plan
