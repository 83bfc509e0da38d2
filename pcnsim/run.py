"""`run(scenario, seed=..., years=...) -> Results`: the one entry point every interface uses."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import churn, dictionary, engine, memory, params, partition
from . import scenario as scenario_mod
from .model import PCNModel
from .partition import PersonIds
from .results import Results, join_tables
from .scenario import Scenario
from .vocab import DAYS_PER_YEAR

# Weeks per engine call: fewer calls have less overhead, while a quarter still lets the progress bar move.
WEEKS_PER_CALL = 13


def engine_ready() -> bool:
    """Whether the engine is compiled for this machine (in this process or in its cache on disk)."""
    return engine.compiled()


def compile_engine() -> float:
    """Compile the engine (once for a machine and a version of its sources) by simulating a tiny list for a
    year through the same path as any run; returns the seconds it took."""
    started = time.perf_counter()
    tiny = scenario_mod.load(overrides={
        "name": "warm-up", "simulation": {"burn_in_years": 0, "years": 1},
        "pcns": [{"name": "warm-up PCN", "practices": [{"name": "warm-up practice", "list_size": 200}]}]})
    run(tiny, seed=0, threads=1)
    return time.perf_counter() - started


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
    progress: Callable[[float], None] | None = None,
) -> Results:
    """Simulate a scenario for `reps` replicates and return their results.

    seed: root seed (default: the scenario's `simulation.seed`); replicate seeds are spawned from it,
    so the same scenario and seed always give identical numbers. replicates: run only these replicate
    indices (0 to reps - 1), e.g. one per sweep task; each gives what it gives in the full run.
    threads: replicates, and independent groups of PCNs of a larger place (`pcnsim.partition`), simulated
    at once (default: one per core); each is computed alone, so the numbers do not depend on it, and
    memory holds only those in flight.
    progress: called with the whole-place days just simulated (a
    group's days count by its share of the patients; for progress bars; from several threads when
    threads > 1)."""
    if reps < 1:
        raise ValueError("reps must be at least 1")
    sc = resolve_scenario(scenario, years)
    n_runs = reps if replicates is None else len(replicates)
    cores = threads or os.cpu_count() or 1
    memory.check(sc, n_runs, ledger, patients, at_once=cores,
                 source=scenario if isinstance(scenario, (str, Path)) else None)
    root = sc.simulation.seed if seed is None else int(seed)
    chosen = list(range(reps)) if replicates is None else list(replicates)
    if not chosen or not all(0 <= r < reps for r in chosen):
        raise ValueError(f"replicates must be indices in [0, {reps})")
    all_seeds = replicate_seeds(root, reps)
    seeds = [all_seeds[r] for r in chosen]
    began = time.time()
    started = time.perf_counter()

    lay = params.layout(sc)
    parts = _parts(sc, lay)

    def one(job: tuple[int, int, int]) -> _Outcome:
        replicate, seed, p = job
        part = parts[p]
        model = PCNModel(part.scenario, seed, replicate=replicate, ledger=ledger, keep_patients=patients, ids=part.ids)
        share = part.scenario.n_patients / sc.n_patients  # progress counts whole-place days
        while not model.finished:
            d0 = model.day
            model.advance(WEEKS_PER_CALL)  # kernels release the GIL: replicates and groups in threads side by side
            if progress is not None:
                progress((model.day - d0) * share)
        outcome = _outcome(model, part, lay if len(parts) > 1 else None)
        if len(parts) == 1 and outcome.tables:  # frequent attenders rank within a replicate: flag them here,
            # side by side with the other replicates, not all at the end on one core
            outcome.tables = [churn.add_fa_flags(table) for table in outcome.tables]
        # Mesa agents and their model form reference cycles, freed only by a later garbage collection:
        # drop the engine arrays now so memory stays at the groups being simulated.
        model.state = model.tally = model.workspace = None
        model.release_patient_table()  # the outcome's table is now the only holder of its memory
        return outcome

    jobs = [(r, sd, p) for r, sd in zip(chosen, seeds, strict=True) for p in range(len(parts))]
    n_threads = max(1, min(len(jobs), cores))
    if n_threads == 1:
        outcomes = [one(job) for job in jobs]
    else:
        with ThreadPoolExecutor(max_workers=n_threads) as pool:
            outcomes = list(pool.map(one, jobs))  # in job order, whatever finishes first
    weekly, offered, used, staff, tables, ledgers = [], [], [], [], [], []
    for r in range(len(chosen)):
        mine = outcomes[r * len(parts):(r + 1) * len(parts)]
        weekly.append(_place(mine, "weekly", "practices", lay.n_practices))
        offered.append(_place(mine, "offered", "units", lay.n_units))
        used.append(_place(mine, "used", "units", lay.n_units))
        staff.append(_place(mine, "staff", "units", lay.n_units))
        tables.extend(t for o in mine for t in o.tables)
        ledgers.extend(t for o in mine for t in o.ledgers)
        for o in mine:
            o.tables = []  # the results are then the tables' one holder: a join frees each once copied
    if tables and len(parts) > 1:  # one table per group: rows by replicate and year, then group
        joined = join_tables(tables).sort_values(["replicate", "year"], kind="stable", ignore_index=True)
        tables = [churn.add_fa_flags(joined)]
    return Results(
        scenario=sc,
        root_seed=root,
        seeds=seeds,
        practice_names=lay.practice_names,
        unit_names=lay.unit_names,
        weekly=np.stack(weekly),
        capacity_offered=np.stack(offered),
        capacity_used=np.stack(used),
        staff_fte=np.stack(staff),
        patient_tables=tables,  # one a replicate, joined on first use (`Results.patients`)
        ledger=pd.concat(ledgers, ignore_index=True) if ledgers else None,
        wall_seconds=time.perf_counter() - started,
        started=began,
        patient_days=int(sc.n_patients) * outcomes[0].n_days * len(seeds),
    )


@dataclass(frozen=True)
class _Part:
    """One independent group of the place, simulated on its own (the whole place when it is one group)."""

    scenario: Scenario
    ids: PersonIds | None
    practices: np.ndarray  # index in the place of each of the part's practices
    units: np.ndarray  # ... and of each of its capacity units


@dataclass
class _Outcome:
    """What one part's run leaves once its model is dropped (reported weeks only)."""

    n_days: int
    weekly: np.ndarray
    offered: np.ndarray
    used: np.ndarray
    staff: np.ndarray  # FTE-years in post by reported year, unit and role
    tables: list
    ledgers: list
    part: _Part


def _parts(sc: Scenario, lay: params.Layout) -> list[_Part]:
    """The place's independent groups (`lay`: the place's layout)."""
    cut = partition.Partition(sc)
    if len(cut) == 1:
        return [_Part(sc, None, np.arange(lay.n_practices), np.arange(lay.n_units))]
    return [_Part(cut.scenario(g), cut.ids(g), cut.practices(g), cut.units(g)) for g in range(len(cut))]


def _outcome(model: PCNModel, part: _Part, place: params.Layout | None) -> _Outcome:
    """A finished part's tallies and tables; given the `place` it belongs to, the tables' categories name
    all the place's practices, PCNs and units, so the parts' tables concatenate."""
    first, last = model.burn_in_years * 52, model.n_days // 7
    T = model.tally
    table, ledgers = model.patient_table(), model.ledger_tables
    tables = [] if table is None else [table]
    if place is not None:
        for t in tables:
            t["practice"] = t["practice"].cat.set_categories(place.practice_names)
            t["pcn"] = t["pcn"].cat.set_categories(place.pcn_names)
            for column, codes in (("ods_code", place.practice_codes), ("pcn_code", place.pcn_codes)):
                t[column] = t[column].cat.set_categories(dictionary.code_categories(codes))
        for t in ledgers:
            t["unit"] = t["unit"].cat.set_categories(place.unit_names)
    return _Outcome(model.n_days, T.weekly[first:last].copy(), T.cap_offered[first:last].copy(),
                    T.cap_used[first:last].copy(), model.staff_days / DAYS_PER_YEAR, tables, ledgers, part)


def _place(outcomes: list[_Outcome], field: str, axis: str, size: int) -> np.ndarray:
    """One replicate's tally for the whole place, each part's rows at its practices' (units') places."""
    first = getattr(outcomes[0], field)
    if len(outcomes) == 1:
        return first
    out = np.zeros((first.shape[0], size, first.shape[2]), first.dtype)
    for o in outcomes:
        out[:, getattr(o.part, axis)] = getattr(o, field)
    return out
