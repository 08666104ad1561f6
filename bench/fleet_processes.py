"""The fleet bench's child processes, each on the simulated clock (bench/fleet_clock.py):

    python -m bench.fleet_processes emulator --port P --latency-ms L
    python -m bench.fleet_processes worker

`emulator` serves the Instagram emulator (its generated accounts, each metered on the
simulated hour) with bench/sandbox_server.py's control API; `worker` is
`metrics-connect worker` (its settings from the environment) with the service's clock
replaced by the simulated one.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import uvicorn

from bench.fleet_clock import SimulatedClock
from bench.sandbox_server import control_app
from metrics_connect import clock
from metrics_connect.networks.instagram_business.emulator.network import InstagramSandboxNetwork
from metrics_connect.sandbox.registry import build_sandbox


def emulator(port: int, latency_ms: float) -> None:
    sim = SimulatedClock.from_env()
    network = build_sandbox("instagram_business")
    assert isinstance(network, InstagramSandboxNetwork)
    network.controls.clock = sim
    network.controls.switches.latency_seconds = latency_ms / 1000
    network.fleet.usage_clock = lambda: sim.now().timestamp()
    uvicorn.run(
        control_app(network), host="127.0.0.1", port=port, log_level="warning", access_log=False
    )


def worker() -> int:
    from metrics_connect.jobs.worker import run_worker
    from metrics_connect.settings import get_settings

    clock.set_clock(SimulatedClock.from_env().now)
    return run_worker(get_settings())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("role", choices=("emulator", "worker"))
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    args = parser.parse_args()
    if args.role == "emulator":
        emulator(args.port, args.latency_ms)
    else:
        raise SystemExit(worker())


if __name__ == "__main__":
    main()
