"""Engine speed on the baseline scenario: patient-days per second, compile time and peak memory.

Run: python benchmarks/bench_engine.py [--years 5] [--reps 3] [--json benchmarks/results/engine.json]

One run is timed (the engine runs one thread per run; replicates and groups of PCNs run side by side).
Compile time is measured in a fresh subprocess with an empty numba cache directory (cold) and again with
that cache filled (warm start); the speed figure excludes compilation: the model is built and stepped
one week first, then the rest of the run is timed. Patient-days count every simulated day, burn-in
included.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from report import report

COMPILE_PROBE = """
import time
t = time.perf_counter()
from pcnsim.model import PCNModel
from pcnsim.scenario import load
m = PCNModel(load(), seed=1)
m.step()
print(time.perf_counter() - t)
"""


def compile_seconds(cache_dir: str) -> float:
    env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir}
    out = subprocess.run([sys.executable, "-c", COMPILE_PROBE], env=env, check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def speed(years: int, reps: int) -> dict:
    """Best patient-days per second of one run over `reps` runs (the machine's speed drifts from minute to
    minute), stepped as `pcnsim.run` steps it (`WEEKS_PER_CALL` weeks an engine call, the yearly patient
    tables kept)."""
    from pcnsim.model import PCNModel
    from pcnsim.run import WEEKS_PER_CALL, resolve_scenario

    sc = resolve_scenario(None, years=years)
    rates = []
    for r in range(reps):
        model = PCNModel(sc, seed=1000 + r)
        model.step()  # compile (or load from cache) outside the timed part
        days_before = model.day
        t = time.perf_counter()
        while not model.finished:
            model.advance(WEEKS_PER_CALL)
        dt = time.perf_counter() - t
        rates.append(sc.n_patients * (model.day - days_before) / dt)
        del model
        gc.collect()  # a Mesa model and its agents form cycles: free it before the next (peak RSS: one run)
    return {
        "scenario": "baseline",
        "patients": sc.n_patients,
        "years_simulated": sc.simulation.burn_in_years + years,
        "patient_days_per_second": max(rates),
        "patient_days_per_second_all": rates,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--years", type=int, default=5, help="reported years (after a 1-year burn-in)")
    ap.add_argument("--reps", type=int, default=3, help="timed runs; the best is reported")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures to this JSON file")
    ap.add_argument("--no-compile", action="store_true", help="skip the cold/warm compile measurement")
    args = ap.parse_args()
    result = speed(args.years, args.reps)
    if not args.no_compile:
        with tempfile.TemporaryDirectory() as cache:
            result["compile_cold_seconds"] = compile_seconds(cache)
            result["start_warm_seconds"] = compile_seconds(cache)
    report(result, args.json)


if __name__ == "__main__":
    main()
