"""Sweep throughput: runs per minute of 1-PCN, 3-year runs with 1 and 2 local workers and on a Dask cluster.

Run: python benchmarks/bench_sweep.py [--runs 40] [--json benchmarks/results/sweep.json]

Each configuration runs the same experiment (the calibrated baseline, 42,000 patients, 1 burn-in + 3
reported years, `--runs` replicates of one design point) into a fresh output directory, so nothing is
resumed. The Dask cluster is a scheduler and two single-threaded worker processes started here on
127.0.0.1. The wall time includes starting the pool or connecting to the cluster and warming the numba
cache on every worker, as a user would see it; the numba cache is warm beforehand.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import yaml
from report import report

ROOT = Path(__file__).resolve().parents[1]


def experiment(folder: Path, runs: int) -> Path:
    data = {"name": "throughput", "base": str(ROOT / "scenarios" / "baseline.yaml"),
            "parameters": [{"path": "booking.same_day_share", "values": [0.45]}], "design": {"kind": "grid"},
            "replicates": runs, "years": 3, "seed": 1, "metrics": ["ae_per_1000"], "output": "out"}
    path = folder / "throughput.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def timed(runs: int, **where) -> float:
    from pcnsim.experiments import sweep

    with tempfile.TemporaryDirectory() as tmp:
        path = experiment(Path(tmp), runs)
        t = time.perf_counter()
        table = sweep.sweep(path, **where)
        dt = time.perf_counter() - t
    assert len(table) == runs
    return 60.0 * runs / dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=40, help="runs per configuration (fewer mostly time the start-up)")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures to this JSON file")
    args = ap.parse_args()
    from pcnsim.experiments import executors

    executors.warm_up()
    result = {"runs": args.runs, "run": "baseline, 42,000 patients, 1 burn-in + 3 reported years",
              "cores": os.cpu_count()}
    result["runs_per_minute_1_worker"] = timed(args.runs, workers=1)
    result["runs_per_minute_2_workers"] = timed(args.runs, workers=2)
    with executors.local_cluster(2) as (address, _):
        result["runs_per_minute_dask_2_workers"] = timed(args.runs, scheduler=address)
    report(result, args.json)


if __name__ == "__main__":
    main()
