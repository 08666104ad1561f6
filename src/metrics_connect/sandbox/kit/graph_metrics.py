"""Graph insights metrics retired by API version: a metric (or one form of it, such as
its daily time series) is refused from the major version that removed it, and in every
version from its sunset date, Meta's all-versions deprecation (by the sandbox clock;
`enforce_sunsets = False` shows exactly what each version documents)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from metrics_connect.sandbox.kit.meta_graph import GraphError, docs_link, invalid_parameter

# Graph names the removal of a metric removed in this version or later (until its sunset).
NAMED_REMOVALS_FROM = 21


class MetricRetirements:
    def __init__(self, today: Callable[[], date]) -> None:
        self.today = today
        self.enforce_sunsets = True

    def sunset_passed(self, sunset: date | None) -> bool:
        return self.enforce_sunsets and sunset is not None and self.today() >= sunset

    def serves(self, removed_in: int | None, sunset: date | None, major: int) -> bool:
        """Whether version `major` serves a metric (never removed: always)."""
        if removed_in is None:
            return True
        return major < removed_in and not self.sunset_passed(sunset)

    def refusal(
        self,
        index: int,
        name: str,
        removed_in: int | None,
        sunset: date | None,
        available: list[str],
        queried: str,
        docs_page: str,
    ) -> GraphError:
        """Graph's refusal of the `index`th metric asked: between its removal and its
        sunset Graph names it; otherwise (unknown, or sunset) it lists what it serves."""
        if (removed_in or 0) >= NAMED_REMOVALS_FROM and not self.sunset_passed(sunset):
            return invalid_parameter(
                f"Starting from version {removed_in} and above, the {name} metric is no "
                f"longer supported for the queried {queried}. Please refer to the documentation "
                f"at {docs_link(docs_page)} for a list of supported metrics."
            )
        return invalid_parameter(
            f"metric[{index}] must be one of the following values: {', '.join(available)}"
        )
