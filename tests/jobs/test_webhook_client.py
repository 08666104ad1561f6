"""The delivery client's connections: kept alive, dropped when the receiver is done with
them, TLS to the name at the vetted address. A raw asyncio server scripts the answers."""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvloop
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from metrics_connect.jobs.delivery import MAX_RESPONSE_BYTES, deliver, webhook_client
from metrics_connect.jobs.ssrf import WebhookGuard

BODY = b'{"w1":{"values":1}}'
HEADERS = {"webhook-id": "msg_test"}
NO_CONTENT = b"HTTP/1.1 204 No Content\r\n\r\n"


@dataclass
class ScriptedServer:
    """Answers the n-th request (over all connections) with `answers(n)`; closes the
    connection after it when `close_after(n)`."""

    answers: Callable[[int], bytes]
    close_after: Callable[[int], bool] = lambda _n: False
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)
    port: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                body = await reader.readexactly(length)
                n = len(self.requests)
                self.requests.append(head + body)
                writer.write(self.answers(n))
                await writer.drain()
                if self.close_after(n):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[ScriptedServer], asyncio.Future[ScriptedServer]]]:
    servers: list[asyncio.Server] = []

    async def start(scripted: ScriptedServer) -> ScriptedServer:
        server = await asyncio.start_server(scripted.handle, "127.0.0.1", 0)
        servers.append(server)
        scripted.port = server.sockets[0].getsockname()[1]
        return scripted

    yield start  # type: ignore[misc]
    for server in servers:
        server.close()


async def test_deliveries_to_one_receiver_share_a_kept_alive_connection(serve) -> None:  # type: ignore[no-untyped-def]
    server = await serve(ScriptedServer(answers=lambda _n: NO_CONTENT))
    async with webhook_client(WebhookGuard("127.0.0.1"), 5) as client:
        for _ in range(3):
            outcome = await deliver(client, server.url, BODY, HEADERS, 5)
            assert outcome.delivered and outcome.http_status == 204
    assert server.connections == 1 and len(server.requests) == 3
    head, _, body = server.requests[0].partition(b"\r\n\r\n")
    assert body == BODY
    assert head.startswith(b"POST /hook HTTP/1.1\r\n")
    lines = {
        line.split(b":", 1)[0].lower(): line.split(b":", 1)[1].strip()
        for line in head.split(b"\r\n")[1:]
    }
    assert lines[b"host"] == f"127.0.0.1:{server.port}".encode()
    assert lines[b"content-type"] == b"application/json"
    assert lines[b"webhook-id"] == b"msg_test"
    assert lines[b"user-agent"].startswith(b"metrics-connect-webhooks/")


async def test_a_connection_the_receiver_closes_is_not_reused(serve) -> None:  # type: ignore[no-untyped-def]
    # Request 0 is answered with Connection: close; request 1 without it, and then
    # the receiver hangs up while idle, as keep-alive timeouts do.
    answers = {0: b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"}
    server = await serve(
        ScriptedServer(answers=lambda n: answers.get(n, NO_CONTENT), close_after=lambda n: n <= 1)
    )
    async with webhook_client(WebhookGuard("127.0.0.1"), 5) as client:
        for _ in range(3):
            assert (await deliver(client, server.url, BODY, HEADERS, 5)).delivered
            await asyncio.sleep(0.05)  # the receiver's close reaches the client
    assert server.connections == 3 and len(server.requests) == 3


async def test_an_interim_answer_is_skipped_and_a_long_body_is_not_read_to_the_end(serve) -> None:  # type: ignore[no-untyped-def]
    long_body = b"x" * (MAX_RESPONSE_BYTES + 1024)
    answers = {
        0: b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nok",
        1: b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(long_body), long_body),
    }
    server = await serve(ScriptedServer(answers=lambda n: answers.get(n, NO_CONTENT)))
    async with webhook_client(WebhookGuard("127.0.0.1"), 5) as client:
        first = await deliver(client, server.url, BODY, HEADERS, 5)
        second = await deliver(client, server.url, BODY, HEADERS, 5)
        third = await deliver(client, server.url, BODY, HEADERS, 5)
    assert [first.http_status, second.http_status, third.http_status] == [202, 200, 204]
    # The long answer's connection was dropped unread: the third went on a new one.
    assert server.connections == 2


async def test_a_receiver_that_hangs_up_without_answering_is_an_error(serve) -> None:  # type: ignore[no-untyped-def]
    server = await serve(ScriptedServer(answers=lambda _n: b"", close_after=lambda _n: True))
    async with webhook_client(WebhookGuard("127.0.0.1"), 5) as client:
        outcome = await deliver(client, server.url, BODY, HEADERS, 5)
    assert outcome.http_status is None and not outcome.delivered
    assert outcome.error is not None


async def test_nothing_listening_is_an_error(unused_tcp_port: int) -> None:
    async with webhook_client(WebhookGuard("127.0.0.1"), 5) as client:
        outcome = await deliver(client, f"http://127.0.0.1:{unused_tcp_port}/", BODY, HEADERS, 5)
    assert outcome.http_status is None and outcome.error is not None
    assert outcome.error.startswith("ConnectionRefusedError")


def _self_signed(directory: Path, name: str) -> ssl.SSLContext:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context


async def test_tls_names_the_host_at_the_vetted_address_and_checks_its_certificate(
    tmp_path: Path,
) -> None:
    # The receiver's certificate is self-signed: the handshake must fail the check,
    # after the client named the host (not the address) in its hello.
    server_context = _self_signed(tmp_path, "pinned.test")
    names: list[str | None] = []
    server_context.sni_callback = lambda _sock, name, _ctx: names.append(name)  # type: ignore[assignment,func-returns-value]
    scripted = ScriptedServer(answers=lambda _n: NO_CONTENT)
    server = await asyncio.start_server(scripted.handle, "127.0.0.1", 0, ssl=server_context)
    port = server.sockets[0].getsockname()[1]

    async def resolve(host: str, _port: int) -> list[str]:
        assert host == "pinned.test"
        return ["127.0.0.1"]

    try:
        guard = WebhookGuard("127.0.0.1/32", resolve)
        async with webhook_client(guard, 5) as client:
            outcome = await deliver(client, f"https://pinned.test:{port}/hook", BODY, HEADERS, 5)
    finally:
        server.close()
    assert names == ["pinned.test"]
    assert not outcome.delivered and outcome.error is not None
    assert "CERTIFICATE_VERIFY_FAILED" in outcome.error
    assert scripted.requests == []


def test_deliveries_on_uvloop_share_a_kept_alive_connection() -> None:
    # `metrics-connect serve` and the workers run on uvloop, whose transports are not
    # asyncio.Transport subclasses.
    async def scenario() -> None:
        scripted = ScriptedServer(answers=lambda _n: NO_CONTENT)
        server = await asyncio.start_server(scripted.handle, "127.0.0.1", 0)
        scripted.port = server.sockets[0].getsockname()[1]
        try:
            async with webhook_client(WebhookGuard("127.0.0.1"), 5) as client:
                for _ in range(2):
                    outcome = await deliver(client, scripted.url, BODY, HEADERS, 5)
                    assert outcome.delivered, outcome
        finally:
            server.close()
        assert scripted.connections == 1 and len(scripted.requests) == 2

    uvloop.run(scenario())
