"""`metrics-connect demo`: the API, seeded, with the emulators in a child process; ready to curl."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy.engine import make_url

from metrics_connect.accounts.credentials import load_or_create_key_file
from metrics_connect.api.app import create_app
from metrics_connect.connect.providers import callback_url
from metrics_connect.db.migrate import upgrade
from metrics_connect.demo.seed import DemoTenant, seed_demo
from metrics_connect.logging_setup import get_logger
from metrics_connect.networks.registry import network, networks
from metrics_connect.playground.session import demo_sign_in_link
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox.oauth.providers import oauth_provider_names
from metrics_connect.sandbox.process import start_sandbox_process
from metrics_connect.sandbox.registry import SandboxNetwork, available_sandboxes, build_sandbox
from metrics_connect.sandbox.serve import SandboxDirectory
from metrics_connect.settings import Settings
from metrics_connect.sync.progress import archive_progress

log = get_logger("metrics_connect.demo")

SEED_WIDGET_ID = "f35a44ce-7b1e-4b43-9d0a-3b2f4c1a9e11"


@dataclass
class DemoOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    credentials_file: Path | None = None


def demo_settings(base: Settings, options: DemoOptions) -> Settings:
    """Embedded defaults under ./var/demo unless the environment says otherwise."""
    update: dict[str, Any] = {"public_base_url": f"http://{options.host}:{options.port}"}
    if "METRICS_CONNECT_DATABASE_URL" not in os.environ:
        update["database_url"] = f"sqlite:///{base.data_dir / 'demo' / 'demo.db'}"
    if not base.credentials_key and base.credentials_key_file is None:
        update["credentials_key_file"] = base.data_dir / "demo" / "credentials.key"
    return base.model_copy(update=update)


def _sqlite_path(settings: Settings) -> Path | None:
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


@contextmanager
def owner_only_files(settings: Settings) -> Iterator[None]:
    """The demo's data stays its owner's: the tokens and credentials are in there.

    While the demo runs, the umask is 077, so everything it creates is owner-only, among
    them the -wal and -shm files SQLite creates at its first write; the demo's directory
    is made 0700 and the files an earlier start left are made 0600.
    """
    previous = os.umask(0o077)
    try:
        demo_dir = settings.data_dir / "demo"
        database = _sqlite_path(settings)
        files = [settings.credentials_key_file] if settings.credentials_key_file else []
        if database is not None:
            files += [database.with_name(database.name + s) for s in ("", "-wal", "-shm")]
        # Only the directory the demo owns: never a shared one a custom path points into.
        if any(f.parent.resolve() == demo_dir.resolve() for f in files):
            demo_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            demo_dir.chmod(0o700)
        for path in files:
            if path.exists():
                path.chmod(0o600)
        yield
    finally:
        os.umask(previous)


def _key(settings: Settings) -> str:
    if settings.credentials_key:
        return settings.credentials_key
    assert settings.credentials_key_file is not None
    return load_or_create_key_file(settings.credentials_key_file)


def curl_example(base_url: str, tenant: DemoTenant) -> str:
    """The first seeded network with an example request in its network.yaml."""
    slug, example = next(
        (
            (slug, net.spec.example)
            for slug, net in networks().items()
            if net.spec.example is not None and slug in tenant.integrations
        ),
        ("", None),
    )
    if example is None:
        return f"curl -s {base_url}/integrations -H 'Authorization: Bearer {tenant.merchant_token}'"
    body = {
        "customer_integration": tenant.integrations[slug],
        "start": example.start,
        "end": example.end,
        "metrics": [{"id": SEED_WIDGET_ID, **example.widget}],
    }
    return (
        f"curl -s -X POST {base_url}/metrics/get-data \\\n"
        f"  -H 'Authorization: Bearer {tenant.merchant_token}' \\\n"
        f"  -H 'x-customer-token: {tenant.customer_token}' \\\n"
        f"  -H 'Content-Type: application/json' \\\n"
        f"  -d '{json.dumps(body)}'"
    )


@dataclass
class RunningServer:
    server: uvicorn.Server
    task: asyncio.Task[None]


async def _serve(app: Any, host: str, port: int) -> RunningServer:
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError(f"server on {host}:{port} stopped during start-up")
        await asyncio.sleep(0.05)
    return RunningServer(server, task)


async def run_demo(base: Settings, options: DemoOptions) -> None:
    settings = demo_settings(base, options)
    with owner_only_files(settings):
        await _start_demo(settings, options)


async def _start_demo(settings: Settings, options: DemoOptions) -> None:
    key = _key(settings)
    settings = settings.model_copy(update={"credentials_key": key})
    upgrade(settings.database_url)

    # The emulators (and the OAuth providers) serve from a process of their own, so that
    # their CPU work never stalls the API's event loop.
    emulators = await start_sandbox_process(
        available_sandboxes(),
        options.port + 1,
        {name: (callback_url(settings, name),) for name in oauth_provider_names()},
    )
    try:
        await _run_demo(settings, key, options, emulators.directory)
    finally:
        emulators.stop()


async def _run_demo(
    settings: Settings, key: str, options: DemoOptions, served: SandboxDirectory
) -> None:
    settings = settings.model_copy(update=served.settings_overrides())
    # In-process twins of the served emulators (same seed, same data): the demo
    # accounts, and the archive replay below, which moves its emulator's clock.
    sandboxes = {slug: build_sandbox(slug) for slug in served.networks}
    servers: list[RunningServer] = []

    runtime = Runtime.from_settings(settings)
    tenant = await seed_demo(runtime, key, {slug: s.demo_account for slug, s in sandboxes.items()})
    await runtime.stop()

    # A fresh runtime for serving: its HTTP clients talk to the sandboxes over loopback.
    serving = Runtime.from_settings(settings)
    progress = archive_progress(serving)
    progress.update({slug: "waiting" for slug in sandboxes if _preparer(slug) is not None})
    app = create_app(runtime=serving)
    base_url = f"http://{options.host}:{options.port}"
    api = await _serve(app, options.host, options.port)
    servers.append(api)
    playground_link = demo_sign_in_link(settings, tenant.merchant_uuid, tenant.merchant_token)

    if options.credentials_file:
        options.credentials_file.parent.mkdir(parents=True, exist_ok=True)
        options.credentials_file.write_text(
            json.dumps(
                {
                    "base_url": base_url,
                    "merchant_token": tenant.merchant_token,
                    "customer_token": tenant.customer_token,
                    "integrations": tenant.integrations,
                    "webhook_secret": tenant.webhook_secret,
                    "playground_sign_in_link": playground_link,
                    "sandbox": {slug: n.public() for slug, n in served.networks.items()},
                },
                indent=2,
            )
        )
        os.chmod(options.credentials_file, 0o600)
    print_banner(base_url, tenant, served, playground_link)
    # The API answers from now on; the archives fill behind it, network by network.
    filling = asyncio.create_task(fill_archives(settings, tenant, sandboxes, progress))
    tasks = [s.task for s in servers]
    try:
        # asyncio.wait, not gather: cancelling the demo must not cancel the servers
        # mid-request; they are asked to exit and given time to shut down cleanly.
        await asyncio.wait(tasks)
    finally:
        for running in servers:
            running.server.should_exit = True
        await asyncio.wait(tasks, timeout=10)
        filling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await filling


def _preparer(slug: str) -> Any | None:
    net = network(slug)
    return net.load(net.spec.demo) if net is not None and net.spec.demo else None


async def fill_archives(
    settings: Settings,
    tenant: DemoTenant,
    sandboxes: dict[str, SandboxNetwork],
    progress: dict[str, str],
) -> None:
    """Replay each network's history into its archive, one network after the other, on a
    runtime of its own whose HTTP clients talk to the in-process twin emulators (thousands
    of sync steps, no sockets); `progress` (shown by /readyz) says where it stands."""
    for slug in list(progress):
        prepare = _preparer(slug)
        if prepare is None:
            continue
        progress[slug] = "filling"
        replay = Runtime.from_settings(settings)
        replay.upstream_transports[slug] = httpx.ASGITransport(app=sandboxes[slug].app)
        started = time.monotonic()
        try:
            await prepare(replay, tenant.integrations[slug], sandboxes[slug])
        except Exception:
            progress[slug] = "failed"
            log.exception("demo_archive_fill_failed", network=slug)
        else:
            progress[slug] = "done"
            print(f"The {slug} archive is filled ({time.monotonic() - started:.0f} s).")
        finally:
            await replay.stop()


def print_banner(
    base_url: str,
    tenant: DemoTenant,
    served: SandboxDirectory,
    playground_link: str | None = None,
) -> None:
    lines = [
        "",
        "metrics-connect demo is running",
        f"  API:             {base_url}  (docs: {base_url}/docs)",
        f"  playground:      {base_url}/playground",
    ]
    if playground_link:
        lines.append(f"    sign in once:  {playground_link}")
    lines += [
        f"  merchant token:  {tenant.merchant_token}",
        f"  customer token:  {tenant.customer_token}",
        f"  webhook secret:  {tenant.webhook_secret}",
        "  integrations:",
    ]
    lines += [f"    {slug:<20} {uuid}" for slug, uuid in tenant.integrations.items()]
    lines.append("  network emulators (ask them directly with the demo account's token):")
    for slug, n in served.networks.items():
        lines += [
            f"    {slug:<20} {n.base_url}",
            f"    {'':<20} account {n.account_id}, token {n.access_token}",
        ]
    if not served.networks:
        lines.append("    (no sandbox emulator is installed in this build)")
    filling = [slug for slug in tenant.integrations if _preparer(slug) is not None]
    if filling:
        lines += [
            "",
            f"  archives filling in the background: {', '.join(filling)}",
            f"    (older periods of these answer once done; {base_url}/readyz shows progress)",
        ]
    lines += ["", "Try:", curl_example(base_url, tenant), ""]
    print("\n".join(lines), flush=True)
