"""`metrics-connect demo`: sandboxes + API in one process, seeded, ready to curl."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import import_module
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
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox.oauth import (
    build_facebook_oauth,
    build_google_oauth,
    oauth_settings_overrides,
)
from metrics_connect.sandbox.registry import SandboxNetwork, available_sandboxes, build_sandbox
from metrics_connect.settings import Settings

log = get_logger("metrics_connect.demo")

# Per slug, the archive filler run before serving ("module:function"), if the network has one.
DEMO_PREPARERS: dict[str, str] = {
    "instagram_business": "metrics_connect.sync.instagram_business.demo:prepare_demo",
    "facebook_ads": "metrics_connect.sync.facebook_ads.demo:prepare_demo",
}

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
    ig = tenant.integrations.get("instagram_business") or next(
        iter(tenant.integrations.values()), ""
    )
    body = {
        "customer_integration": ig,
        "start": "2024-01-01",
        "end": "2024-09-01",
        "metrics": [
            {
                "id": SEED_WIDGET_ID,
                "reference_key": "ig:story_replies",
                "component": "number_v1",
                "metrics": ["replies"],
                "dimensions": ["stories"],
            }
        ],
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
        await _run_demo(settings, options)


async def _run_demo(settings: Settings, options: DemoOptions) -> None:
    key = _key(settings)
    settings = settings.model_copy(update={"credentials_key": key})
    upgrade(settings.database_url)

    sandboxes: dict[str, SandboxNetwork] = {}
    servers: list[RunningServer] = []
    overrides: dict[str, Any] = {}
    for offset, slug in enumerate(available_sandboxes(), start=1):
        sandbox = build_sandbox(slug)
        port = options.port + offset
        servers.append(await _serve(sandbox.app, "127.0.0.1", port))
        overrides[sandbox.settings_field] = f"http://127.0.0.1:{port}"
        sandboxes[slug] = sandbox
    # The connect page's OAuth providers: Facebook Login and Google emulators.
    port = options.port + len(sandboxes) + 1
    for name, build in (("facebook", build_facebook_oauth), ("google", build_google_oauth)):
        oauth = build(redirect_uris=(callback_url(settings, name),))
        servers.append(await _serve(oauth.app, "127.0.0.1", port))
        overrides.update(
            oauth_settings_overrides(**{f"{name}_base_url": f"http://127.0.0.1:{port}"})
        )
        port += 1
    settings = settings.model_copy(update=overrides)

    runtime = Runtime.from_settings(settings)
    tenant = await seed_demo(runtime, key, {slug: s.demo_account for slug, s in sandboxes.items()})
    for slug, sandbox in sandboxes.items():
        target = DEMO_PREPARERS.get(slug)
        if target is None:
            continue
        module_name, _, func = target.partition(":")
        try:
            prepare = getattr(import_module(module_name), func)
        except ModuleNotFoundError:
            continue
        # In-process transport for the replay: thousands of sync steps, no sockets.
        runtime.upstream_transports[slug] = httpx.ASGITransport(app=sandbox.app)
        print(f"Filling the {slug} archive from the sandbox (first start takes longer)...")
        await prepare(runtime, tenant.integrations[slug], sandbox)
        runtime.upstream_transports.pop(slug, None)
    await runtime.stop()

    # A fresh runtime for serving: its HTTP clients talk to the sandboxes over loopback.
    serving = Runtime.from_settings(settings)
    serving.services["sandboxes"] = sandboxes
    app = create_app(runtime=serving)
    base_url = f"http://{options.host}:{options.port}"
    api = await _serve(app, options.host, options.port)
    servers.append(api)

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
                },
                indent=2,
            )
        )
        os.chmod(options.credentials_file, 0o600)
    print_banner(base_url, tenant, sandboxes)
    try:
        await asyncio.gather(*(s.task for s in servers))
    finally:
        for running in servers:
            running.server.should_exit = True


def print_banner(base_url: str, tenant: DemoTenant, sandboxes: dict[str, SandboxNetwork]) -> None:
    lines = [
        "",
        "metrics-connect demo is running",
        f"  API:             {base_url}  (docs: {base_url}/docs)",
        f"  merchant token:  {tenant.merchant_token}",
        f"  customer token:  {tenant.customer_token}",
        f"  webhook secret:  {tenant.webhook_secret}",
        "  integrations:",
    ]
    lines += [f"    {slug:<20} {uuid}" for slug, uuid in tenant.integrations.items()]
    if not sandboxes:
        lines.append("    (no sandbox emulator is installed in this build)")
    lines += ["", "Try:", curl_example(base_url, tenant), ""]
    print("\n".join(lines), flush=True)
