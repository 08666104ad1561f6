"""`metrics-connect demo` serves its emulators from a process of its own and tells the
user where they are (`"sandbox"` of the credentials file)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

from metrics_connect.demo import run as demo_run
from metrics_connect.demo.run import DemoOptions, run_demo
from metrics_connect.sandbox.serve import ServedNetwork
from metrics_connect.settings import Settings
from tests.sandbox.served import ask

# Networks without an archive replay: the demo is up in seconds.
SLUGS = ["facebook_ads", "google_analytics_4"]
PORTS = 1 + len(SLUGS) + 2  # API, emulators, Facebook Login and Google OAuth


def _ephemeral_ports_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


def free_port_block(size: int) -> int:
    """`size` free ports in a row, below the ephemeral range: the kernel hands those to
    outgoing connections (the other test workers' database and HTTP clients), which can
    take one between this check and the demo's bind."""
    low, top = 10_000, _ephemeral_ports_start() - size
    start = low + os.getpid() % (top - low)
    for first in [*range(start, top, size), *range(low, start, size)]:
        socks = []
        try:
            for port in range(first, first + size):
                sock = socket.socket()
                socks.append(sock)
                sock.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise RuntimeError("no free port block")


async def test_demo_lists_its_emulators_and_they_answer_from_another_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("METRICS_CONNECT_DATABASE_URL", raising=False)
    monkeypatch.setattr(demo_run, "available_sandboxes", lambda: SLUGS)
    port = free_port_block(PORTS)
    credentials = tmp_path / "demo.json"
    settings = Settings(
        data_dir=tmp_path, credentials_key=Fernet.generate_key().decode(), sync_enabled=False
    )
    demo = asyncio.create_task(
        run_demo(settings, DemoOptions(port=port, credentials_file=credentials))
    )
    try:
        async with asyncio.timeout(120):
            while not credentials.exists():
                if demo.done():
                    demo.result()
                await asyncio.sleep(0.1)
        sandbox = json.loads(credentials.read_text())["sandbox"]
        assert list(sandbox) == SLUGS
        for offset, slug in enumerate(SLUGS, start=1):
            assert sandbox[slug]["base_url"] == f"http://127.0.0.1:{port + offset}"
        assert sandbox["facebook_ads"]["account_id"] == "act_100000000000001"
        assert sandbox["google_analytics_4"]["account_id"] == "properties/300000001"
        served = [
            ServedNetwork(slug, settings_field="", **entry) for slug, entry in sandbox.items()
        ]

        # This thread runs the demo's API; holding its event loop, the emulators still
        # answer: they are served by another process.
        with ThreadPoolExecutor(len(served)) as pool:
            answers = list(pool.map(ask, served, timeout=60))
        assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
        assert answers[0].json()["id"] == "act_100000000000001"

        api = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}")
        async with api:
            assert (await api.get("/healthz")).status_code == 200
    finally:
        demo.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await demo
    # Stopping the demo stops its emulator process.
    with pytest.raises(httpx.ConnectError):
        ask(served[0])


async def test_the_demo_answers_while_its_archives_fill_and_readyz_says_which(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("METRICS_CONNECT_DATABASE_URL", raising=False)
    monkeypatch.setattr(demo_run, "available_sandboxes", lambda: SLUGS)
    release = asyncio.Event()
    replayed: list[str] = []

    async def slow_replay(_runtime: object, integration_uuid: str, _sandbox: object) -> None:
        await release.wait()
        replayed.append(integration_uuid)

    # facebook_ads stands for a network with a long history to replay.
    monkeypatch.setattr(
        demo_run, "_preparer", lambda slug: slow_replay if slug == "facebook_ads" else None
    )
    port = free_port_block(PORTS)
    credentials = tmp_path / "demo.json"
    settings = Settings(
        data_dir=tmp_path, credentials_key=Fernet.generate_key().decode(), sync_enabled=False
    )
    demo = asyncio.create_task(
        run_demo(settings, DemoOptions(port=port, credentials_file=credentials))
    )
    try:
        async with asyncio.timeout(120):
            while not credentials.exists():
                if demo.done():
                    demo.result()
                await asyncio.sleep(0.1)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as api:
            ready = (await api.get("/readyz")).json()
            assert ready["status"] == "ok"
            assert ready["archives"] == {"facebook_ads": "filling"}
            release.set()
            async with asyncio.timeout(30):
                while (await api.get("/readyz")).json()["archives"]["facebook_ads"] != "done":
                    await asyncio.sleep(0.1)
        integrations = json.loads(credentials.read_text())["integrations"]
        assert replayed == [integrations["facebook_ads"]]
    finally:
        demo.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await demo
