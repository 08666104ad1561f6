"""One delivery attempt over real loopback HTTP: signed bytes, pinning, no redirects."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from metrics_connect.accounts.tokens import new_webhook_secret
from metrics_connect.jobs.delivery import deliver, webhook_client
from metrics_connect.jobs.signing import signed_headers
from metrics_connect.jobs.ssrf import WebhookGuard
from tests.jobs.receiver import Receiver

BODY = json.dumps({"w1": {"values": 55645}}, separators=(",", ":")).encode()


def headers_for(secret: str, body: bytes = BODY) -> dict[str, str]:
    return signed_headers(secret, "msg_test", datetime.now(UTC), body)


async def test_signed_body_arrives_byte_for_byte_and_verifies(receiver: Receiver) -> None:
    secret = new_webhook_secret()
    async with webhook_client(WebhookGuard("127.0.0.1"), 5) as client:
        outcome = await deliver(client, receiver.url, BODY, headers_for(secret), 5)
    assert outcome.delivered and outcome.http_status == 200 and outcome.error is None
    assert outcome.latency_ms > 0
    [got] = receiver.received
    assert got.body == BODY
    assert got.headers["content-type"] == "application/json"
    assert Webhook(secret).verify(got.body, got.headers) == {"w1": {"values": 55645}}
    with pytest.raises(WebhookVerificationError):
        Webhook(new_webhook_secret()).verify(got.body, got.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(got.body + b" ", got.headers)


async def test_loopback_is_refused_at_send_time_unless_allow_listed(receiver: Receiver) -> None:
    async with webhook_client(WebhookGuard(""), 5) as client:
        outcome = await deliver(client, receiver.url, BODY, headers_for(new_webhook_secret()), 5)
    assert not outcome.delivered and outcome.http_status is None
    assert outcome.error is not None and "loopback" in outcome.error
    assert receiver.received == []


async def test_connection_goes_to_the_vetted_address_with_the_name_as_host(
    receiver: Receiver,
) -> None:
    # "pinned.test" exists only in this stub: reaching the receiver proves the
    # transport connected to the vetted address instead of resolving again.
    async def resolve(host: str, port: int) -> list[str]:
        assert host == "pinned.test"
        return ["127.0.0.1"]

    url = f"http://pinned.test:{receiver.port}/hooks"
    async with webhook_client(WebhookGuard("127.0.0.1/32", resolve), 5) as client:
        outcome = await deliver(client, url, BODY, headers_for(new_webhook_secret()), 5)
    assert outcome.delivered
    assert receiver.received[0].headers["host"] == f"pinned.test:{receiver.port}"


async def test_dns_rebinding_after_acceptance_is_refused_before_connecting(
    receiver: Receiver,
) -> None:
    answers = iter([["93.184.216.34"], ["127.0.0.1"]])
    calls: list[str] = []

    async def rebinding(host: str, port: int) -> list[str]:
        calls.append(host)
        return next(answers)

    guard = WebhookGuard("", rebinding)
    url = f"http://rebind.test:{receiver.port}/hooks"
    await guard.vet(url)  # what the API checked when it accepted the job
    async with webhook_client(guard, 5) as client:
        outcome = await deliver(client, url, BODY, headers_for(new_webhook_secret()), 5)
    assert calls == ["rebind.test", "rebind.test"]
    assert outcome.error is not None and outcome.error.startswith("refused:")
    assert receiver.received == []


async def test_a_redirect_to_a_private_address_is_not_followed(make_receiver) -> None:  # type: ignore[no-untyped-def]
    receiver: Receiver = make_receiver(default_status=302, location="http://10.0.0.1/steal")
    guard = WebhookGuard("127.0.0.1")
    vetted: list[str] = []
    original_vet = guard.vet

    async def recording_vet(url):  # type: ignore[no-untyped-def]
        vetted.append(str(url))
        return await original_vet(url)

    guard.vet = recording_vet  # type: ignore[method-assign]
    async with webhook_client(guard, 5) as client:
        outcome = await deliver(client, receiver.url, BODY, headers_for(new_webhook_secret()), 5)
    assert outcome.http_status == 302 and not outcome.delivered
    assert outcome.error == "redirect not followed"
    assert len(receiver.received) == 1
    assert vetted == [receiver.url]  # no request was even prepared for 10.0.0.1


async def test_a_slow_receiver_times_out(make_receiver) -> None:  # type: ignore[no-untyped-def]
    receiver: Receiver = make_receiver(delays={0: 1.0})
    async with webhook_client(WebhookGuard("127.0.0.1"), 0.3) as client:
        outcome = await deliver(client, receiver.url, BODY, headers_for(new_webhook_secret()), 0.3)
    assert outcome.http_status is None and not outcome.delivered
    assert outcome.error == "timed out after 0.3 s"
    assert outcome.latency_ms < 900


async def test_non_2xx_is_not_delivered(make_receiver) -> None:  # type: ignore[no-untyped-def]
    receiver: Receiver = make_receiver(default_status=500)
    async with webhook_client(WebhookGuard("127.0.0.1"), 5) as client:
        outcome = await deliver(client, receiver.url, BODY, headers_for(new_webhook_secret()), 5)
    assert (outcome.http_status, outcome.error, outcome.delivered) == (500, "HTTP 500", False)
