"""The benchmark's outputs: a table on stdout, JSON, and a section of BENCHMARKS.md."""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SECTION_START = "<!-- bench/run.py: start -->"
SECTION_END = "<!-- bench/run.py: end -->"

# The targets (2 cores).
TARGET_WARM_P50_MS = 50.0
TARGET_SEED_RPS = 500.0
TARGET_PEAK_MB = 250.0
TARGET_COLD_OVER_PATH = 1.5


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": memory_gb,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "commit": commit or None,
        "at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def _f(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _check(ok: bool | None) -> str:
    return "-" if ok is None else ("met" if ok else "MISSED")


def rows(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(measure, value, target, verdict) rows for the table and the Markdown section."""
    out: list[tuple[str, str, str, str]] = []
    cold = results.get("cold")
    if cold:
        minimal = cold.get("minimal_calls", cold["plan_calls"])
        calls_ok = cold["upstream_http_requests"] == minimal
        by_kind = cold.get("minimal_by_kind", cold["plan_by_kind"])
        ratio = cold["wall_over_critical_path"]
        out += [
            (
                "cold: 87 widgets, 365 d + comparison, wall",
                f"{cold['wall_seconds']:.2f} s (HTTP {cold['status']})",
                "",
                "",
            ),
            ("cold: widgets answered / failed", _outcomes(cold["outcomes"]), "", ""),
            (
                "cold: upstream HTTP calls vs minimal plan",
                f"{cold['upstream_http_requests']} vs {minimal} "
                f"({cold['upstream_endpoint_calls']} Graph operations)",
                "equal",
                _check(calls_ok),
            ),
            (
                "cold: by kind, emulator vs minimal plan (direct / list page / batch)",
                " / ".join(
                    f"{cold['upstream_by_kind'].get(k, 0)} vs {by_kind.get(k, 0)}"
                    for k in ("direct", "list page", "batch")
                ),
                "equal",
                _check(
                    all(
                        cold["upstream_by_kind"].get(k, 0) == by_kind.get(k, 0)
                        for k in ("direct", "list page", "batch")
                    )
                ),
            ),
            (
                "cold: ?explain=true's plan, exact + estimated (paged fetches)",
                _explained(cold),
                "",
                "",
            ),
            (
                "cold: plan critical path",
                f"{cold['plan_critical_path_calls']} calls x {cold['latency_ms']:.0f} ms = "
                f"{cold['critical_path_seconds']:.2f} s",
                "",
                "",
            ),
            (
                "cold: wall / critical path",
                _f(ratio, 2),
                f"<= {TARGET_COLD_OVER_PATH}",
                _check(None if ratio is None else ratio <= TARGET_COLD_OVER_PATH),
            ),
            (
                "cold: critical path of the minimal plan (the real list pages and batches)",
                f"{cold['critical_path_calls_with_paging']} calls = "
                f"{cold['critical_path_calls_with_paging'] * cold['latency_ms'] / 1000:.2f} s "
                f"(wall / it = {_f(_ratio(cold), 2)})",
                "",
                "",
            ),
        ]
    warm = results.get("warm")
    if warm:
        lat = warm["load"]["latency"]
        out += [
            (
                f"warm: same request x {lat['count']}, p50 / p95 / p99",
                f"{lat['p50_ms']:.1f} / {lat['p95_ms']:.1f} / {lat['p99_ms']:.1f} ms",
                f"p50 < {TARGET_WARM_P50_MS:.0f} ms",
                _check(lat["p50_ms"] < TARGET_WARM_P50_MS),
            ),
            (
                "warm: upstream calls, errors, same answer as cold",
                f"{warm['upstream_http_requests']}, {warm['load']['errors']}, "
                f"{warm['same_answer_as_cold']}",
                "0, 0, True",
                _check(
                    warm["upstream_http_requests"] == 0
                    and warm["load"]["errors"] == 0
                    and warm["same_answer_as_cold"]
                ),
            ),
        ]
    for run in results.get("throughput", []):
        label = (
            f"throughput {run['mode']} ({run['api_processes']} API proc., c={run['concurrency']})"
        )
        seed, healthz = run["seed"], run["healthz"]
        target = f">= {TARGET_SEED_RPS:.0f} req/s" if run["api_processes"] == 1 else ""
        verdict = (
            _check(seed["requests_per_second"] >= TARGET_SEED_RPS and seed["errors"] == 0)
            if run["api_processes"] == 1
            else ""
        )
        out += [
            (
                f"{label}: seed request",
                f"{seed['requests_per_second']:.0f} req/s, {seed['errors']} errors, "
                f"p95 {seed['latency']['p95_ms']:.1f} ms",
                target,
                verdict,
            ),
            (
                f"{label}: GET /healthz",
                f"{healthz['requests_per_second']:.0f} req/s, {healthz['errors']} errors "
                f"(seed/healthz = {_f(run['ratio_seed_to_healthz'], 2)})",
                "",
                "",
            ),
        ]
        for key, path in (
            ("merchant_settings", "GET /merchants/settings"),
            ("customer_integrations", "GET /customer-integrations"),
        ):
            read = run.get(key)
            if not read:
                continue
            share = read["requests_per_second"] / seed["requests_per_second"]
            out.append(
                (
                    f"{label}: {path}",
                    f"{read['requests_per_second']:.0f} req/s, {read['errors']} errors, "
                    f"p95 {read['latency']['p95_ms']:.1f} ms (x{share:.2f} the seed's req/s)"
                    if seed["requests_per_second"]
                    else f"{read['requests_per_second']:.0f} req/s, {read['errors']} errors",
                    "about the seed's",
                    "",
                )
            )
    cpu = results.get("cpu_per_request")
    if cpu:
        for name, cost in cpu.items():
            if isinstance(cost, dict):
                out.append(
                    (
                        f"CPU per request, in-process: {name}",
                        f"{cost['cpu_ms']:.2f} ms CPU ({cost['wall_ms']:.2f} ms wall), "
                        f"so at most {1000 / cost['cpu_ms']:.0f} req/s per core",
                        "",
                        "",
                    )
                )
    for skipped in results.get("skipped", []):
        out.append((skipped["what"], "not run", "", skipped["why"]))
    for jobs in results.get("async", []):
        e2e = jobs["end_to_end_ms"]
        out.append(
            (
                f"async ({jobs['mode']}): {jobs['jobs']} jobs to a local receiver",
                f"{jobs['jobs_per_second']} deliveries/s, end-to-end p50 / p95 "
                f"{_f(e2e['p50'], 0)} / {_f(e2e['p95'], 0)} ms; {jobs['delivered']} delivered, "
                f"{jobs['lost']} lost, {jobs['duplicates']} duplicates",
                "0 lost",
                _check(jobs["lost"] == 0),
            )
        )
    for process in results.get("memory", []):
        out.append(
            (
                f"peak RSS: {_process_label(process)} ({process['mode']}) pid {process['pid']}",
                f"{process['peak_rss_mb']:.0f} MB",
                f"< {TARGET_PEAK_MB:.0f} MB",
                _check(process["peak_rss_mb"] < TARGET_PEAK_MB),
            )
        )
    return out


def _process_label(process: dict[str, Any]) -> str:
    command = str(process.get("command", ""))
    if "resource_tracker" in command:
        return "API resource tracker"
    if "spawn" in command:
        return "API worker process"
    return str(process["role"])


def _ratio(cold: dict[str, Any]) -> float | None:
    seconds = cold["critical_path_calls_with_paging"] * cold["latency_ms"] / 1000
    return cold["wall_seconds"] / seconds if seconds else None


def _explained(cold: dict[str, Any]) -> str:
    """explain's calls, and for each paged fetch its estimate against the truth."""
    text = (
        f"{cold['plan_calls']} = {cold.get('plan_exact_calls', '-')} exact + "
        f"{cold.get('plan_estimated_calls', '-')} estimated"
    )
    parts = [
        f"{p['dataset']}: {p['explain_calls']} estimated ({_basis(p)}) "
        f"vs {p['calls']} minimal ({p['pages']} pages + {p['batches']} batches for "
        f"{p['truth']['stories_in_span' if p['dataset'] == 'stories' else 'in_span']} "
        "in the span)"
        for p in cold.get("minimal_paged", [])
    ]
    return "; ".join([text, *parts])


def _basis(paged: dict[str, Any]) -> str:
    if not paged.get("explain_basis"):
        return "no basis"
    objects = paged.get("explain_objects")
    return paged["explain_basis"] + (f", {objects} objects" if objects is not None else "")


def _outcomes(outcomes: dict[str, int]) -> str:
    ok = outcomes.get("ok", 0)
    failed = {k.removeprefix("error:"): v for k, v in outcomes.items() if k != "ok"}
    detail = ", ".join(f"{k} {v}" for k, v in sorted(failed.items()))
    return f"{ok} answered" + (f"; failed: {detail}" if detail else "")


def table(results: dict[str, Any]) -> str:
    data = [("measure", "value", "target", "verdict"), *rows(results)]
    widths = [max(len(r[i]) for r in data) for i in range(4)]
    lines = []
    for index, row in enumerate(data):
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write_json(results: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, sort_keys=True, default=str) + "\n")


def markdown_section(results: dict[str, Any], notes: str) -> str:
    m = results["machine"]
    lines = [
        SECTION_START,
        "## Load and latency (bench/run.py)",
        "",
        f"Run {m['at']} at commit `{m['commit']}` with `{results['command']}`: "
        f"{m['nproc']} cores ({m['cpu']}), {m['memory_gb']} GB memory, Python {m['python']}. "
        f"Load average (1, 5, 15 min) {m['load_average_at_start']} at the start, "
        f"{m.get('load_average_at_end')} at the end. "
        f"Emulator latency {results['latency_ms']:.0f} ms per upstream call. "
        "How to run it and what each figure means: [docs/benchmarks.md](docs/benchmarks.md).",
        "",
        "| measure | value | target | verdict |",
        "|---|---|---|---|",
    ]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows(results)]
    if notes.strip():
        lines += ["", notes.strip()]
    lines += ["", SECTION_END]
    return "\n".join(lines) + "\n"


def record(results: dict[str, Any], path: Path, notes: str = "") -> None:
    """Replace this benchmark's section of BENCHMARKS.md (others' sections stay)."""
    section = markdown_section(results, notes)
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(SECTION_START) + r".*?" + re.escape(SECTION_END) + r"\n?", re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section, text)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)
