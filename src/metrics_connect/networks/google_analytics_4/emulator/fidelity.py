"""Where GA4 stops answering exact figures: data thresholds, the "(other)" row and
sampling, under the conditions of data.yaml's `fidelity` section, reported in the
runReport metadata as the Data API does (`subjectToThresholding`,
`dataLossFromOtherRow`, `samplingMetadatas`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from metrics_connect.sandbox.kit.spec import load_spec


@dataclass(frozen=True)
class Thresholding:
    demographic_dimensions: frozenset[str]
    user_metrics: frozenset[str]
    min_users: int


@dataclass(frozen=True)
class OtherRow:
    max_rows_per_day: int


@dataclass(frozen=True)
class Sampling:
    max_events: int


@dataclass(frozen=True)
class Fidelity:
    thresholding: Thresholding
    other_row: OtherRow
    sampling: Sampling


FIDELITY: Fidelity = load_spec(__package__, "data.yaml", "fidelity", Fidelity)


def thresholded(rules: Thresholding, dims: Collection[str], metrics: Iterable[str]) -> bool:
    """A user-count metric with a demographic dimension: GA4 applies its data thresholds."""
    return bool(rules.demographic_dimensions & set(dims)) and any(
        m in rules.user_metrics for m in metrics
    )


def sampling_metadatas(
    rules: Sampling, events_by_range: Iterable[int]
) -> list[dict[str, str]] | None:
    """One SamplingMetadata per date range (int64 as JSON strings) when any range holds
    more events than the quota; None when the report is not sampled."""
    counts = list(events_by_range)
    if not any(n > rules.max_events for n in counts):
        return None
    return [
        {"samplesReadCount": str(min(n, rules.max_events)), "samplingSpaceSize": str(n)}
        for n in counts
    ]
