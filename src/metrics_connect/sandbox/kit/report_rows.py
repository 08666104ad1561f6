"""Rows of a report as Google's report APIs order and cut them: rows ordered by their
dimension values, then by the asked columns (the first most significant, each ascending
or descending, ties kept in the order before); the extremes of each metric column; and a
table's groups past its row limit folded into one "(other)" row."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar, cast

OTHER = "(other)"
R = TypeVar("R")
K = TypeVar("K", bound=tuple[str, ...])
A = TypeVar("A")
# A report row: its dimension values and its metric values by name.
Row = tuple[tuple[str, ...], dict[str, float]]


def order_rows(
    rows: list[R], base: Callable[[R], Any], sorts: Sequence[tuple[Callable[[R], Any], bool]]
) -> None:
    """Sort `rows` in place by `base`, then by each (key, descending) of `sorts`."""
    rows.sort(key=base)
    for key, descending in reversed(sorts):
        rows.sort(key=key, reverse=descending)


def extremes(
    rows: Iterable[Row], metrics: Iterable[str], pick: Callable[..., float]
) -> dict[str, float]:
    """Each metric's `pick` (max or min) over the rows; 0 when there are none."""
    kept = list(rows)
    return {m: pick((r[1][m] for r in kept), default=0.0) for m in metrics}


def fold_other(
    groups: dict[K, A],
    max_rows: int,
    width: int,
    size: Callable[[A], int],
    merge: Callable[[A, A], None],
    new: Callable[[], A],
) -> dict[K, A] | None:
    """Groups past `max_rows`: the largest (by `size`, then key) kept, the rest merged
    into one row of "(other)" values, `width` of them; None when within the limit."""
    if len(groups) <= max_rows:
        return None
    ranked = sorted(groups, key=lambda k: (-size(groups[k]), k))
    kept = ranked[: max_rows - 1]
    folded: dict[K, A] = {k: groups[k] for k in kept}
    other = new()
    for key in ranked[len(kept) :]:
        merge(other, groups[key])
    folded[cast(K, (OTHER,) * width)] = other
    return folded
