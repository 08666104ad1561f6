"""The body of POST /metrics/get-data (and, subclassed, of /metrics/get-data-async).

Widgets are pasted straight from dashboards, so unknown keys are accepted and ignored.
Every rule of API.md is checked here and each error names its path (`metrics.3.id`,
`end`, `comparison_start`), so that the router answers 422 with those paths.

The longest allowed period comes from `settings.max_range_days`: routers that take
this body declare the dependency `api.deps.apply_request_limits` (router-level), and a
job sets it before it validates, which makes the running deployment's limit visible to
validation for the current request. The engine owns this model; the API only parses.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from metrics_connect.settings import Settings

MAX_WIDGETS = 200
DEFAULT_MAX_RANGE_DAYS = Settings.model_fields["max_range_days"].default

# The running deployment's limit, set per request (see the module's docstring).
max_range_days_var: ContextVar[int] = ContextVar("max_range_days", default=DEFAULT_MAX_RANGE_DAYS)


def _as_date(value: Any) -> Any:
    """ISO 8601 date; a date-time is read as its date."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str) and len(value) > 10 and value[10] in "T ":
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
        except ValueError:
            return value
    return value


IsoDate = Annotated[date, BeforeValidator(_as_date)]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class FilterObject(BaseModel):
    """`{"field", "operator", "value"}`; without operator it names a grouping field."""

    model_config = ConfigDict(extra="ignore")

    field: Name
    operator: Annotated[str, Field(max_length=32)] | None = None
    value: Any = None


class WidgetIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: Annotated[str, Field(min_length=1, max_length=255)]
    reference_key: Annotated[str, Field(max_length=255)] | None = None
    component: Annotated[str, Field(min_length=1, max_length=64)]
    metrics: Annotated[list[Name], Field(max_length=100)]
    dimensions: Annotated[list[Name | FilterObject], Field(max_length=20)] = []
    sort: list[Name] | Name | None = None
    entity_id: str | int | None = None
    entity_type: Literal["campaign", "adset", "ad"] | None = None
    filters: Annotated[list[Name | FilterObject], Field(max_length=50)] | None = None
    chart_type: str | None = None
    custom: dict[str, Any] | None = None

    @property
    def sort_keys(self) -> list[str]:
        if self.sort is None:
            return []
        return [self.sort] if isinstance(self.sort, str) else list(self.sort)


class GetDataRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    customer_integration: Annotated[str, Field(min_length=1, max_length=64)]
    start: IsoDate
    end: IsoDate
    comparison_start: IsoDate | None = None
    comparison_end: IsoDate | None = None
    metrics: Annotated[list[WidgetIn], Field(min_length=1, max_length=MAX_WIDGETS)]

    @model_validator(mode="after")
    def _check_rules(self) -> GetDataRequest:
        errors: list[InitErrorDetails] = []

        def fail(loc: tuple[str | int, ...], kind: str, message: str, value: Any) -> None:
            errors.append(
                InitErrorDetails(type=PydanticCustomError(kind, message), loc=loc, input=value)
            )

        max_days = max_range_days_var.get()
        if self.end < self.start:
            fail(("end",), "date_order", "The end must be a date after or equal to start.", "")
        elif (self.end - self.start).days + 1 > max_days:
            fail(("end",), "range_too_long", f"The period may span at most {max_days} days.", "")
        if (self.comparison_start is None) != (self.comparison_end is None):
            missing = "comparison_start" if self.comparison_start is None else "comparison_end"
            fail(
                (missing,),
                "comparison_pair",
                "comparison_start and comparison_end go together: give both or neither.",
                None,
            )
        elif self.comparison_start is not None and self.comparison_end is not None:
            if self.comparison_end < self.comparison_start:
                fail(
                    ("comparison_end",),
                    "date_order",
                    "The comparison_end must be a date after or equal to comparison_start.",
                    "",
                )
            elif (self.comparison_end - self.comparison_start).days + 1 > max_days:
                fail(
                    ("comparison_end",),
                    "range_too_long",
                    f"The comparison period may span at most {max_days} days.",
                    "",
                )
        seen: set[str] = set()
        for index, widget in enumerate(self.metrics):
            if widget.id in seen:
                fail(("metrics", index, "id"), "duplicate_id", "The id is used twice.", widget.id)
            seen.add(widget.id)
        if errors:
            raise ValidationError.from_exception_data(type(self).__name__, errors)
        return self

    @property
    def has_comparison(self) -> bool:
        return self.comparison_start is not None and self.comparison_end is not None
