"""Serve the network emulators and the OAuth provider emulators on loopback.

`metrics-connect sandbox` runs this in the foreground for a user's own client; the demo
runs it as a child process (so that an emulator's CPU work never stalls the API's event
loop) and reads what is served from the `--ready-file` JSON (`SandboxDirectory`).
Emulators take consecutive ports from `port` (0: any free ports), in the order of
`available_sandboxes()`, then one OAuth emulator per declared provider, by name.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from metrics_connect.sandbox.oauth.providers import (
    build_provider_emulator,
    oauth_provider_names,
    oauth_settings_overrides,
)
from metrics_connect.sandbox.oauth.serve import bind_loopback
from metrics_connect.sandbox.registry import SandboxNetwork, available_sandboxes, build_sandbox


@dataclass(frozen=True)
class ServedNetwork:
    """One emulator as a client sees it: where it is and the demo account's keys."""

    slug: str
    base_url: str
    account_id: str
    access_token: str
    # The Settings attribute that points metrics-connect's connector at this emulator.
    settings_field: str

    def public(self) -> dict[str, str]:
        return {
            "base_url": self.base_url,
            "account_id": self.account_id,
            "access_token": self.access_token,
        }


@dataclass(frozen=True)
class SandboxDirectory:
    """Everything being served: the network emulators by slug, the OAuth ones by provider."""

    networks: dict[str, ServedNetwork] = field(default_factory=dict)
    oauth: dict[str, str] = field(default_factory=dict)

    def settings_overrides(self) -> dict[str, Any]:
        """Settings that point metrics-connect at these emulators."""
        out: dict[str, Any] = {n.settings_field: n.base_url for n in self.networks.values()}
        out.update(oauth_settings_overrides(self.oauth))
        return out

    def to_json(self) -> str:
        return json.dumps(
            {"networks": {s: asdict(n) for s, n in self.networks.items()}, "oauth": self.oauth}
        )

    @classmethod
    def from_json(cls, text: str) -> SandboxDirectory:
        raw = json.loads(text)
        networks = {slug: ServedNetwork(**n) for slug, n in raw["networks"].items()}
        return cls(networks=networks, oauth=dict(raw["oauth"]))


def served_network(network: SandboxNetwork, base_url: str) -> ServedNetwork:
    account = network.demo_account
    return ServedNetwork(
        slug=network.slug,
        base_url=base_url,
        account_id=account.external_id,
        # Networks connected by a key form (WooCommerce's key pair) hold no token.
        access_token=str(account.credentials.get("access_token") or ""),
        settings_field=network.settings_field,
    )


def _bind(port: int, offset: int) -> socket.socket:
    try:
        return bind_loopback(port + offset if port else 0)
    except OSError as exc:
        raise SystemExit(f"error: port {port + offset} on 127.0.0.1 is taken ({exc})") from exc


def _base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{host}:{port}"


async def serve_sandboxes(
    slugs: list[str],
    port: int,
    stop: asyncio.Event,
    *,
    redirect_uris: dict[str, tuple[str, ...]] | None = None,
    ready_file: Path | None = None,
    quiet: bool = False,
) -> SandboxDirectory:
    """Serve until `stop` is set; returns what was served."""
    apps: list[tuple[ASGIApp, socket.socket]] = []
    networks: dict[str, ServedNetwork] = {}
    for slug in slugs:
        network = build_sandbox(slug)
        sock = _bind(port, len(apps))
        apps.append((network.app, sock))
        networks[slug] = served_network(network, _base_url(sock))
    oauth: dict[str, str] = {}
    uris = redirect_uris or {}
    providers: dict[str, ASGIApp] = {
        name: build_provider_emulator(name, uris.get(name, ())).app
        for name in oauth_provider_names()
    }
    for name, provider_app in providers.items():
        sock = _bind(port, len(apps))
        apps.append((provider_app, sock))
        oauth[name] = _base_url(sock)
    directory = SandboxDirectory(networks=networks, oauth=oauth)

    servers = [
        uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
        for app, _ in apps
    ]
    tasks = [
        asyncio.create_task(server.serve(sockets=[sock]))
        for server, (_, sock) in zip(servers, apps, strict=True)
    ]
    try:
        while not all(s.started for s in servers):
            for task in tasks:
                if task.done():
                    task.result()
                    raise RuntimeError("an emulator stopped during start-up")
            await asyncio.sleep(0.02)
        if ready_file is not None:
            _write_atomically(ready_file, directory.to_json())
        if not quiet:
            print(banner(directory), flush=True)
        await stop.wait()
    finally:
        for server in servers:
            server.should_exit = True
        await asyncio.gather(*tasks, return_exceptions=True)
    return directory


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text)
    os.chmod(partial, 0o600)
    partial.replace(path)


def banner(directory: SandboxDirectory) -> str:
    lines = ["metrics-connect sandbox is serving (loopback only):"]
    for slug, n in directory.networks.items():
        lines += [
            f"  {slug:<20} {n.base_url}",
            f"  {'':<20} account id:   {n.account_id}",
            f"  {'':<20} access token: {n.access_token}",
        ]
    for name, url in directory.oauth.items():
        lines.append(f"  {name + ' OAuth':<20} {url}")
    if not directory.networks:
        lines.append("  (no network emulator is installed in this build)")
    lines.append("Curl examples: docs/sandbox.md. Stop with Ctrl-C.")
    return "\n".join(lines)


def stop_when_stdin_closes(stop: asyncio.Event) -> None:
    """Set `stop` once stdin reaches end of file: a child process ends with its parent."""
    loop = asyncio.get_running_loop()

    def watch() -> None:
        while sys.stdin.buffer.read(4096):
            pass
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=watch, name="stdin-watch", daemon=True).start()


def selected_slugs(networks: list[str] | None) -> list[str]:
    """The requested slugs (all installed emulators when none); SystemExit on unknown ones."""
    available = available_sandboxes()
    if not networks:
        return available
    unknown = [s for s in networks if s not in available]
    if unknown:
        raise SystemExit(
            f"error: no emulator for {', '.join(unknown)}; installed: {', '.join(available)}"
        )
    return list(dict.fromkeys(networks))
