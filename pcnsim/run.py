"""`run(scenario, seed=..., years=...) -> Results`: the one entry point every interface uses."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from . import churn, memory
from . import scenario as scenario_mod
from .model import PCNModel
from .results import Results
from .scenario import Scenario


def replicate_seeds(root: int, reps: int) -> list[int]:
    """Independent run seeds for replicates, spawned from the root seed (SeedSequence)."""
    return [int(child.generate_state(1, np.uint64)[0]) for child in np.random.SeedSequence(root).spawn(reps)]


def resolve_scenario(scenario: Scenario | str | Path | None, years: int | None = None) -> Scenario:
    """A Scenario object from an object, a YAML path or None (the embedded baseline); optional horizon."""
    sc = scenario if isinstance(scenario, Scenario) else scenario_mod.load(scenario)
    if years is not None and years != sc.simulation.years:
        sc = sc.model_copy(deep=True)
        sc.simulation.years = years
    return sc


def run(
    scenario: Scenario | str | Path | None = None,
    seed: int | None = None,
    years: int | None = None,
    reps: int = 1,
    replicates: Sequence[int] | None = None,
    threads: int | None = None,
    ledger: bool = False,
    patients: bool = True,
    progress: Callable[[int], None] | None = None,
) -> Results:
    """Simulate a scenario for `reps` replicates and return their results.

    seed: root seed (default: the scenario's `simulation.seed`); replicate seeds are spawned from it,
    so the same scenario and seed always give identical numbers. replicates: run only these replicate
    indices (0 to reps - 1), e.g. one per sweep task; each gives what it gives in the full run.
    threads: replicates simulated at once (default: one per core); each replicate is computed alone, so
    the numbers do not depend on it. progress: called with the number of days just simulated (for
    progress bars; from several threads when threads > 1).
    """
    if reps < 1:
        raise ValueError("reps must be at least 1")
    sc = resolve_scenario(scenario, years)
    n_runs = reps if replicates is None else len(replicates)
    memory.check(sc, n_runs, ledger, patients, at_once=min(n_runs, threads or os.cpu_count() or 1),
                 source=scenario if isinstance(scenario, (str, Path)) else None)
    root = sc.simulation.seed if seed is None else int(seed)
    chosen = list(range(reps)) if replicates is None else list(replicates)
    if not chosen or not all(0 <= r < reps for r in chosen):
        raise ValueError(f"replicates must be indices in [0, {reps})")
    all_seeds = replicate_seeds(root, reps)
    seeds = [all_seeds[r] for r in chosen]
    started = time.perf_counter()
    n_threads = max(1, min(len(chosen), threads or os.cpu_count() or 1))

    def one(job: tuple[int, int]) -> PCNModel:
        model = PCNModel(sc, job[1], replicate=job[0], ledger=ledger, keep_patients=patients)
        while not model.finished:
            d0 = model.day
            model.step()  # the kernels release the GIL, so replicates in threads run side by side
            if progress is not None:
                progress(model.day - d0)
        return model

    jobs = list(zip(chosen, seeds, strict=True))
    if n_threads == 1:
        models = [one(job) for job in jobs]
    else:
        with ThreadPoolExecutor(max_workers=n_threads) as pool:
            models = list(pool.map(one, jobs))  # in replicate order, whatever finishes first
    weekly, offered, used, tables, ledgers = [], [], [], [], []
    for model in models:
        first_week = model.burn_in_years * 52
        last_week = model.n_days // 7
        weekly.append(model.tally.weekly[first_week:last_week])
        offered.append(model.tally.cap_offered[first_week:last_week])
        used.append(model.tally.cap_used[first_week:last_week])
        tables.extend(model.year_tables)
        ledgers.extend(model.ledger_tables)
    model = models[-1]
    assert model is not None
    return Results(
        scenario=sc,
        root_seed=root,
        seeds=seeds,
        practice_names=model.layout.practice_names,
        unit_names=model.layout.unit_names,
        weekly=np.stack(weekly),
        capacity_offered=np.stack(offered),
        capacity_used=np.stack(used),
        patients=churn.add_fa_flags(pd.concat(tables, ignore_index=True)) if tables else None,
        ledger=pd.concat(ledgers, ignore_index=True) if ledgers else None,
        wall_seconds=time.perf_counter() - started,
        patient_days=int(sc.n_patients) * model.n_days * len(seeds),
    )
