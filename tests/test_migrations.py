"""The migrations form one line of history and build the schema the models declare."""

from __future__ import annotations

from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

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
