"""The benchmark's curves as pictures (docs/benchmarks.md): written by bench/run.py
beside its JSON and linked from BENCHMARKS.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: no display

import matplotlib.pyplot as plt

MB = 1024 * 1024


def plot_history(history: dict[str, Any], path: Path) -> Path:
    """Cost against history length (bench/history.py's result): CPU per request and fact
    statements of the 30-day dashboard, and the database's size, per archived days.
    The format follows the file's suffix (.svg, .png)."""
    points = history["points"]
    days = [p["archived_days"] for p in points]
    figure, (cost, size) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
    cost.plot(days, [p["cpu_ms"] for p in points], marker="o", label="CPU per request (ms)")
    cost.plot(
        days,
        [p["fact_statements"] for p in points],
        marker="s",
        linestyle="--",
        label="statements on fact tables",
    )
    cost.set_title(f"{history['dashboard_days']}-day dashboard, read from the store")
    cost.set_xlabel("days of archive")
    cost.set_ylim(bottom=0)
    cost.legend(loc="lower right")
    cost.grid(alpha=0.3)
    size.plot(days, [p["db_bytes"] / MB for p in points], marker="o", color="tab:green")
    size.set_title("database size (one integration)")
    size.set_xlabel("days of archive")
    size.set_ylabel("MB")
    size.set_ylim(bottom=0)
    size.grid(alpha=0.3)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, metadata={"Date": None} if path.suffix == ".svg" else None)
    plt.close(figure)
    return path
