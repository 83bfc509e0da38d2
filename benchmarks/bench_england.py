"""All of England: wall time, throughput and peak memory of `run(scenarios/england.yaml)`.

Run: python benchmarks/bench_england.py [--pcns N] [--threads T] [--json FILE]

The national scenario (63.7M patients, 1,250 PCNs, 6,400 practices; 1 burn-in + 1 reported year) is
simulated PCN by PCN (`pcnsim.partition`): T groups at a time in threads, so memory holds the engine
arrays of the PCNs in flight plus the whole country's weekly tallies per practice; per-patient tables are
not kept (they would need ~31 GB). --pcns runs only the first N PCNs, for a quick figure. The numba
cache is warmed first, so compile time is excluded. Peak RSS is this process's maximum resident set.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path

from report import report

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pcns", type=int, default=None, help="simulate only the first N PCNs")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    from pcnsim import memory, partition
    from pcnsim.run import run
    from pcnsim.scenario import load

    sc = load(ROOT / "scenarios" / "england.yaml")
    if args.pcns:
        sc = sc.model_copy(update={"pcns": sc.pcns[: args.pcns]})
    run(None, years=1, reps=1, patients=False)  # load the compiled kernels
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    res = run(sc, reps=1, threads=args.threads, patients=False)
    wall = time.perf_counter() - started
    years = sc.simulation.burn_in_years + sc.simulation.years
    bytes_per_patient = memory.per_patient_bytes(sc)
    report({
        "patients": sc.n_patients,
        "pcns": len(sc.pcns),
        "practices": len(res.practice_names),
        "groups_simulated_apart": len(partition.groups(sc)),
        "largest_group_patients": memory.largest_group(sc),
        "threads": args.threads,
        "years_simulated": years,
        "wall_seconds": wall,
        "wall_seconds_per_simulated_year": wall / years,
        "patient_days_per_second": res.patient_days / wall,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_before_run_mib": rss_before,
        "state_bytes_per_patient": bytes_per_patient["state"],
        "workspace_bytes_per_patient": bytes_per_patient["workspace"],
        "leaver_bytes_per_patient": bytes_per_patient["leavers"],
        "whole_place_engine_gib_if_one_model": sc.n_patients * sum(bytes_per_patient.values()) / 2**30,
    }, args.json)


if __name__ == "__main__":
    main()
