"""The emulators in a child process (`metrics-connect sandbox`), for the demo.

An emulator answering a heavy report (GA4's runReport over a year, say) is CPU work;
served from the API's own event loop it stalls the API's requests, and on two cores a
cold 50-widget request could time out as `upstream_error`. In a process of its own it
only competes for a core. The child ends when the parent closes its stdin, so it does
not outlive a killed demo.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from metrics_connect.sandbox.serve import SandboxDirectory

START_TIMEOUT_SECONDS = 60.0


@dataclass
class SandboxProcess:
    process: subprocess.Popen[bytes]
    directory: SandboxDirectory

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is not None:
            return
        assert self.process.stdin is not None
        self.process.stdin.close()  # the child's signal to stop
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            self.process.wait(timeout=timeout)


async def start_sandbox_process(
    slugs: list[str], port: int, redirect_uris: dict[str, tuple[str, ...]]
) -> SandboxProcess:
    """Start the emulators of `slugs` (all installed ones when empty) and the OAuth ones,
    on ports from `port` on; returns once every one listens."""
    workdir = Path(tempfile.mkdtemp(prefix="metrics-connect-sandbox-"))
    ready_file = workdir / "served.json"
    command = [
        sys.executable,
        "-m",
        "metrics_connect.cli",
        "sandbox",
        "--port",
        str(port),
        "--ready-file",
        str(ready_file),
        "--quiet",
        "--stop-on-stdin-eof",
    ]
    for slug in slugs:
        command += ["--network", slug]
    for provider, uris in redirect_uris.items():
        command += [arg for uri in uris for arg in ("--redirect-uri", f"{provider}={uri}")]
    process = subprocess.Popen(command, stdin=subprocess.PIPE)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    try:
        while not ready_file.exists():
            if process.poll() is not None:
                raise RuntimeError(f"the sandbox process exited with {process.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError("the sandbox process did not start in time")
            await asyncio.sleep(0.05)
        directory = SandboxDirectory.from_json(ready_file.read_text())
    except BaseException:
        SandboxProcess(process, SandboxDirectory()).stop()
        raise
    finally:
        ready_file.unlink(missing_ok=True)
        workdir.rmdir()
    return SandboxProcess(process, directory)
