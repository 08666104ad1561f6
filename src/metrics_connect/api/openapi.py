"""The OpenAPI schema as the API really answers: typed 2xx bodies and every error.

FastAPI alone publishes each 2xx as a free-form object, no 401/404/409/413/429, and a
422 in its own `{"detail": [...]}` form that this API never sends. Here the schema is
completed once, when first asked for:

- each operation's success answer is a named model (api/schemas/responses.py), and
  `/metrics/get-data` references one schema per component (`NumberV1`, `ChartV1`...);
- the errors an operation can answer are derived from what it depends on (a merchant
  token: 400/401/429/503; a customer token or a trial: 401; a body: 413/422;
  parameters: 422; a path parameter: 404), plus those its handler raises itself
  (`ROUTE_ERRORS`), each with the API's `{"message", "errors"?}` schema.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_flat_dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel, TypeAdapter

from metrics_connect.api.deps import billable_customer, current_customer, current_merchant
from metrics_connect.api.schemas import responses as r

REF = "#/components/schemas/{model}"

# The success answer of each operation: status code and model (or union of models).
SUCCESS: dict[tuple[str, str], tuple[int, Any]] = {
    ("GET", "/healthz"): (200, r.Health),
    ("GET", "/readyz"): (200, r.Readiness),
    ("GET", "/merchants/settings"): (200, r.MerchantSettingsAnswer),
    ("POST", "/merchants/webhook-secret/rotate"): (200, r.WebhookSecretAnswer),
    ("GET", "/customers"): (200, r.CustomerPage),
    ("POST", "/customers"): (201, r.CreatedCustomerAnswer),
    ("GET", "/customers/settings"): (200, r.CustomerSettingsAnswer),
    ("GET", "/customers/{uuid}"): (200, r.CustomerAnswer),
    ("PUT", "/customers/{uuid}"): (200, r.CustomerAnswer),
    ("DELETE", "/customers/{uuid}"): (200, r.SuccessAnswer),
    ("POST", "/customers/{uuid}/update-payment-status"): (200, r.SuccessAnswer),
    ("POST", "/customer-integrations/session"): (200, r.IntegrationSessionAnswer),
    ("GET", "/customer-integrations"): (200, r.CustomerIntegrationPage),
    ("GET", "/customer-integrations/{uuid}"): (200, r.CustomerIntegrationAnswer),
    ("DELETE", "/customer-integrations/{uuid}"): (200, r.SuccessAnswer),
    ("GET", "/integrations"): (200, r.NetworkList),
    ("GET", "/integrations/{slug}/catalog"): (200, r.CatalogAnswer),
    ("POST", "/metrics/get-data"): (200, "GetDataAnswer | ExplainAnswer"),
    ("POST", "/metrics/get-data-async"): (200, r.AcceptedJobAnswer),
    ("GET", "/metrics/jobs/{job_uuid}"): (200, r.JobAnswer),
}

# Errors a handler raises itself, beyond what its dependencies and parameters imply.
ROUTE_ERRORS: dict[tuple[str, str], dict[int, str]] = {
    ("POST", "/metrics/get-data"): {
        404: "The integration is not this customer's.",
        409: "The integration is not active (`status`: expired or revoked).",
    },
    ("POST", "/metrics/get-data-async"): {
        404: "The integration is not this customer's.",
        409: "The integration is not active (`status`: expired or revoked).",
        422: "The body, the webhook URL (SSRF guard) or the Idempotency-Key is refused.",
    },
    ("DELETE", "/customer-integrations/{uuid}"): {
        422: "No live integration session of this customer (`session_id`).",
    },
}

ERROR_SCHEMAS: dict[int, type[BaseModel]] = {
    409: r.IntegrationStateAnswer,
    422: r.ValidationErrorAnswer,
}

NAMED_MODELS: tuple[type[BaseModel], ...] = (
    r.ErrorAnswer,
    r.ValidationErrorAnswer,
    r.IntegrationStateAnswer,
    r.ExplainAnswer,
    r.WidgetError,
    *r.COMPONENT_ANSWERS.values(),
    *(model for _, model in SUCCESS.values() if isinstance(model, type)),
)


def _component_schemas() -> dict[str, Any]:
    """Every named model's JSON schema, as components, with refs between them."""
    schemas: dict[str, Any] = {}
    for model in NAMED_MODELS:
        schema = model.model_json_schema(ref_template=REF)
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    get_data = TypeAdapter(r.GetDataAnswer).json_schema(ref_template=REF)
    schemas.update(get_data.pop("$defs", {}))
    schemas["GetDataAnswer"] = {
        **get_data,
        "title": "GetDataAnswer",
        "description": "Keyed by widget id: the widget's component answer, or its error.",
    }
    return schemas


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": REF.format(model=name)}


def _json(schema: dict[str, Any], description: str, **extra: Any) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": schema}},
        **extra,
    }


def _calls(dependant: Dependant) -> set[Callable[..., Any]]:
    found: set[Callable[..., Any]] = set()
    if dependant.call is not None:
        found.add(dependant.call)
    for sub in dependant.dependencies:
        found |= _calls(sub)
    return found


def route_errors(route: APIRoute, method: str) -> dict[int, str]:
    """The error statuses of one operation and, for each, when it happens."""
    calls = _calls(route.dependant)
    flat = get_flat_dependant(route.dependant, skip_repeats=True)
    reasons: dict[int, list[str]] = {}

    def add(status: int, reason: str) -> None:
        reasons.setdefault(status, []).append(reason)

    if current_merchant in calls:
        add(400, "A credential header (Authorization, x-customer-token) was sent twice.")
        add(401, "The merchant token is missing or wrong.")
        add(429, "Over the merchant's rate limit; see Retry-After.")
        add(503, "The database is unavailable.")
    if current_customer in calls:
        add(401, "The customer token is missing, wrong, or another merchant's.")
    if billable_customer in calls:
        add(401, "The customer's trial has ended and it is not paying.")
    if route.body_field is not None:
        add(413, "The body is over the size limit.")
        add(422, "The body is not valid (each error under its field's path).")
    if flat.query_params or flat.path_params or flat.header_params:
        add(422, "A parameter is not valid.")
    if flat.path_params:
        add(404, "Not found among the caller's own.")
    for status, reason in ROUTE_ERRORS.get((method, route.path_format), {}).items():
        add(status, reason)
    return {status: " ".join(dict.fromkeys(texts)) for status, texts in sorted(reasons.items())}


def _success(route: APIRoute, method: str) -> tuple[str, dict[str, Any]]:
    status, model = SUCCESS[(method, route.path_format)]
    if isinstance(model, str):
        schema = {"anyOf": [_ref(name.strip()) for name in model.split("|")]}
    else:
        schema = _ref(model.__name__)
    return str(status), _json(schema, "Success")


def _complete(operation: dict[str, Any], route: APIRoute, method: str) -> None:
    status, success = _success(route, method)
    responses: dict[str, Any] = {status: success}
    for code, reason in route_errors(route, method).items():
        model = ERROR_SCHEMAS.get(code, r.ErrorAnswer)
        extra: dict[str, Any] = {}
        if code == 429:
            extra["headers"] = {
                "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}
            }
        responses[str(code)] = _json(_ref(model.__name__), reason, **extra)
    if route.path_format == "/readyz":
        responses["503"] = _json(_ref("Readiness"), "The database does not answer.")
    operation["responses"] = responses
    if current_merchant in _calls(route.dependant):
        security: dict[str, list[str]] = {"merchantToken": []}
        if current_customer in _calls(route.dependant):
            security["customerToken"] = []
        operation["security"] = [security]


def install_openapi(app: FastAPI) -> None:
    """Replaces `app.openapi` with the completed schema (built once, then cached)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        components = schema.setdefault("components", {})
        schemas = components.setdefault("schemas", {})
        # FastAPI's own 422 form: this API never answers it.
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        schemas.update(_component_schemas())
        components["securitySchemes"] = {
            "merchantToken": {"type": "http", "scheme": "bearer"},
            "customerToken": {"type": "apiKey", "in": "header", "name": "x-customer-token"},
        }
        for route in app.routes:
            if not isinstance(route, APIRoute) or not route.include_in_schema:
                continue
            for method in route.methods:
                _complete(schema["paths"][route.path_format][method.lower()], route, method)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
