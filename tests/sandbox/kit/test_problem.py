"""The sandbox kit's Problem Details refusals: members in order, media type, headers,
and a fresh `instance` only where the network sends one."""

from __future__ import annotations

import json

from metrics_connect.sandbox.kit.problem import ProblemError


class Named(ProblemError):
    type_url = "https://api.example/errors/"
    with_instance = True


def test_plain_problem() -> None:
    refused = ProblemError(422, "Unprocessable Entity", "limit must be an integer.")
    response = refused.response()
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert json.loads(response.body) == {
        "type": "about:blank",
        "title": "Unprocessable Entity",
        "status": 422,
        "detail": "limit must be an integer.",
    }


def test_named_problem_with_instance_and_headers() -> None:
    refused = Named(429, "Too Many Requests", "Slow down.", {"Retry-After": "3"})
    first, second = refused.response(), refused.response()
    assert first.headers["retry-after"] == "3"
    body = json.loads(first.body)
    assert list(body) == ["type", "title", "status", "detail", "instance"]
    assert body["type"] == "https://api.example/errors/" and str(refused) == "Slow down."
    assert body["instance"] != json.loads(second.body)["instance"]


def test_a_page_per_status() -> None:
    class PerStatus(ProblemError):
        type_url = "https://docs.example/status/{status}"

    body = json.loads(PerStatus(403, "Forbidden", "No.").response().body)
    assert body["type"] == "https://docs.example/status/403"
