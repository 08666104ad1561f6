"""The service under benchmark: a prepared database, the emulator and the API as real
processes on 127.0.0.1, and their peak memory.

The prepared ("template") database holds what a connected integration has after its
sync ran for a while: the demo merchant and customer, one Instagram integration and
its archive (stories, follower snapshots, windowed days), replayed from the emulator
exactly as `metrics-connect demo` does. It holds no on-demand fetch: each run starts
from a copy, so the first metrics request is cold.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text, update
from sqlalchemy.engine import make_url

from metrics_connect.accounts.credentials import load_or_create_key_file
from metrics_connect.accounts.models import Merchant
from metrics_connect.db.engine import sync_url
from metrics_connect.db.migrate import upgrade
from metrics_connect.demo.seed import seed_demo
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox.registry import build_sandbox
from metrics_connect.settings import Settings

REPO = Path(__file__).resolve().parent.parent
WORK_DIR = REPO / "var" / "bench"
SLUG = "instagram_business"
# The benchmark measures the service, not the per-merchant limiter's refusals.
BENCH_RATE_LIMIT_PER_SECOND = 1_000_000
BENCH_RATE_LIMIT_PER_MINUTE = 60_000_000


@dataclass(frozen=True)
class BenchTenant:
    merchant_token: str
    customer_token: str
    integration: str
    # Why the archive replay did not complete, if it did not (the run goes on without it).
    archive_error: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.merchant_token}",
            "x-customer-token": self.customer_token,
        }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def credentials_key() -> str:
    return load_or_create_key_file(WORK_DIR / "credentials.key")


async def prepare_database(database_url: str, key: str) -> BenchTenant:
    """Migrate, seed the demo tenant, replay the Instagram archive (incremental).
    Two benchmark runs at once wait for each other here rather than both writing it."""
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    with (WORK_DIR / "prepare.lock").open("w") as lock:
        await asyncio.to_thread(fcntl.flock, lock, fcntl.LOCK_EX)
        return await _prepare_database(database_url, key)


async def _prepare_database(database_url: str, key: str) -> BenchTenant:
    from metrics_connect.networks.instagram_business.sync.demo import prepare_demo

    upgrade(database_url)
    settings = Settings(
        database_url=database_url,
        credentials_key=key,
        sync_enabled=False,
        log_level="WARNING",
    )
    runtime = Runtime.from_settings(settings)
    sandbox = build_sandbox(SLUG)
    try:
        tenant = await seed_demo(runtime, key, {SLUG: sandbox.demo_account})
        async with runtime.db.session() as session:
            await session.execute(
                update(Merchant)
                .where(Merchant.uuid == tenant.merchant_uuid)
                .values(
                    rate_limit_per_second=BENCH_RATE_LIMIT_PER_SECOND,
                    rate_limit_per_minute=BENCH_RATE_LIMIT_PER_MINUTE,
                )
            )
            await session.commit()
        archive_error = None
        try:
            await prepare_demo(runtime, tenant.integrations[SLUG], sandbox)
        except Exception as exc:  # reported in the results; the benchmark still runs
            archive_error = f"{type(exc).__name__}: {exc}"[:500]
    finally:
        await runtime.stop()
    return BenchTenant(
        tenant.merchant_token, tenant.customer_token, tenant.integrations[SLUG], archive_error
    )


def sqlite_copy(template: Path, name: str) -> str:
    """A fresh copy of the template database (its WAL checkpointed first)."""
    engine = create_engine(f"sqlite:///{template}")
    with engine.connect() as conn:
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    engine.dispose()
    target = WORK_DIR / name
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    # Through a private name, so that a concurrent run never sees half a file.
    partial = WORK_DIR / f".{name}.{os.getpid()}"
    shutil.copyfile(template, partial)
    os.replace(partial, target)
    return f"sqlite:///{target}"


def reset_postgres_database(server_url: str, name: str) -> str:
    """An empty database `name` on the server of `server_url`; its URL."""
    admin = create_engine(sync_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :n AND pid <> pg_backend_pid()"
            ),
            {"n": name},
        )
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def answers(url: str) -> bool:
    """Whether a TCP service at the URL's host:port accepts connections."""
    u = make_url(url)
    port = u.port or {"postgresql": 5432, "redis": 6379}.get(u.get_backend_name(), 0)
    try:
        with socket.create_connection((u.host or "127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


# --- processes ---------------------------------------------------------------


def process_tree(pid: int) -> list[int]:
    """The process and its descendants (uvicorn --workers forks its workers)."""
    out = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        children = (task / "children").read_text().split() if (task / "children").exists() else []
        for child in children:
            out.extend(process_tree(int(child)))
    return out


def peak_rss_mb(pid: int) -> float | None:
    """VmHWM: the process's peak resident set size so far, in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def process_name(pid: int) -> str:
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    return " ".join(a.decode(errors="replace") for a in args if a)[:120]


class ChildMemorySampler:
    """Samples, in a thread, the peak RSS of this process's descendants whose command
    line contains `needle` (processes another tool starts, such as job workers)."""

    def __init__(self, needle: str, every: float = 0.5) -> None:
        self.needle = needle
        self.every = every
        self.peaks: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.sample()

    def sample(self) -> None:
        for pid in process_tree(os.getpid())[1:]:
            if self.needle in process_name(pid):
                peak = peak_rss_mb(pid)
                if peak is not None:
                    self.peaks[pid] = max(self.peaks.get(pid, 0.0), peak)

    def __enter__(self) -> ChildMemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


@dataclass
class ServiceProcess:
    role: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    peaks: dict[int, float] = field(default_factory=dict)
    commands: dict[int, str] = field(default_factory=dict)

    def sample_memory(self) -> None:
        """Record the peak RSS of every process of the tree (call before stopping)."""
        try:
            pids = process_tree(self.popen.pid)
        except OSError:  # the tree changed while it was read
            return
        for pid in pids:
            peak = peak_rss_mb(pid)
            if peak is not None:
                self.peaks[pid] = max(self.peaks.get(pid, 0.0), peak)
                self.commands.setdefault(pid, process_name(pid))

    def stop(self) -> None:
        self.sample_memory()
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=10)


def start_process(
    role: str, args: list[str], env: Mapping[str, str], log_name: str
) -> ServiceProcess:
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    log_path = WORK_DIR / log_name
    log = log_path.open("wb")
    popen = subprocess.Popen(
        [sys.executable, *args],
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=REPO,
    )
    log.close()
    return ServiceProcess(role, popen, log_path)


async def wait_ready(url: str, process: ServiceProcess, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline:
            if process.popen.poll() is not None:
                tail = process.log_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{process.role} exited during start-up:\n{tail}")
            try:
                if (await client.get(url)).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{process.role} did not answer {url} within {timeout} s")


def start_sandbox(port: int, latency_ms: float) -> ServiceProcess:
    return start_process(
        "sandbox",
        ["-m", "bench.sandbox_server", "--port", str(port), "--latency-ms", str(latency_ms)],
        {},
        "sandbox.log",
    )


def service_env(database_url: str, key: str, sandbox_url: str, **extra: str) -> dict[str, str]:
    env = {
        "METRICS_CONNECT_DATABASE_URL": database_url,
        "METRICS_CONNECT_CREDENTIALS_KEY": key,
        "METRICS_CONNECT_INSTAGRAM_API_BASE_URL": sandbox_url,
        "METRICS_CONNECT_SYNC_ENABLED": "false",
        "METRICS_CONNECT_DATA_DIR": str(WORK_DIR / "data"),
        "METRICS_CONNECT_PUBLIC_BASE_URL": "http://127.0.0.1",
    }
    env.update({f"METRICS_CONNECT_{k.upper()}": v for k, v in extra.items()})
    return env


def start_api(port: int, env: Mapping[str, str], workers: int, log_name: str) -> ServiceProcess:
    return start_process(
        "api",
        [
            "-m",
            "metrics_connect.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env,
        log_name,
    )


def start_worker(env: Mapping[str, str], log_name: str) -> ServiceProcess:
    return start_process("worker", ["-m", "metrics_connect.cli", "worker"], env, log_name)


def copy_database(source_url: str, target_url: str, batch: int = 5000) -> int:
    """Copy every row of a migrated source database into a freshly migrated target
    (the SQLite template into PostgreSQL); the rows copied."""
    import metrics_connect.models  # noqa: F401  (registers every table)
    from metrics_connect.db.base import Base

    upgrade(target_url)
    source = create_engine(sync_url(source_url))
    target = create_engine(sync_url(target_url))
    copied = 0
    try:
        with source.connect() as read, target.begin() as write:
            for table in Base.metadata.sorted_tables:
                result = read.execution_options(stream_results=True).execute(table.select())
                while rows := result.fetchmany(batch):
                    write.execute(table.insert(), [dict(r._mapping) for r in rows])
                    copied += len(rows)
                if "id" in table.c and write.dialect.name == "postgresql":
                    write.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                            f'COALESCE((SELECT MAX(id) FROM "{table.name}"), 0) + 1, false)'
                        )
                    )
    finally:
        source.dispose()
        target.dispose()
    return copied
