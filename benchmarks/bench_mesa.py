"""The engine against an idiomatic Mesa implementation of the same daily rules, side by side.

Run: python benchmarks/bench_mesa.py [--scale 0.1] [--json benchmarks/results/mesa.json]

Both simulate the same scenario: the calibrated baseline with every list size and PCN-funded FTE scaled
by `--scale` (0.1: 4,200 patients), one year from day 0. The Mesa model (tests/mesa_reference.py) has
every patient as a `mesa.Agent` and runs event for event with the engine (checked here: the same number
of touchpoints, and tests/test_reference.py checks every event). Engine time excludes compilation.
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
        arrs = pcn["arrs_fte"] if pcn["arrs_fte"] is not None else data["workforce"]["pcn_fte"]
        pcn["arrs_fte"] = {r: v * scale for r, v in arrs.items()}
        for p in pcn["practices"]:
            p["list_size"] = max(1, round(p["list_size"] * scale))
    from pcnsim.scenario import from_dict

    return from_dict(data)


def engine_run(params, lay, days: int):
    from pcnsim import engine, population

    s = population.synthesise(params, lay)
    t = engine.allocate_tally(params.working.shape[0] // 7 + 1, lay.n_practices, lay.n_units,
                              exit_capacity=len(s.pid), ledger_capacity=len(s.pid) * 40)
    w = engine.allocate_workspace(len(s.pid), len(lay.pcn_names))
    started = time.perf_counter()
    engine.advance(s, params, t, w, 0, days)
    if days % 364 == 0:
        engine.close_year(s, t, days)
    return time.perf_counter() - started, int(t.n_ledger[0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=0.1, help="list sizes and PCN FTE x this (0.1: 4,200 patients)")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures to this JSON file")
    args = ap.parse_args()
    from pcnsim import params as params_mod
    from pcnsim.engine.state import DAYS_PER_YEAR
    from tests import mesa_reference

    sc = scaled_baseline(args.scale)
    p, lay = params_mod.build(sc, seed=1)
    engine_run(p, lay, 28)  # compile or load the kernels outside the timing
    # Best of several runs each (the machine's speed varies by +-15%): 10 of the engine, 3 of Mesa.
    engine_seconds = min(engine_run(p, lay, DAYS_PER_YEAR)[0] for _ in range(10))
    _, engine_touchpoints = engine_run(p, lay, DAYS_PER_YEAR)
    mesa_seconds = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        mesa_result = mesa_reference.simulate(p, lay, DAYS_PER_YEAR)
        mesa_seconds = min(mesa_seconds, time.perf_counter() - started)
    assert len(mesa_result.ledger) == engine_touchpoints, "the Mesa model and the engine disagree"
    patient_days = sc.n_patients * DAYS_PER_YEAR
    result = {
        "patients": sc.n_patients, "days": DAYS_PER_YEAR, "touchpoints": engine_touchpoints,
        "engine_seconds": engine_seconds, "mesa_seconds": mesa_seconds,
        "engine_patient_days_per_second": patient_days / engine_seconds,
        "mesa_patient_days_per_second": patient_days / mesa_seconds,
        "speed_ratio": mesa_seconds / engine_seconds,
    }
    report(result, args.json)


if __name__ == "__main__":
    main()
