"""Parameters of the code-envelope APIs (`code_envelope`), read as they read them; a bad
value is refused with 40002 (invalid parameter) and the API's message:

- `one_param`: a single value, required or with a default;
- `list_param`: a JSON array (the docs) or repeated values (the official SDK's 'multi'
  format, objects among them as JSON);
- `date_range`: start and end dates (YYYY-MM-DD), both included, at most so many days;
- `filters_param`: `filtering`, a list of {field_name, filter_type, filter_value};
- `body_params`: a JSON body's fields as parameters; `json_fields`: a lenient JSON body.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Any

from starlette.requests import Request

from metrics_connect.sandbox.kit.code_envelope import INVALID_PARAMETER, CodeError


def refused(message: str) -> CodeError:
    return CodeError(INVALID_PARAMETER, message)


def one_param(params: Mapping[str, list[str]], name: str, default: str | None = None) -> str:
    """A single parameter; absent or empty it is its default, else a refusal."""
    values = params.get(name)
    if not values or values[0] == "":
        if default is None:
            raise refused(f"{name}: Missing data for required field.")
        return default
    return values[0]


def list_param(raw: list[str], name: str) -> list[Any]:
    """A list parameter: one JSON array or repeated values."""
    if not raw:
        return []
    if len(raw) == 1 and raw[0].strip().startswith("["):
        try:
            value = json.loads(raw[0])
        except ValueError:
            raise refused(f"{name}: invalid JSON array") from None
        return list(value) if isinstance(value, list) else [value]
    return [json.loads(r) if r.strip().startswith("{") else r for r in raw]


async def json_fields(request: Request) -> Any:
    """A request's JSON body (empty: `{}`), or `{}` when it is not JSON."""
    try:
        return json.loads(await request.body() or b"{}")
    except ValueError:
        return {}


def body_params(body: bytes, not_json: str) -> dict[str, list[str]]:
    """A JSON body's fields as query parameters (what a task's create call posts): nulls
    left out, other values than strings as JSON; a body that is not JSON is refused."""
    try:
        fields = json.loads(body or b"{}")
    except ValueError:
        raise refused(not_json) from None
    return {
        k: [v if isinstance(v, str) else json.dumps(v)] for k, v in fields.items() if v is not None
    }


def date_range(start_date: str, end_date: str, limit: int) -> tuple[date, date]:
    """Start and end days, both included: in order, at most `limit` days."""
    try:
        start, end = date.fromisoformat(start_date), date.fromisoformat(end_date)
    except ValueError:
        raise refused("start_date/end_date: format YYYY-MM-DD") from None
    span = (end - start).days + 1
    if span < 1:
        raise refused("end_date must not be earlier than start_date")
    if span > limit:
        raise refused(f"The time range cannot exceed {limit} days for these dimensions")
    return start, end


def filters_param(raw: list[str], supported: Mapping[str, str]) -> dict[str, frozenset[str]]:
    """`filtering`: each `supported` field name's values (a JSON array in `filter_value`)
    under the name `supported` maps it to; the last filter of a field counts."""
    filters: dict[str, frozenset[str]] = {}
    for item in list_param(raw, "filtering"):
        if not isinstance(item, dict):
            raise refused("filtering: objects of field_name, filter_type, filter_value")
        values = frozenset(str(v) for v in list_param([str(item.get("filter_value", "[]"))], "x"))
        name = item.get("field_name")
        if not isinstance(name, str) or name not in supported:
            raise refused(f"filtering: {name} is not supported here")
        filters[supported[name]] = values
    return filters
