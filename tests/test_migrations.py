"""The migrations form one line of history and build the schema the models declare."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from metrics_connect.db.base import Base
from metrics_connect.db.migrate import alembic_config, upgrade


def test_there_is_a_single_head(tmp_path: Path) -> None:
    script = ScriptDirectory.from_config(alembic_config(f"sqlite:///{tmp_path / 'x.db'}"))
    assert len(script.get_heads()) == 1


def test_migrated_schema_has_every_model_table(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'schema.db'}"
    upgrade(url, "head")
    engine = create_engine(url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert set(Base.metadata.tables) <= tables


def _unique_constraints(url: str) -> dict[str, list[str]]:
    engine = create_engine(url)
    found = {
        str(c["name"]): list(c["column_names"])
        for c in inspect(engine).get_unique_constraints("async_jobs")
    }
    engine.dispose()
    return found


def test_0008_scopes_idempotency_keys_by_customer_and_downgrades(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    upgrade(url, "0007_fact_rows_latest")
    assert _unique_constraints(url)["uq_async_jobs_idempotency"] == [
        "merchant_id",
        "idempotency_key",
    ]
    upgrade(url, "0008")
    after = _unique_constraints(url)
    assert "uq_async_jobs_idempotency" not in after
    assert after["uq_async_jobs_customer_idempotency"] == [
        "merchant_id",
        "customer_id",
        "idempotency_key",
    ]

    # Two customers of one merchant used "k": downgrading keeps the oldest job's key.
    engine = create_engine(url)
    with engine.begin() as conn:
        for job_id, customer_id, key in ((1, 1, "k"), (2, 2, "k"), (3, 3, "other")):
            conn.execute(
                text(
                    "INSERT INTO async_jobs (id, uuid, merchant_id, customer_id, request_body,"
                    " webhook_url, idempotency_key, body_hash, status, compute_failures,"
                    " webhook_id, created_at, updated_at) VALUES (:id, :uuid, 1, :customer,"
                    " '{}', 'https://example.com', :key, 'h', 'queued', 0, :uuid,"
                    " '2026-12-02', '2026-12-02')"
                ),
                {"id": job_id, "uuid": f"job-{job_id}", "customer": customer_id, "key": key},
            )
    engine.dispose()
    command.downgrade(alembic_config(url), "0007_fact_rows_latest")
    assert "uq_async_jobs_idempotency" in _unique_constraints(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        keys = conn.execute(text("SELECT id, idempotency_key FROM async_jobs ORDER BY id")).all()
    engine.dispose()
    assert [tuple(row) for row in keys] == [(1, "k"), (2, None), (3, "other")]


def _columns(url: str, table: str) -> set[str]:
    engine = create_engine(url)
    found = {str(c["name"]) for c in inspect(engine).get_columns(table)}
    engine.dispose()
    return found


def test_0011_adds_fact_notes_and_downgrades(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'notes.db'}"
    upgrade(url, "0010")
    assert "notes" not in _columns(url, "fact_coverage")
    upgrade(url, "0011")
    assert "notes" in _columns(url, "fact_coverage")
    assert "notes" in _columns(url, "fact_periods")
    command.downgrade(alembic_config(url), "0010")
    assert "notes" not in _columns(url, "fact_coverage")
    assert "notes" not in _columns(url, "fact_periods")
