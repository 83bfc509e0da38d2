"""Where a two-thread day goes: each engine thread's time in each phase of `kernels.run_days`, in us a day.

Run: python benchmarks/phases.py [--reps 5] [--split 0.5 ...]

After the baseline's burn-in, both threads run one simulated year in a single call of a copy of
`run_days` that reads the CPU's cycle counter between its phases: the monthly pass (averaged over the
days), the patient pass, each thread placing its requests in booking order (and thread 0 joining the
lists), the end of the sort and booking (thread 0) against the contacts booked on earlier days (thread
1), settling, and the waits at each barrier. The best of `--reps` years is shown. The
copy calls the engine's own kernels in the same order as `run_days`; to show that it still does, the
script then runs the same year with the engine and checks that both leave identical state and tallies
(edit this copy whenever `run_days` changes). `--split` moves the boundary between the threads' slots
(a share of the list for thread 0; the engine uses 0.5). Compiling the copy takes ~30 s.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from pcnsim import engine
from pcnsim.engine import kernels as K
from pcnsim.engine.state import DAYS_PER_MONTH
from pcnsim.model import PCNModel
from pcnsim.run import resolve_scenario

PHASES = ("monthly pass (averaged)", "patient pass", "wait", "place requests, join lists", "wait",
          "end of sort, booking | earlier contacts", "wait", "settle", "wait")
SORT_END = len(PHASES)  # thread 0's end of the sort, counted apart from booking
DAYS = SORT_END + 1  # days counted


@intrinsic
def cycles(typingctx):
    """The CPU's cycle counter (x86 TSC: constant rate)."""
    def codegen(context, builder, sig, args):
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.IntType(64), []),
                                            "llvm.readcyclecounter")
        return builder.call(fn, [])
    return types.int64(), codegen


@njit(_nrt=False, nogil=True, error_model="numpy")
def lap(acc, tid, phase, since):
    """Add the cycles since `since` to acc[tid, phase]; returns the count now (the next phase's start)."""
    now = cycles()
    acc[tid, phase] += now - since
    return now


@njit(_nrt=False, nogil=True, error_model="numpy")
def timed_days(S, P, T, T1, W, d0, d1, tid, nt, acc):
    """`kernels.run_days` (thread `tid` of `nt`) with a cycle count added to acc[tid, phase] between phases."""
    Tt = T if tid == 0 else T1
    for day in range(d0, d1):
        t = cycles()
        if day % DAYS_PER_MONTH == 0 and not K.monthly_update(S, P, T, T1, W, day, tid, nt):
            return
        t = lap(acc, tid, 0, t)
        K.begin_day(S, P, Tt, W, day, tid, nt)
        t = lap(acc, tid, 1, t)
        if not K.meet(W, tid, nt):
            return
        t = lap(acc, tid, 2, t)
        K.place_requests(W, tid, nt)
        if tid == 0:
            K.gather(S, P, W, day, nt)
        t = lap(acc, tid, 3, t)
        if not K.meet(W, tid, nt):
            return
        t = lap(acc, tid, 4, t)
        if tid == nt - 1:
            K.visit_contacts(S, P, Tt, W, day, 0, W.n[4], 0, S.patients.shape[0])
        if tid == 0:
            K.insertion_pass(W.sorted_key, W.order, W.n[1])
            t = lap(acc, tid, SORT_END, t)
            K.book(S, P, T, W, day, W.order)
        t = lap(acc, tid, 5, t)
        if not K.meet(W, tid, nt):
            return
        t = lap(acc, tid, 6, t)
        K.settle(S, P, Tt, W, day, tid)
        t = lap(acc, tid, 7, t)
        if not K.meet(W, tid, nt):
            return
        lap(acc, tid, 8, t)
        acc[tid, DAYS] += 1
    if tid == 0:
        K.end_days(S, P, T, T1, W, d0, d1, nt)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5, help="simulated years timed; the fastest is shown")
    ap.add_argument("--split", type=float, nargs="+", default=[0.5], help="thread 0's share of the slots")
    args = ap.parse_args()
    model = PCNModel(resolve_scenario(None, years=2), seed=1000, threads=2)
    for _ in range(52):  # the burn-in year
        model.step()
    S, P, T, T1, W = model.state, model.params, model.tally, model.second_tally, model.workspace
    W.sync[K.MAIL_STOP] = 1  # the engine's own second thread leaves: this script starts its own
    time.sleep(0.2)
    parts = (S, T, T1, W)
    saved = [[a.copy() if isinstance(a, np.ndarray) and a is not W.sync else None for a in part] for part in parts]

    def restore():
        for part, copies in zip(parts, saved, strict=True):
            for a, b in zip(part, copies, strict=True):
                if b is not None:
                    np.copyto(a, b)
        W.sync[:K.MAIL] = 0

    n, d0, d1 = S.pid.shape[0], model.day, model.day + engine.DAYS_PER_YEAR
    restore()
    timed_days(S, P, T, T, W, d0, d0 + 1, 0, 1, np.zeros((2, DAYS + 1), np.int64))  # compile outside the timing
    for split in args.split:
        best = None
        for _ in range(args.reps):
            restore()
            W.bounds[:] = (0, int(n * split), n)
            acc = np.zeros((2, DAYS + 1), np.int64)
            second = threading.Thread(target=timed_days, args=(S, P, T, T1, W, d0, d1, 1, 2, acc))
            started = time.perf_counter()
            second.start()
            timed_days(S, P, T, T1, W, d0, d1, 0, 2, acc)
            second.join()
            seconds = time.perf_counter() - started
            if best is None or seconds < best[0]:
                best = (seconds, acc)
        seconds, acc = best
        days = acc[0, DAYS]
        acc[0, 5] += acc[0, SORT_END]  # the end of the sort and booking, one phase of thread 0
        per_us = acc[:, :SORT_END].sum() / 2 / seconds / 1e6  # cycle counts per microsecond
        print(f"split {split:.3f}: {days} days in {seconds * 1e3:.1f} ms, {seconds / days * 1e6:.1f} us a day "
              f"({n * days / seconds / 1e6:.0f}M patient-days/s); us a day, thread 0 | thread 1:")
        for j, name in enumerate(PHASES):
            print(f"  {name:40s} {acc[0, j] / days / per_us:6.1f} | {acc[1, j] / days / per_us:6.1f}")
        print(f"  {'(of which the end of the sort)':40s} {acc[0, SORT_END] / days / per_us:6.1f}")
    after = [[a.copy() if isinstance(a, np.ndarray) and a is not W.sync else None for a in part] for part in parts]
    restore()
    W.bounds[:] = (0, n // 2, n)
    for d in range(d0, d1, 7):
        engine.advance(S, P, T, W, d, min(d + 7, d1), T1)
    same = all(b is None or np.array_equal(a, b) for part, copies in zip(parts[:2], after[:2], strict=True)
               for a, b in zip(part, copies, strict=True))  # S and T (T1 keeps only scratch: its half's leavers)
    if not same:
        sys.exit("phases.py: the timed copy of run_days no longer gives the engine's numbers; bring it up to date")
    print("the timed copy gives the engine's numbers (state and tallies identical after the year)")


if __name__ == "__main__":
    main()
