"""The simulation engine: numba kernels over arrays of patient state (no mesa, pydantic or I/O here).

Modules by what they model: `demography`, `complexity`, `episodes`, `seeking` (onset, care seeking,
triage), `diary` (booking), `contacts`, `continuity` (of GP care), `hospital` (A&E and admissions),
`casefinding`, `counters` and `yearend`; `day` declares the daily step order (`STEPS`) and runs it.
Infrastructure: `state` (the arrays' layout), `clocks`, `sorting`, `rng`, `hints`, `prefetch` and
`bitscan` (compiler intrinsics), `config` (numba flags and the compiled-code cache). The functions below
are the thin validating wrappers the model calls.
"""

import numpy as np

from ..vocab import DAYS_PER_YEAR
from .day import STEPS, YEAR_CLOSED, YEAR_CLOSED_ZEROED, YEAR_ON, run_days
from .demography import init_population
from .diary import init_diary
from .state import (
    EPISODE_SLOTS,
    NEVER,
    Params,
    State,
    Tally,
    Workspace,
    allocate_state,
    allocate_tally,
    allocate_workspace,
    empty_on_small_pages,
)

__all__ = [
    "DAYS_PER_YEAR",
    "EPISODE_SLOTS",
    "NEVER",
    "STEPS",
    "Params",
    "State",
    "Tally",
    "Workspace",
    "advance",
    "allocate_state",
    "allocate_tally",
    "allocate_workspace",
    "compiled",
    "empty_on_small_pages",
    "populate",
]


def populate(state: State, params: Params, practice_of_slot: np.ndarray) -> None:
    """Draw the initial list (person ids from `params.first_pid`) and open the booking diaries at day 0."""
    if practice_of_slot.shape != state.pid.shape:
        raise ValueError("practice_of_slot must have one entry per patient slot")
    if practice_of_slot.size and practice_of_slot.max() >= params.practice_pcn.shape[0]:
        raise ValueError("practice_of_slot names a practice the parameters do not have")
    init_population(state.kernel, params, practice_of_slot.astype(np.int32))
    init_diary(state.kernel, params, 0)


def advance(state: State, params: Params, tally: Tally, workspace: Workspace, d0: int, d1: int,
            year_end: bool = False, rows_at: int | None = None, zero_counters: bool = False) -> None:
    """Run days [d0, d1) of the daily step.

    With `year_end` (d1 a year boundary), then close the year: unmet episode-days are accounted up to d1,
    so the yearly counters are complete, and, given `rows_at`, the year's rows of the per-patient table are
    written to `tally.table` from that row: one per patient slot (in slot order), then one per leaver of
    the year (`tally.n_exits` of them, which the caller then sets to 0). With `zero_counters` the slots'
    counters are then zeroed for the next year; without, the caller can read them."""
    n_days = params.working.shape[0]
    if not 0 <= d0 <= d1 <= n_days:
        raise ValueError(f"days [{d0}, {d1}) outside the run's calendar [0, {n_days})")
    if year_end and d1 % DAYS_PER_YEAR:
        raise ValueError(f"day {d1} is not a year boundary")
    if zero_counters and not year_end:
        raise ValueError("the counters are zeroed only at a year end")
    if rows_at is not None and not (year_end and 0 <= rows_at and rows_at + state.pid.shape[0]
                                    + tally.exit_meta.shape[0] <= tally.table[0].shape[0]):
        raise ValueError(f"the year's rows from row {rows_at} do not fit in the table's "
                         f"{tally.table[0].shape[0]} rows (or the year does not end)")
    if tally.weekly.shape[0] * 7 < n_days:
        raise ValueError("tally has fewer weeks than the calendar")
    if workspace.active.shape[0] != state.pid.shape[0]:
        raise ValueError("workspace was allocated for a different number of patients")
    ending = YEAR_ON if not year_end else YEAR_CLOSED_ZEROED if zero_counters else YEAR_CLOSED
    run_days(state.kernel, params, tally, workspace, d0, d1, ending, -1 if rows_at is None else rows_at)


def compiled() -> bool:
    """Whether the kernels Python calls are compiled for these sources: in this process, or in the cache on
    disk (`config.register_cache`), so a run starts without compiling. True without the JIT."""
    for kernel in (run_days, init_population, init_diary):
        if not hasattr(kernel, "signatures") or kernel.signatures:
            continue
        cache_file = getattr(getattr(kernel, "_cache", None), "_cache_file", None)
        try:
            if not cache_file._load_index():
                return False
        except Exception:  # an unreadable or foreign index: it would be recompiled
            return False
    return True
