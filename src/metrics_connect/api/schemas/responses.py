"""The shapes the API answers, for the OpenAPI schema (api/openapi.py).

Documentation only: handlers build plain dicts (the hot paths skip a response-model
pass), and tests check that real answers validate against these models' schemas.
Extra keys are allowed, as they are for clients of the reference API.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# --- Errors --------------------------------------------------------------------------


class ErrorAnswer(BaseModel):
    """Every error: a message; `errors` names each bad field (422, 400)."""

    message: str
    errors: dict[str, list[str]] | None = None


class ValidationErrorAnswer(BaseModel):
    """422: the message and, under each bad field's path, what is wrong with it."""

    message: str
    errors: dict[str, list[str]]


class IntegrationStateAnswer(BaseModel):
    """409: the integration named is not active."""

    message: str
    status: Literal["expired", "revoked"]


# --- Merchants, customers, integrations ----------------------------------------------

Timestamp = Annotated[str, Field(description="UTC, `YYYY-MM-DD HH:MM:SS`.")]


class Network(BaseModel):
    name: str
    slug: str


class MerchantSettings(BaseModel):
    uuid: str
    name: str
    app_url: str | None
    redirect_url: str | None
    created_at: Timestamp
    updated_at: Timestamp
    rate_limit_per_minute: str
    rate_limit_per_second: str
    total_customers: int
    available_integrations: list[Network]
    webhook_secret: str


class MerchantSettingsAnswer(BaseModel):
    merchant: MerchantSettings


class WebhookSecretAnswer(BaseModel):
    webhook_secret: str


class Customer(BaseModel):
    uuid: str
    name: str
    created_at: Timestamp
    updated_at: Timestamp
    trial_ends_at: Timestamp
    is_paying: bool
    merchant: str


class CreatedCustomer(Customer):
    api_token: Annotated[str, Field(description="Shown here only.")]


class IntegrationSummary(BaseModel):
    uuid: str
    integration: str
    name: str
    slug: str
    status: str


class CustomerWithIntegrations(Customer):
    integrations: list[IntegrationSummary]


class CustomerAnswer(BaseModel):
    customer: Customer


class CreatedCustomerAnswer(BaseModel):
    customer: CreatedCustomer


class CustomerSettingsAnswer(BaseModel):
    customer: CustomerWithIntegrations


class PageMeta(BaseModel):
    current_page: int
    from_: int | None = Field(alias="from")
    last_page: int
    per_page: int
    to: int | None
    total: int


class CustomerPage(BaseModel):
    data: list[Customer]
    meta: PageMeta


class SuccessAnswer(BaseModel):
    success: bool
    message: str


class CustomerIntegration(BaseModel):
    uuid: str
    source_name: str
    status: Literal["active", "expired", "revoked"]
    created_at: Timestamp
    updated_at: Timestamp
    integration: Network


class CustomerIntegrationAnswer(BaseModel):
    customer_integration: CustomerIntegration


class CustomerIntegrationPage(BaseModel):
    data: list[CustomerIntegration]
    meta: PageMeta


class IntegrationSession(BaseModel):
    session_uuid: str
    session_link: str
    expires_at: str
    merchant: str
    merchant_uuid: str
    customer: str
    customer_uuid: str
    redirect_url: str | None


class IntegrationSessionAnswer(BaseModel):
    integration_session: IntegrationSession


class NetworkList(BaseModel):
    data: list[Network]


class CatalogMetric(BaseModel):
    name: str
    label: str
    unit: str
    aggregation: str
    description: str
    deprecated: str | None


class CatalogDimension(BaseModel):
    name: str
    label: str
    type: str
    deprecated: str | None


class CatalogWidget(BaseModel):
    reference_key: str
    component: str
    metrics: list[str]
    dimensions: list[str | dict[str, Any]]
    deprecated: str | None


class CatalogDataset(BaseModel):
    name: str
    kind: str
    fields: list[str]
    breakdowns: list[str]


class CatalogDescription(BaseModel):
    slug: str
    name: str
    description: str
    components: list[str]
    datasets: list[CatalogDataset]
    metrics: list[CatalogMetric]
    dimensions: list[CatalogDimension]
    widgets: list[CatalogWidget]


class CatalogAnswer(BaseModel):
    catalog: CatalogDescription


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ok", "unavailable"]
    database: Literal["ok", "unreachable"]
    error: str | None = None


# --- Metrics: each component's answer (docs/engine.md) -------------------------------

Value = Annotated[
    int | float | str | None,
    Field(description="A number; text for attributes; null when there is no figure."),
]


class Comparison(BaseModel):
    values: Value
    difference: Annotated[
        float | None, Field(description="Percent of the comparison value; null on 0.")
    ]
    absoluteDifference: float | None


class Noted(BaseModel):
    """Present only when the network said the widget's figures are not exact (ours)."""

    approximate: Annotated[
        Literal[True] | None,
        Field(description="true when `notes` lists why the figures are not exact."),
    ] = None
    notes: Annotated[
        list[str] | None,
        Field(
            description="Why the figures are not exact, sorted: approximate, sampled, "
            "thresholded, other_row (docs/engine.md, widget notes).",
            examples=[["sampled", "thresholded"]],
        ),
    ] = None


class NumberV1(Noted):
    """number_v1: one figure and its comparison (members null without a comparison)."""

    values: Value
    comparison: Comparison


class Series(BaseModel):
    label: str
    data: list[Value]


class ChartBody(BaseModel):
    labels: list[str]
    values: list[Series]


class ChartV1(ChartBody, Noted):
    """chart_v1: labels (days, categories) and one series per metric."""

    comparison: ChartBody | None = None


class TableBody(BaseModel):
    headers: list[str]
    values: list[list[Value]]


class DatatableV1(TableBody, Noted):
    """datatable_v1: rows of dimension labels and metric values, then a Total row."""

    comparison: TableBody | None = None


class DatagridV1(DatatableV1):
    """datagrid_v1: as datatable_v1."""


class ContainerV1(DatatableV1):
    """container_v1: as datatable_v1, without the Total row."""


class PipelineComparison(BaseModel):
    values: list[Value] | None


class PipelineV1(Noted):
    """pipeline_v1: a funnel, one value per stage (metric)."""

    labels: list[str]
    values: list[Value]
    comparison: PipelineComparison


class Icon(BaseModel):
    label: str
    value: Value
    comparison: Comparison


class IconsListV1(Noted):
    """iconsList_v1: one labelled figure per metric, each with its comparison."""

    values: list[Icon]


class WysiwygV1(BaseModel):
    """wysiwyg_v1: the widget's own `custom.values`, or ""."""

    # Nothing but `values`: otherwise every other component's answer would match it.
    model_config = ConfigDict(extra="forbid")

    values: Any


WIDGET_ERROR_CODES = (
    "unknown_reference_key",
    "unknown_metric",
    "unknown_dimension",
    "unsupported_combination",
    "upstream_error",
    "upstream_rate_limited",
    "integration_expired",
    "integration_revoked",
    "data_not_available",
)


class WidgetErrorDetail(BaseModel):
    code: Annotated[str, Field(examples=list(WIDGET_ERROR_CODES))]
    message: str


class WidgetError(BaseModel):
    """A widget that failed; the request's other widgets still answer."""

    error: WidgetErrorDetail


COMPONENT_ANSWERS: dict[str, type[BaseModel]] = {
    "number_v1": NumberV1,
    "chart_v1": ChartV1,
    "datatable_v1": DatatableV1,
    "datagrid_v1": DatagridV1,
    "container_v1": ContainerV1,
    "pipeline_v1": PipelineV1,
    "iconsList_v1": IconsListV1,
    "wysiwyg_v1": WysiwygV1,
}

WidgetAnswer = (
    NumberV1
    | ChartV1
    | DatatableV1
    | DatagridV1
    | ContainerV1
    | PipelineV1
    | IconsListV1
    | WysiwygV1
    | WidgetError
)


# Keyed by widget id: the widget's component answer, or its error.
GetDataAnswer = dict[str, WidgetAnswer]


class ExplainAnswer(BaseModel):
    """?explain=true: the plan, without a call to the network (docs/engine.md)."""

    explain: dict[str, Any]


# --- Async jobs -------------------------------------------------------------------------


class AcceptedJob(BaseModel):
    uuid: str
    status: Literal["queued", "running", "delivering", "delivered", "failed"]
    created_at: Timestamp


class AcceptedJobAnswer(BaseModel):
    job: AcceptedJob


class DeliveryAttempt(BaseModel):
    number: int
    attempted_at: Timestamp | None
    http_status: int | None
    latency_ms: int | float | None
    error: str | None


class Job(BaseModel):
    uuid: str
    status: Literal["queued", "running", "delivering", "delivered", "failed"]
    customer_integration: str | None
    metrics_webhook_url: str
    webhook_id: str
    created_at: Timestamp
    updated_at: Timestamp
    started_at: Timestamp | None
    computed_at: Timestamp | None
    finished_at: Timestamp | None
    next_attempt_at: Timestamp | None
    error: dict[str, Any] | None
    attempts: list[DeliveryAttempt]


class JobAnswer(BaseModel):
    job: Job
