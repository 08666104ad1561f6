"""The demo's data directory and files are owner-only, including the -wal and -shm files
SQLite creates after the demo started."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from metrics_connect.accounts.credentials import load_or_create_key_file
from metrics_connect.db.engine import Database
from metrics_connect.db.migrate import upgrade
from metrics_connect.demo.run import DemoOptions, demo_settings, owner_only_files
from metrics_connect.settings import Settings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_demo_files_are_owner_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("METRICS_CONNECT_DATABASE_URL", raising=False)
    settings = demo_settings(Settings(data_dir=tmp_path / "var"), DemoOptions())
    demo = tmp_path / "var" / "demo"
    # What an earlier start (before this fix) left world-readable.
    demo.mkdir(parents=True, mode=0o755)
    demo.chmod(0o755)
    (demo / "demo.db").touch(mode=0o644)
    (demo / "demo.db").chmod(0o644)
    with owner_only_files(settings):
        assert settings.credentials_key_file is not None
        load_or_create_key_file(settings.credentials_key_file)
        upgrade(settings.database_url)
        db = Database(settings.database_url)
        async with db.session() as session:  # the first write creates -wal and -shm
            await session.execute(text("CREATE TABLE probe (x INTEGER)"))
            await session.execute(text("INSERT INTO probe VALUES (1)"))
            await session.commit()
        files = {p.name: mode(p) for p in demo.iterdir()}
        await db.dispose()
    assert mode(demo) == 0o700
    assert {"demo.db", "demo.db-wal", "demo.db-shm", "credentials.key"} <= set(files)
    assert files == dict.fromkeys(files, 0o600), files


def test_a_custom_database_elsewhere_leaves_its_directory_alone(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    settings = Settings(
        data_dir=tmp_path / "var",
        database_url=f"sqlite:///{shared / 'x.db'}",
        credentials_key="k",
    )
    with owner_only_files(settings):
        pass
    assert mode(shared) == 0o755
