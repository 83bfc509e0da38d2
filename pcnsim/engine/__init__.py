"""The simulation engine: numba kernels over arrays of patient state (no mesa, pydantic or I/O here).

`STEPS` declares the daily step order once; `kernels.run_days` runs it and `pcnsim describe` prints it.
The functions below are thin validating wrappers over the kernels.
"""

import atexit
import itertools
import threading
from typing import NamedTuple

import numba
import numpy as np

from . import kernels
from .state import (
    DAYS_PER_MONTH,
    DAYS_PER_YEAR,
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

# A run's engine can use two threads (`advance(..., second=...)`); not without the JIT, where the
# threads' spin barriers would take turns on the GIL.
SPLITS = not numba.config.DISABLE_JIT

STEPS = (
    ("1 demography", "every 4 weeks: ageing, deaths, births, leavers and new registrations; complexity "
                     "moves up with unmet need and down with needs met by a service that fits; complex-care "
                     "case finding fills the team's caseload"),
    ("2 onset", "new need episodes (type and urgency) and self-resolution of open ones"),
    ("3 care seeking", "patients whose next contact day is today decide whether to ask (access propensity); "
                       "those who do not may go straight to A&E"),
    ("4 triage", "each request is routed to a role by need type (a referral sends it to the referred role; "
                 "an enrolled patient's complex, mental-health and social needs go to the complex-care team)"),
    ("5 booking", "same-day/urgent requests take today's reserved slots, routine ones the earliest free slot "
                  "within the horizon; own practice first, then the network pool, then any network-of-networks "
                  "pool; taken by urgency, then a counter-based random priority; GP as the fall-back role"),
    ("6 unserved", "no slot: ask again on the next working day, or go to A&E with a probability rising "
                   "with urgency, days waited, age and deprivation"),
    ("7 contacts", "did-not-attend (rises with lead time) or attend: resolution from the match matrix; "
                   "otherwise a revisit is scheduled, with outpatient and role referrals"),
    ("8 A&E", "background, direct and spill-over attendances; admission by age and complexity; A&E "
              "rarely resolves social or complex needs, which return"),
    ("9 ledgers", "touchpoints by setting per patient and per practice-week, capacity offered and used"),
)

__all__ = [
    "DAYS_PER_MONTH",
    "DAYS_PER_YEAR",
    "EPISODE_SLOTS",
    "NEVER",
    "SPLITS",
    "STEPS",
    "Params",
    "State",
    "Tally",
    "Workspace",
    "advance",
    "allocate_state",
    "allocate_tally",
    "allocate_workspace",
    "empty_on_small_pages",
    "populate",
]


def populate(state: State, params: Params, practice_of_slot: np.ndarray) -> None:
    """Draw the initial list (person ids from `params.first_pid`) and open the booking diaries at day 0."""
    if practice_of_slot.shape != state.pid.shape:
        raise ValueError("practice_of_slot must have one entry per patient slot")
    if practice_of_slot.size and practice_of_slot.max() >= params.practice_pcn.shape[0]:
        raise ValueError("practice_of_slot names a practice the parameters do not have")
    kernels.init_population(state, params, practice_of_slot.astype(np.int32))
    kernels.init_diary(state, params, 0)


def advance(state: State, params: Params, tally: Tally, workspace: Workspace, d0: int, d1: int,
            second: Tally | None = None, year_end: bool = False, rows_at: int | None = None,
            zero_counters: bool = False) -> int:
    """Run days [d0, d1) of the daily step; on two threads when given a `second` tally (the second thread's,
    allocated like `tally`, with room for the leavers of half the list in a month), with the same numbers.

    With `year_end` (d1 a year boundary), then close the year, each thread its slots: unmet episode-days
    are accounted up to d1, so the yearly counters are complete, and, given `rows_at`, the year's rows of
    the per-patient table are written to `tally.table` from that row: one per patient slot (in slot order),
    then one per leaver of the year (`tally.n_exits` of them, which the caller then sets to 0). With
    `zero_counters` the slots' counters are then zeroed for the next year; without, the caller can read
    them.

    Returns how many barrier waits outlasted spinning (a thread waited over a millisecond for its partner:
    other work is taking the cores, and one thread would be faster for a while); 0 on one thread."""
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
    at = -1 if rows_at is None else rows_at
    ending = (kernels.YEAR_ON if not year_end else
              kernels.YEAR_CLOSED_ZEROED if zero_counters else kernels.YEAR_CLOSED)
    if tally.weekly.shape[0] * 7 < n_days:
        raise ValueError("tally has fewer weeks than the calendar")
    if workspace.active.shape[0] != state.pid.shape[0]:
        raise ValueError("workspace was allocated for a different number of patients")
    n = state.pid.shape[0]
    if second is None:
        workspace.bounds[:] = (0, n, n)
        kernels.run_days(state, params, tally, tally, workspace, d0, d1, ending, at, 0, 1)
        return 0
    if tally.ledger_on or second.weekly.shape != tally.weekly.shape:
        raise ValueError("a second thread needs a tally shaped like the first, and no touchpoint ledger")
    if second.exit_meta.shape[0] <= state.pid.shape[0] - state.pid.shape[0] // 2:
        raise ValueError("the second thread's tally has no room for a month's leavers of its half")
    workspace.bounds[:] = (0, n // 2, n)
    workspace.sync[:kernels.MAIL] = 0  # barrier counts; thread 1, if already serving, is between jobs
    try:
        _post(state, params, tally, second, workspace, d0, d1, ending, at)
        kernels.run_days(state, params, tally, second, workspace, d0, d1, ending, at, 0, 2)
    except BaseException:  # e.g. Ctrl-C before this thread entered the kernel: call the job off
        workspace.sync[1] = 1
        raise
    finally:
        kernels.await_done(workspace)  # the second thread has finished (or left) before its arrays are read
    return int(workspace.sync[9] + workspace.sync[9 + 8])  # each thread's napped waits (`kernels.meet`)


class _Helper(NamedTuple):
    """A second thread in `kernels.serve`: the ids of the arrays it serves (its arguments hold them, so
    the ids stay theirs while it lives), its serial number (also in the mailbox, telling a workspace
    allocated where a freed one was from the one served), the thread and the mailbox's array."""

    serving: tuple[int, ...]
    serial: int
    thread: threading.Thread
    sync: np.ndarray


_helpers: dict[int, _Helper] = {}  # by id(workspace.sync)
_helpers_lock = threading.Lock()
_serials = itertools.count(1)


def _post(state: State, params: Params, tally: Tally, second: Tally, workspace: Workspace, d0: int, d1: int,
          year_end: int, rows_at: int) -> None:
    """Hand days [d0, d1) (and the year end, `advance`) to the run's second thread (`kernels.serve`), starting
    one if none is serving these arrays: the first call, new parameters after a lever moved, or the last
    thread left after idling."""
    sync = workspace.sync
    serving = tuple(map(id, (state, params, tally, second, workspace)))
    with _helpers_lock:
        held = _helpers.get(id(sync))
        ours = held is not None and held.sync is sync and held.serial == sync[kernels.MAIL_SERIAL]
        if ours and held.serving == serving and held.thread.is_alive():
            if kernels.post(workspace, d0, d1, year_end, rows_at) != kernels.CLOSED:
                return
        if ours:  # serving other arrays, or leaving: see it out (it is between jobs)
            sync[kernels.MAIL_STOP] = 1
            held.thread.join()
        for key in [k for k, h in _helpers.items() if not h.thread.is_alive()]:
            del _helpers[key]
        sync[kernels.MAIL:] = 0
        sync[kernels.MAIL_SERIAL] = serial = next(_serials)
        # posted before the thread starts: it cannot leave with a job waiting
        kernels.post(workspace, d0, d1, year_end, rows_at)
        thread = threading.Thread(target=kernels.serve, args=(state, params, tally, second, workspace),
                                  daemon=True, name="pcnsim-engine")
        thread.start()  # between jobs it spins, then naps: the kernels release the GIL
        _helpers[id(sync)] = _Helper(serving, serial, thread, sync)


@atexit.register
def _stop_helpers() -> None:
    """Let second threads leave before the interpreter frees what they read (they are between jobs)."""
    with _helpers_lock:
        for held in _helpers.values():
            held.sync[kernels.MAIL_STOP] = 1
        for held in _helpers.values():
            held.thread.join(timeout=1)
