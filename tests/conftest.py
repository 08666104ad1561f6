"""Shared fixtures: a migrated database per test (SQLite always, PostgreSQL when
METRICS_CONNECT_TEST_POSTGRES_URL is set), the app on an in-process client, a
controllable clock, and merchant/customer factories."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from metrics_connect import clock
from metrics_connect.accounts import service
from metrics_connect.api.app import create_app
from metrics_connect.db.engine import sync_url
from metrics_connect.db.migrate import upgrade
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox.registry import DemoAccount
from metrics_connect.settings import Settings

POSTGRES_URL = os.environ.get("METRICS_CONNECT_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("METRICS_CONNECT_TEST_REDIS_URL")

BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def private_postgres_database(server_url: str, prefix: str) -> Iterator[str]:
    """A migrated database of this test run's own on the configured server, dropped at
    the end. Whatever else uses the server (another run, a process an earlier run left
    behind) can neither lock nor change what these tests see.

    Databases of earlier runs on this machine whose process is gone are dropped too.
    """
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    admin = create_engine(sync_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for (stale,) in conn.execute(
            text("SELECT datname FROM pg_database WHERE datname LIKE :p"), {"p": f"{prefix}_%"}
        ):
            pid = stale.removeprefix(f"{prefix}_").split("_")[0]
            if pid.isdigit() and not _pid_alive(int(pid)):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{stale}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_migrated() -> Iterator[str]:
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL tests need METRICS_CONNECT_TEST_POSTGRES_URL (CI sets it)")
    with private_postgres_database(POSTGRES_URL, "metrics_connect_test") as url:
        yield url


def _truncate_postgres(url: str) -> None:
    engine = create_engine(sync_url(url))
    with engine.begin() as conn:
        # A connection left in a transaction (a leak) would block TRUNCATE forever.
        conn.execute(text("SET LOCAL lock_timeout = '20s'"))
        tables = conn.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname='public' "
                "AND tablename <> 'alembic_version'"
            )
        ).scalars()
        names = ", ".join(f'"{t}"' for t in tables)
        if names:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database of each backend."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "test.db"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
    else:
        url: str = request.getfixturevalue("postgres_migrated")
        _truncate_postgres(url)
        yield url


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A migrated SQLite database, for tests that do not need both backends."""
    path = tmp_path / "test.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def settings_factory(tmp_path: Path) -> Callable[..., Settings]:
    key = Fernet.generate_key().decode()

    def make(database_url: str, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "data_dir": tmp_path / "data",
            "credentials_key": key,
            "log_json": True,
            "sync_enabled": False,
            "public_base_url": "http://testserver",
        }
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture
def settings(db_url: str, settings_factory: Callable[..., Settings]) -> Settings:
    return settings_factory(db_url)


@pytest.fixture
def runtime(settings: Settings) -> Runtime:
    return Runtime.from_settings(settings)


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    return create_app(runtime=runtime)


@contextlib.asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app started (its lifespan) and a client that talks to it in-process."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(app) as c:
        yield c


class FrozenClock:
    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> None:
        self.current += timedelta(**kwargs)


@pytest.fixture
def frozen_clock() -> Iterator[FrozenClock]:
    fake = FrozenClock(datetime(2026, 1, 15, 12, 0, tzinfo=UTC))
    clock.set_clock(fake)
    yield fake
    clock.set_clock(None)


@dataclass
class Tenant:
    """A merchant and one of its customers, with their plain tokens (test-only)."""

    merchant_uuid: str
    merchant_token: str
    customer_uuid: str
    customer_token: str

    @property
    def merchant_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.merchant_token}"}

    @property
    def headers(self) -> dict[str, str]:
        return {**self.merchant_headers, "x-customer-token": self.customer_token}


@pytest.fixture
def make_tenant(runtime: Runtime) -> Callable[..., Any]:
    async def make(
        name: str = "Agency",
        *,
        is_paying: bool = True,
        per_second: int = 1000,
        per_minute: int = 100000,
    ) -> Tenant:
        async with runtime.db.session() as session:
            m = await service.create_merchant(
                session,
                runtime.vault,
                runtime.settings,
                name,
                rate_limit_per_second=per_second,
                rate_limit_per_minute=per_minute,
            )
            c = await service.create_customer(
                session, runtime.settings, m.record, f"{name} customer", is_paying=is_paying
            )
            await session.commit()
            return Tenant(m.record.uuid, m.token, c.record.uuid, c.token)

    return make


@pytest.fixture
async def tenant(make_tenant: Callable[..., Any]) -> Tenant:
    result: Tenant = await make_tenant()
    return result


@dataclass(frozen=True)
class ConnectedAccount:
    """A paying customer's integration of a sandbox account, and the headers to ask it."""

    headers: dict[str, str]
    integration_uuid: str
    integration_id: int
    customer_id: int


async def connect_account(
    runtime: Runtime,
    slug: str,
    account: DemoAccount,
    *,
    credentials: dict[str, Any] | None = None,
    connected_at: datetime | None = None,
) -> ConnectedAccount:
    """A merchant (limits out of the way), a paying customer, and one integration of
    `account` (its own credentials unless others are given; connected now unless
    `connected_at` says when)."""
    async with runtime.db.session() as session:
        m = await service.create_merchant(
            session,
            runtime.vault,
            runtime.settings,
            "Agency",
            rate_limit_per_second=100000,
            rate_limit_per_minute=1000000,
        )
        c = await service.create_customer(
            session, runtime.settings, m.record, "Coffee", is_paying=True
        )
        integration = await service.create_integration(
            session,
            runtime.vault,
            c.record,
            slug=slug,
            source_name=account.source_name,
            external_id=account.external_id,
            credentials=dict(credentials if credentials is not None else account.credentials),
            timezone=account.timezone,
        )
        if connected_at is not None:
            integration.connected_at = connected_at
        await session.commit()
    headers = {"Authorization": f"Bearer {m.token}", "x-customer-token": c.token}
    return ConnectedAccount(headers, integration.uuid, integration.id, c.record.id)


_MYPY_TEST = "test_code_quality.py::test_mypy_is_clean_on_src"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """In one process, mypy's test last: it reads what mypy, started at the end of
    collection, found on the other core while the rest ran (tests/test_code_quality.py).
    Under xdist, its file first: mypy runs on one worker while the others start, instead
    of alone at the end."""
    first = bool(os.environ.get("PYTEST_XDIST_WORKER"))
    items.sort(key=lambda item: item.nodeid.endswith(_MYPY_TEST) != first)


def pytest_collection_finish(session: pytest.Session) -> None:
    # Under xdist every worker collects everything: the test starts mypy where it runs.
    if session.config.option.collectonly or os.environ.get("PYTEST_XDIST_WORKER"):
        return
    for item in session.items:
        if item.nodeid.endswith(_MYPY_TEST) and isinstance(item, pytest.Function):
            item.module.start_mypy()
