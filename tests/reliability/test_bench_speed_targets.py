"""bench/run.py's verdicts on issue 21's throughput and async rows (bench/report.py)."""

from __future__ import annotations

from typing import Any

from bench import report


def _throughput(mode: str, processes: int, seed_rps: float, healthz_rps: float) -> dict[str, Any]:
    def load(rps: float) -> dict[str, Any]:
        return {"requests_per_second": rps, "errors": 0, "latency": {"p95_ms": 50.0}}

    return {
        "mode": mode,
        "api_processes": processes,
        "concurrency": 32,
        "seed": load(seed_rps),
        "healthz": load(healthz_rps),
        "ratio_seed_to_healthz": seed_rps / healthz_rps,
    }


def _async(mode: str, rate: float, p95_ms: float, lost: int = 0) -> dict[str, Any]:
    return {
        "mode": mode,
        "jobs": 1000,
        "jobs_per_second": rate,
        "end_to_end_ms": {"p50": p95_ms / 2, "p95": p95_ms},
        "delivered": 1000 - lost,
        "lost": lost,
        "duplicates": 0,
    }


def _verdicts(results: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {measure: (target, verdict) for measure, _, target, verdict in report.rows(results)}


def test_seed_over_healthz_rows_carry_their_targets_and_verdicts() -> None:
    rows = _verdicts(
        {
            "throughput": [
                _throughput("embedded", 1, 636.0, 2272.0),  # 0.28
                _throughput("postgres+redis", 2, 700.0, 2500.0),  # 0.28, above embedded
            ]
        }
    )
    embedded = "throughput embedded (1 API proc., c=32)"
    distributed = "throughput postgres+redis (2 API proc., c=32)"
    assert rows[f"{embedded}: seed / healthz"] == (">= 0.5", "MISSED")
    assert rows[f"{distributed}: seed / healthz"] == (">= 0.25", "met")
    assert rows[f"{distributed}: seed request"] == ("not below 1 embedded process", "met")

    slower = _verdicts(
        {
            "throughput": [
                _throughput("embedded", 1, 1200.0, 2000.0),  # 0.6
                _throughput("postgres+redis", 2, 362.0, 3620.0),  # 0.10, below embedded
            ]
        }
    )
    assert slower[f"{embedded}: seed / healthz"] == (">= 0.5", "met")
    assert slower[f"{distributed}: seed / healthz"] == (">= 0.25", "MISSED")
    assert slower[f"{distributed}: seed request"] == ("not below 1 embedded process", "MISSED")


def test_async_rows_judge_rate_p95_and_the_distributed_mode_against_embedded() -> None:
    embedded = "embedded, SQLite"
    distributed = "redis, 2 worker processes, PostgreSQL"
    rows = _verdicts(
        {"async": [_async(embedded, 320.0, 4000.0), _async(distributed, 300.0, 3000.0, lost=1)]}
    )
    assert rows[f"async ({embedded}): 1000 jobs to a local receiver"] == (
        ">= 300/s, p95 <= 5 s",
        "met",
    )
    assert rows[f"async ({distributed}): 1000 jobs to a local receiver"] == (
        ">= embedded",
        "MISSED",
    )
    assert rows[f"async ({distributed}): delivered, lost, duplicates"][1] == "MISSED"

    slow = _verdicts({"async": [_async(embedded, 320.0, 16100.0)]})  # p95 over 5 s
    assert slow[f"async ({embedded}): 1000 jobs to a local receiver"][1] == "MISSED"


def test_job_cost_rows_show_cpu_and_round_trips_per_job() -> None:
    costs = {
        "mode": "embedded queue, PostgreSQL",
        "cpu_ms_per_job": {"accept": 2.5, "steps": 8.0},
        "per_job": {
            "accept": {"postgresql round trips": 3.0, "statements": 1.0, "transactions": 1.0},
            "steps": {"postgresql round trips": 11.6, "statements": 5.8, "transactions": 4.4},
        },
    }
    values = {measure: value for measure, value, _, _ in report.rows({"job_costs": [costs]})}
    steps = values[
        "async job cost (embedded queue, PostgreSQL), steps: CPU and round trips per job"
    ]
    assert steps == "8.00 ms CPU; 11.6 postgresql round trips, 5.8 statements"
