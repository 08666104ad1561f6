"""The published OpenAPI schema: every operation declares its errors in the API's own
error schema and a typed success answer, and real answers validate against it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jsonschema_rs
import pytest
from cryptography.fernet import Fernet

from metrics_connect.api.app import create_app
from metrics_connect.api.schemas.responses import COMPONENT_ANSWERS
from metrics_connect.networks.instagram_business.emulator.network import build_sandbox
from metrics_connect.runtime import Runtime
from metrics_connect.settings import Settings
from tests.conftest import connect_account, serving

ERROR_SCHEMAS = {
    "#/components/schemas/ErrorAnswer",
    "#/components/schemas/ValidationErrorAnswer",
    "#/components/schemas/IntegrationStateAnswer",
}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    settings = Settings(
        database_url="sqlite:///:memory:", credentials_key=Fernet.generate_key().decode()
    )
    document: dict[str, Any] = create_app(settings=settings).openapi()
    return document


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
    ]


def schema_of(operation: dict[str, Any], status: int) -> dict[str, Any]:
    schema: dict[str, Any] = operation["responses"][str(status)]["content"]["application/json"][
        "schema"
    ]
    return schema


def test_no_operation_declares_fastapis_detail_form(spec: dict[str, Any]) -> None:
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    assert "HTTPValidationError" not in str(spec)


def test_every_error_uses_the_error_schema_and_every_success_is_typed(
    spec: dict[str, Any],
) -> None:
    for method, path, operation in operations(spec):
        responses = operation["responses"]
        successes = [code for code in responses if code.startswith("2")]
        assert len(successes) == 1, (method, path)
        success = schema_of(operation, int(successes[0]))
        refs = [success.get("$ref")] + [s.get("$ref") for s in success.get("anyOf", [])]
        assert any(refs), f"{method} {path}: a free-form success answer"
        for code in responses:
            if code.startswith("2") or path == "/readyz":
                continue
            assert schema_of(operation, int(code))["$ref"] in ERROR_SCHEMAS, (method, path, code)


UNAUTHENTICATED = {"/healthz", "/readyz"}


def test_errors_are_declared_where_they_can_happen(spec: dict[str, Any]) -> None:
    for method, path, operation in operations(spec):
        declared = {int(code) for code in operation["responses"]}
        if path not in UNAUTHENTICATED:
            assert {400, 401, 429} <= declared, (method, path)
            assert operation["security"], (method, path)
        if "requestBody" in operation:
            assert {413, 422} <= declared, (method, path)
        if "{" in path:
            assert 404 in declared, (method, path)
        if operation.get("parameters"):
            assert 422 in declared, (method, path)
        if 422 in declared:
            assert schema_of(operation, 422)["$ref"].endswith("/ValidationErrorAnswer")
    for path in ("/metrics/get-data", "/metrics/get-data-async"):
        post = spec["paths"][path]["post"]
        assert {404, 409, 413, 422, 429} <= {int(c) for c in post["responses"]}
        assert schema_of(post, 409)["$ref"].endswith("/IntegrationStateAnswer")


def test_get_data_answers_reference_each_component_schema(spec: dict[str, Any]) -> None:
    success = schema_of(spec["paths"]["/metrics/get-data"]["post"], 200)
    assert {s["$ref"] for s in success["anyOf"]} == {
        "#/components/schemas/GetDataAnswer",
        "#/components/schemas/ExplainAnswer",
    }
    widget = spec["components"]["schemas"]["GetDataAnswer"]["additionalProperties"]
    referenced = {s["$ref"].rsplit("/", 1)[1] for s in widget["anyOf"]}
    assert referenced == {m.__name__ for m in COMPONENT_ANSWERS.values()} | {"WidgetError"}
    for name in referenced:
        assert spec["components"]["schemas"][name]["required"]


# --- Real answers against the declared schemas ----------------------------------------


def validator(spec: dict[str, Any], schema: dict[str, Any]) -> Any:
    return jsonschema_rs.Draft202012Validator({**schema, "components": spec["components"]})


def assert_conforms(spec: dict[str, Any], method: str, path: str, response: httpx.Response) -> None:
    operation = spec["paths"][path][method.lower()]
    assert str(response.status_code) in operation["responses"], (method, path, response.text)
    errors = [
        str(e)
        for e in validator(spec, schema_of(operation, response.status_code)).iter_errors(
            response.json()
        )
    ]
    assert not errors, (method, path, response.status_code, errors[:3])


GRAPH_URL = "http://graph.test"
# Within the 90 days Instagram keeps account metrics (the emulator follows real time).
_TODAY = datetime.now(UTC).date()
PERIOD = {
    "start": str(_TODAY - timedelta(days=40)),
    "end": str(_TODAY - timedelta(days=11)),
    "comparison_start": str(_TODAY - timedelta(days=70)),
    "comparison_end": str(_TODAY - timedelta(days=41)),
}


def widgets() -> list[dict[str, Any]]:
    """One widget per component the engine renders, and one that fails."""
    by_date = {"metrics": ["reach", "impressions"], "dimensions": ["date"]}
    return [
        {"id": "number", "component": "number_v1", "metrics": ["reach"]},
        {"id": "chart", "component": "chart_v1", **by_date},
        {
            "id": "chart2",
            "component": "chart_v1",
            "metrics": ["count", "ctr"],
            "dimensions": ["clicks_breakdown"],
        },
        {"id": "datatable", "component": "datatable_v1", **by_date},
        {"id": "datagrid", "component": "datagrid_v1", **by_date},
        {"id": "container", "component": "container_v1", **by_date},
        {"id": "pipeline", "component": "pipeline_v1", "metrics": ["reach", "profile_views"]},
        {"id": "icons", "component": "iconsList_v1", "metrics": ["reach", "impressions"]},
        {"id": "wysiwyg", "component": "wysiwyg_v1", "metrics": [], "custom": {"values": "<p/>"}},
        {"id": "failed", "component": "number_v1", "metrics": ["no_such_metric"]},
    ]


@pytest.fixture
async def instagram(
    sqlite_url: str, settings_factory: Callable[..., Settings]
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str], str]]:
    network = build_sandbox()
    runtime = Runtime.from_settings(settings_factory(sqlite_url, instagram_api_base_url=GRAPH_URL))
    runtime.upstream_transports["instagram_business"] = httpx.ASGITransport(app=network.app)
    account = await connect_account(runtime, "instagram_business", network.demo_account)
    async with serving(create_app(runtime=runtime)) as client:
        yield client, account.headers, account.integration_uuid


async def test_each_components_answer_validates_against_its_schema(
    spec: dict[str, Any], instagram: tuple[httpx.AsyncClient, dict[str, str], str]
) -> None:
    client, headers, integration = instagram
    body = {"customer_integration": integration, **PERIOD, "metrics": widgets()}
    response = await client.post("/metrics/get-data", json=body, headers=headers)
    assert response.status_code == 200, response.text
    assert_conforms(spec, "POST", "/metrics/get-data", response)
    answer = response.json()
    components = {w["id"]: w["component"] for w in widgets()}
    for widget_id, value in answer.items():
        if widget_id == "failed":
            name = "WidgetError"
        else:
            assert "error" not in value, (widget_id, value)
            name = COMPONENT_ANSWERS[components[widget_id]].__name__
        schema = {"$ref": f"#/components/schemas/{name}"}
        assert validator(spec, schema).is_valid(value), (widget_id, value)

    explained = await client.post("/metrics/get-data?explain=true", json=body, headers=headers)
    assert_conforms(spec, "POST", "/metrics/get-data", explained)
    assert validator(spec, {"$ref": "#/components/schemas/ExplainAnswer"}).is_valid(
        explained.json()
    )


async def test_the_other_answers_validate_against_their_schemas(
    spec: dict[str, Any], instagram: tuple[httpx.AsyncClient, dict[str, str], str]
) -> None:
    client, headers, integration = instagram
    merchant = {"Authorization": headers["Authorization"]}

    async def check(method: str, path: str, template: str, **kwargs: Any) -> httpx.Response:
        response = await client.request(method, path, **kwargs)
        assert_conforms(spec, method, template, response)
        return response

    await check("GET", "/healthz", "/healthz")
    await check("GET", "/readyz", "/readyz")
    await check("GET", "/merchants/settings", "/merchants/settings", headers=merchant)
    created = await check("POST", "/customers", "/customers", json={"name": "N"}, headers=merchant)
    uuid = created.json()["customer"]["uuid"]
    await check("GET", "/customers?per_page=1", "/customers", headers=merchant)
    await check("GET", f"/customers/{uuid}", "/customers/{uuid}", headers=merchant)
    await check(
        "PUT", f"/customers/{uuid}", "/customers/{uuid}", json={"name": 1}, headers=merchant
    )
    await check("GET", "/customers/nope", "/customers/{uuid}", headers=merchant)
    await check("GET", "/customers/settings", "/customers/settings", headers=headers)
    await check("GET", "/integrations", "/integrations", headers=merchant)
    await check(
        "GET",
        "/integrations/instagram_business/catalog",
        "/integrations/{slug}/catalog",
        headers=merchant,
    )
    await check("GET", "/customer-integrations", "/customer-integrations", headers=headers)
    await check(
        "GET",
        f"/customer-integrations/{integration}",
        "/customer-integrations/{uuid}",
        headers=headers,
    )
    await check(
        "POST", "/customer-integrations/session", "/customer-integrations/session", headers=headers
    )
    await check("GET", "/merchants/settings", "/merchants/settings")
    await check(
        "GET",
        "/merchants/settings",
        "/merchants/settings",
        headers=[("Authorization", "Bearer a"), ("Authorization", "Bearer b")],
    )
    await check(
        "POST",
        "/metrics/get-data",
        "/metrics/get-data",
        json={"customer_integration": "nope", **PERIOD, "metrics": widgets()[:1]},
        headers=headers,
    )
    await check(
        "POST",
        "/metrics/get-data",
        "/metrics/get-data",
        content=b"{",
        headers={**headers, "Content-Type": "application/json"},
    )
    await check(
        "POST",
        f"/customers/{uuid}/update-payment-status",
        "/customers/{uuid}/update-payment-status",
        json={"is_paying": True},
        headers=merchant,
    )
    await check("DELETE", f"/customers/{uuid}", "/customers/{uuid}", headers=merchant)


def test_widget_notes_are_declared_on_every_data_component(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    noted = {"approximate": True, "notes": ["sampled", "thresholded"]}
    empty = {"values": None, "difference": None, "absoluteDifference": None}
    number = {"values": 3, "comparison": empty}
    assert validator(spec, {"$ref": "#/components/schemas/NumberV1"}).is_valid({**number, **noted})
    for name in ("NumberV1", "ChartV1", "DatatableV1", "PipelineV1", "IconsListV1"):
        properties = schemas[name]["properties"]
        assert {"approximate", "notes"} <= set(properties), name
        assert "approximate" not in schemas[name]["required"]
