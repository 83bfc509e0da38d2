"""The engine against an idiomatic Mesa implementation of the same daily rules, side by side.

Run: python benchmarks/bench_mesa.py [--scale 0.1] [--speed-scale 1.0] [--json benchmarks/results/mesa.json]

The Mesa model (tests/mesa_reference.py) has every patient as a `mesa.Agent` and runs event for event with
the engine. Both simulate the calibrated baseline with every list size and PCN-funded FTE scaled by
`--scale` (0.1: 4,200 patients), one year from day 0, and must agree (here: the same number of
touchpoints; tests/test_reference.py checks every event). Speed is then measured on that small list and
on the baseline itself (`--speed-scale`, 42,000 patients): the engine on one thread (one core) with the
touchpoint ledger (the Mesa model's output), against the Mesa model on one core. Engine time excludes
compilation.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from report import report

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def scaled_baseline(scale: float):
    from pcnsim.scenario import load

    sc = load(ROOT / "scenarios" / "baseline.yaml")
    data = sc.model_dump()
    data["simulation"]["burn_in_years"] = 0
    data["simulation"]["years"] = 1
    for pcn in data["pcns"]:
        pcn["arrs_fte"] = {r: v * scale for r, v in sc.pcn_funded_fte(sc.pcns[0]).items()}
        for p in pcn["practices"]:
            p["list_size"] = max(1, round(p["list_size"] * scale))
    from pcnsim.scenario import from_dict

    return from_dict(data)


def engine_run(params, lay, days: int):
    """Seconds to simulate `days` from day 0 (a fresh population), and the touchpoints logged."""
    from pcnsim import engine, population

    s = population.synthesise(params, lay)
    n_weeks, n = params.working.shape[0] // 7 + 1, len(s.pid)
    t = engine.allocate_tally(n_weeks, lay.n_practices, lay.n_units, exit_capacity=n,
                              ledger_capacity=n * 40)
    w = engine.allocate_workspace(n, len(lay.pcn_names))
    started = time.perf_counter()
    engine.advance(s, params, t, w, 0, days, year_end=days % 364 == 0)
    return time.perf_counter() - started, int(t.n_ledger[0])


def best_of(reps: int, fn) -> float:
    """Least wall time of `reps` calls (the machine's speed varies by +-15% from run to run)."""
    least = float("inf")
    for _ in range(reps):
        started = time.perf_counter()
        fn()
        least = min(least, time.perf_counter() - started)
    return least


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=0.1, help="list sizes and PCN FTE x this (0.1: 4,200 patients)")
    ap.add_argument("--speed-scale", type=float, default=1.0,
                    help="also time both on the baseline scaled by this (1: the baseline's 42,000 patients; 0: skip)")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures to this JSON file")
    args = ap.parse_args()
    from pcnsim import params as params_mod
    from pcnsim.vocab import DAYS_PER_YEAR
    from tests import mesa_reference

    sc = scaled_baseline(args.scale)
    p, lay = params_mod.build(sc, seed=1)
    engine_run(p, lay, 28)  # compile or load the kernels outside the timing
    # Best of several runs each: 10 of the engine, 3 of Mesa.
    engine_seconds = min(engine_run(p, lay, DAYS_PER_YEAR)[0] for _ in range(10))
    _, engine_touchpoints = engine_run(p, lay, DAYS_PER_YEAR)
    mesa_result = mesa_reference.simulate(p, lay, DAYS_PER_YEAR)
    assert len(mesa_result.ledger) == engine_touchpoints, "the Mesa model and the engine disagree"
    mesa_seconds = best_of(3, lambda: mesa_reference.simulate(p, lay, DAYS_PER_YEAR))
    patient_days = sc.n_patients * DAYS_PER_YEAR
    result = {
        "patients": sc.n_patients, "days": DAYS_PER_YEAR, "touchpoints": engine_touchpoints,
        "engine_seconds": engine_seconds, "mesa_seconds": mesa_seconds,
        "engine_patient_days_per_second": patient_days / engine_seconds,
        "mesa_patient_days_per_second": patient_days / mesa_seconds,
        "speed_ratio": mesa_seconds / engine_seconds,
    }
    if args.speed_scale > 0:
        big = scaled_baseline(args.speed_scale)
        p, lay = params_mod.build(big, seed=1)
        one = min(engine_run(p, lay, DAYS_PER_YEAR)[0] for _ in range(5))
        mesa_big = best_of(2, lambda: mesa_reference.simulate(p, lay, DAYS_PER_YEAR))
        result.update({
            "baseline_patients": big.n_patients,
            "baseline_engine_seconds": one,
            "baseline_mesa_seconds": mesa_big,
            "baseline_mesa_patient_days_per_second": big.n_patients * DAYS_PER_YEAR / mesa_big,
            "baseline_speed_ratio": mesa_big / one,
        })
    report(result, args.json)


if __name__ == "__main__":
    main()
