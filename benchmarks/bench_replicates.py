"""Many replicates of one PCN: wall time of `run(baseline, years=5, reps=100)` on every core.

Run: python benchmarks/bench_replicates.py [--reps 100] [--years 5] [--patients [--save]] [--json FILE]

Replicates run side by side in threads (the numba kernels release the GIL), one per core. By default
the per-patient yearly tables are not kept (weekly tallies only), as for a throughput run; --patients
keeps them, and --save also times what `pcnsim run` does next with the all-core run's results: the
summary (from the per-patient table) and writing the results directory (summary included, made afresh),
and reports the process's peak resident memory.
The numba cache is warmed first, so compile time is excluded.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

from report import report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=100)
    ap.add_argument("--years", type=int, default=5, help="reported years (after the 1-year burn-in)")
    ap.add_argument("--patients", action="store_true", help="also keep the per-patient yearly tables")
    ap.add_argument("--save", action="store_true", help="with --patients: also time the summary and the save")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    if args.save and not args.patients:
        ap.error("--save needs --patients")
    from pcnsim.run import run

    run(None, years=1, reps=1, patients=False)  # load the compiled kernels
    result = {"reps": args.reps, "years_reported": args.years, "patients_tables": args.patients,
              "threads": os.cpu_count()}
    for threads in (1, os.cpu_count() or 1):
        res = None  # the one-core run's results go before the next run, or the peak would hold both
        started = time.perf_counter()
        res = run(None, years=args.years, reps=args.reps, patients=args.patients, threads=threads)
        wall = time.perf_counter() - started
        result[f"wall_seconds_{threads}_thread"] = wall
        result[f"patient_days_per_second_{threads}_thread"] = res.patient_days / wall
    if args.save:
        result["patient_table_rows"] = sum(len(t) for t in res.patient_tables)  # as `pcnsim run`, not joined
        started = time.perf_counter()
        res.summary()
        result["summary_seconds"] = time.perf_counter() - started
        res.extra.clear()  # the save makes the summary afresh, as `pcnsim run` does
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            res.save(Path(tmp) / "results")
            result["save_seconds"] = time.perf_counter() - started
        result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # of either run
    report(result, args.json)


if __name__ == "__main__":
    main()
