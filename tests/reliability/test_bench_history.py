"""The benchmark's history curve (bench/history.py, bench/plot.py) on tiny data: the
archive cut to its last days, the summary and its verdicts, and the picture."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from bench import report
from bench.history import archived_days, summarize, truncated_copy
from bench.plot import plot_history
from sqlalchemy import create_engine

from metrics_connect.engine.tables import metadata

TODAY = date(2026, 3, 10)


def point(days: int, cpu_ms: float, db_bytes: int, statements: int = 20) -> dict[str, Any]:
    return {
        "history_days": days,
        "archived_days": days + 1,
        "db_bytes": db_bytes,
        "cpu_ms": cpu_ms,
        "cpu_ms_median": cpu_ms,
        "fact_statements": statements,
        "failed_widgets": [],
    }


def test_the_archive_is_cut_to_its_last_days(tmp_path: Path) -> None:
    template = tmp_path / "template.db"
    engine = create_engine(f"sqlite:///{template}")
    metadata.create_all(engine)
    engine.dispose()
    # SQLite does not enforce the integration's foreign key unless asked.
    with sqlite3.connect(template) as conn:
        for n in range(400):
            day = (TODAY - timedelta(days=n)).isoformat()
            conn.execute(
                "INSERT INTO fact_rows (integration_id, dataset, variant, day, keys, vals) "
                "VALUES (1, 'd', '-', ?, '{}', ?)",
                (day, '{"x": ' + str(n) + ", " + '"pad": "' + "x" * 200 + '"}'),
            )
    short = truncated_copy(template, tmp_path / "short.db", 90, TODAY)
    long = truncated_copy(template, tmp_path / "long.db", 365, TODAY)
    assert archived_days(tmp_path / "short.db") == 90
    assert archived_days(tmp_path / "long.db") == 365
    assert short < long < template.stat().st_size


def test_flat_cost_is_met_and_growing_cost_missed() -> None:
    flat = summarize(
        [point(90, 10.0, 3_000_000), point(1095, 11.0, 40_000_000)],
        [{"w": {"values": 1}}, {"w": {"values": 1}}],
        repeat=3,
    )
    assert flat["same_answer"] and flat["statements_equal"]
    assert flat["bytes_per_integration_year"] == pytest.approx(37e6 / (1005 / 365.25))
    verdicts = {row[0]: row[3] for row in report.history_rows(flat)}
    assert set(verdicts.values()) == {"", "met"}

    growing = summarize(
        [point(90, 10.0, 3_000_000), point(1095, 30.0, 40_000_000, statements=21)],
        [{"w": {"values": 1}}, {"w": {"values": 2}}],
        repeat=3,
    )
    assert growing["differing_widgets"] == ["w"]
    missed = [row[0] for row in report.history_rows(growing) if row[3] == "MISSED"]
    assert len(missed) == 3  # the CPU growth, the statements, the answer


@pytest.mark.parametrize("suffix", [".svg", ".png"])
def test_the_history_plot_is_drawn_from_tiny_data(tmp_path: Path, suffix: str) -> None:
    history = summarize(
        [point(90, 10.0, 3_000_000), point(365, 10.5, 13_000_000), point(1095, 9.8, 40_000_000)],
        [{}, {}, {}],
        repeat=1,
    )
    path = plot_history(history, tmp_path / "plots" / f"history{suffix}")
    data = path.read_bytes()
    if suffix == ".svg":
        assert data.lstrip().startswith(b"<?xml") and b"<svg" in data
    else:
        assert data.startswith(b"\x89PNG")
    assert len(data) > 1000


def test_the_benchmarks_section_shows_the_history_picture(tmp_path: Path) -> None:
    history = summarize(
        [point(90, 10.0, 3_000_000), point(1095, 10.2, 40_000_000)], [{}, {}], repeat=1
    )
    results = {
        "command": "bench/run.py --quick",
        "latency_ms": 100.0,
        "machine": {**report.machine(), "load_average_at_end": [1.0, 1.0, 1.0]},
        "history": history,
        "history_plot": "bench/results/history.svg",
    }
    path = tmp_path / "BENCHMARKS.md"
    report.record(results, path)
    text = path.read_text()
    assert "![Cost against history length](bench/results/history.svg)" in text
    assert "| history: database bytes per integration-year" in text
