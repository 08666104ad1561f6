"""POST /metrics/get-data-async end to end: embedded queue, real loopback receiver."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from standardwebhooks import Webhook

from tests.jobs.conftest import OTHER_END, JobsService
from tests.jobs.receiver import Receiver


async def webhook_secret(svc: JobsService) -> str:
    response = await svc.client.get("/merchants/settings", headers=svc.merchant_headers)
    secret: str = response.json()["merchant"]["webhook_secret"]
    return secret


async def test_webhook_body_is_the_sync_response_and_verifies(
    jobs_service: JobsService, receiver: Receiver
) -> None:
    svc = jobs_service
    accepted = await svc.client.post(
        "/metrics/get-data-async", json=svc.body(receiver.url), headers=svc.headers
    )
    assert accepted.status_code == 200, accepted.text
    job = accepted.json()["job"]
    assert set(job) == {"uuid", "status", "created_at"} and job["status"] == "queued"

    [delivery] = await receiver.wait_for(1)
    sync = await svc.client.post("/metrics/get-data", json=svc.body(), headers=svc.headers)
    assert sync.status_code == 200
    assert delivery.body == sync.content  # byte for byte
    assert sync.json()["w-reach"]["values"] is not None
    assert sync.json()["w-unknown"]["error"]["code"]  # failed widgets travel too

    payload = Webhook(await webhook_secret(svc)).verify(delivery.body, delivery.headers)
    assert payload == sync.json()

    done = await svc.wait_status(job["uuid"])
    assert done["status"] == "delivered"
    assert done["webhook_id"] == delivery.headers["webhook-id"]
    [attempt] = done["attempts"]
    assert attempt["http_status"] == 200 and attempt["latency_ms"] > 0
    assert attempt["error"] is None and attempt["attempted_at"]
    assert done["finished_at"] and done["computed_at"] and done["next_attempt_at"] is None
    assert done["created_at"] <= done["started_at"] <= done["computed_at"] <= done["finished_at"]


async def test_500_500_200_is_three_deliveries_with_one_webhook_id(
    db_url: str, make_service: Callable[..., Any], make_receiver: Callable[..., Receiver]
) -> None:
    svc: JobsService = await make_service(database_url=db_url)  # SQLite and PostgreSQL
    receiver = make_receiver(statuses=[500, 500, 200])
    accepted = await svc.client.post(
        "/metrics/get-data-async", json=svc.body(receiver.url), headers=svc.headers
    )
    job_uuid = accepted.json()["job"]["uuid"]
    done = await svc.wait_status(job_uuid)

    assert done["status"] == "delivered"
    assert [a["http_status"] for a in done["attempts"]] == [500, 500, 200]
    assert [a["number"] for a in done["attempts"]] == [1, 2, 3]
    assert len(receiver.received) == 3
    assert {r.headers["webhook-id"] for r in receiver.received} == {done["webhook_id"]}
    assert len({r.body for r in receiver.received}) == 1
    secret = await webhook_secret(svc)
    for delivery in receiver.received:  # each retry is signed afresh and verifies
        Webhook(secret).verify(delivery.body, delivery.headers)


async def test_retries_run_out_and_the_job_fails(
    make_service: Callable[..., Any], make_receiver: Callable[..., Receiver]
) -> None:
    svc: JobsService = await make_service(webhook_retry_schedule="0.05,0.05")
    receiver = make_receiver(default_status=503)
    accepted = await svc.client.post(
        "/metrics/get-data-async", json=svc.body(receiver.url), headers=svc.headers
    )
    done = await svc.wait_status(accepted.json()["job"]["uuid"])
    assert done["status"] == "failed"
    assert [a["http_status"] for a in done["attempts"]] == [503, 503, 503]
    assert len(receiver.received) == 3


async def test_a_redirect_to_a_private_address_is_not_followed(
    make_service: Callable[..., Any], make_receiver: Callable[..., Receiver]
) -> None:
    svc: JobsService = await make_service(webhook_retry_schedule="")
    receiver = make_receiver(default_status=307, location="http://10.0.0.1/internal")
    accepted = await svc.client.post(
        "/metrics/get-data-async", json=svc.body(receiver.url), headers=svc.headers
    )
    done = await svc.wait_status(accepted.json()["job"]["uuid"])
    assert done["status"] == "failed"
    [attempt] = done["attempts"]
    assert attempt["http_status"] == 307 and attempt["error"] == "redirect not followed"
    assert len(receiver.received) == 1


async def test_same_idempotency_key_gives_one_job(
    jobs_service: JobsService, receiver: Receiver
) -> None:
    svc = jobs_service
    headers = {**svc.headers, "Idempotency-Key": "report-2026-09"}
    first = await svc.client.post(
        "/metrics/get-data-async", json=svc.body(receiver.url), headers=headers
    )
    second = await svc.client.post(
        "/metrics/get-data-async", json=svc.body(receiver.url), headers=headers
    )
    assert first.status_code == second.status_code == 200
    assert first.json()["job"]["uuid"] == second.json()["job"]["uuid"]
    assert await svc.job_count() == 1
    await svc.wait_status(first.json()["job"]["uuid"])
    assert len(receiver.received) == 1

    other = await svc.client.post(
        "/metrics/get-data-async", json=svc.body(receiver.url, end=OTHER_END), headers=headers
    )
    assert other.status_code == 422
    assert "Idempotency-Key" in other.json()["errors"]
    fresh = await svc.client.post(
        "/metrics/get-data-async",
        json=svc.body(receiver.url),
        headers={**svc.headers, "Idempotency-Key": "another"},
    )
    assert fresh.json()["job"]["uuid"] != first.json()["job"]["uuid"]
    assert await svc.job_count() == 2


async def test_invalid_bodies_are_422_and_create_no_job(
    jobs_service: JobsService, receiver: Receiver
) -> None:
    svc = jobs_service
    cases: list[tuple[dict[str, Any], str]] = [
        ({**svc.body(receiver.url), "metrics": []}, "metrics"),
        (svc.body(receiver.url, start="2099-01-01"), "end"),  # after the end
        (svc.body(), "metrics_webhook_url"),
        (svc.body(receiver.url, comparison_end=None), "comparison_end"),
    ]
    for body, field in cases:
        response = await svc.client.post("/metrics/get-data-async", json=body, headers=svc.headers)
        assert response.status_code == 422, (field, response.text)
        assert field in response.json()["errors"], response.json()
    assert await svc.job_count() == 0


async def test_integration_checks_come_before_queueing(
    jobs_service: JobsService, receiver: Receiver
) -> None:
    svc = jobs_service
    missing = await svc.client.post(
        "/metrics/get-data-async",
        json=svc.body(receiver.url, customer_integration="00000000-0000-0000-0000-000000000000"),
        headers=svc.headers,
    )
    assert missing.status_code == 404
    unauthenticated = await svc.client.post(
        "/metrics/get-data-async", json=svc.body(receiver.url), headers=svc.merchant_headers
    )
    assert unauthenticated.status_code == 401
    assert await svc.job_count() == 0


async def test_jobs_are_scoped_to_their_owner(
    jobs_service: JobsService, receiver: Receiver, make_tenant_on: Callable[..., Any]
) -> None:
    svc = jobs_service
    accepted = await svc.client.post(
        "/metrics/get-data-async", json=svc.body(receiver.url), headers=svc.headers
    )
    job_uuid = accepted.json()["job"]["uuid"]
    stranger = await make_tenant_on(svc.runtime)
    response = await svc.client.get(f"/metrics/jobs/{job_uuid}", headers=stranger)
    assert response.status_code == 404
    unknown = await svc.client.get("/metrics/jobs/not-a-job", headers=svc.headers)
    assert unknown.status_code == 404


async def test_unsafe_webhook_urls_are_422_and_create_no_job(
    make_service: Callable[..., Any],
) -> None:
    resolved: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        resolved.append(host)
        return {"hooks.localtest.me": ["127.0.0.1"]}[host]

    svc: JobsService = await make_service(webhook_allowlist="", resolver=resolver)
    for url in (
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/hook",
        "http://[::1]:8080/hook",
        "https://hooks.localtest.me/hook",
        "ftp://hooks.localtest.me/hook",
    ):
        response = await svc.client.post(
            "/metrics/get-data-async", json=svc.body(url), headers=svc.headers
        )
        assert response.status_code == 422, (url, response.text)
        assert list(response.json()["errors"]) == ["metrics_webhook_url"]
    assert resolved == ["hooks.localtest.me"]  # literals are judged without a lookup
    assert await svc.job_count() == 0
