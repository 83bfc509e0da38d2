"""A/B of the engine in two checkouts on one fixed window of days: is a kernel change faster?

Run: python benchmarks/ab_kernels.py OTHER_CHECKOUT [--procs 8] [--reps 30]

e.g. `git worktree add /tmp/before HEAD~1`, then `python benchmarks/ab_kernels.py /tmp/before`. Each
process imports pcnsim from one checkout, runs the baseline's 1-year burn-in, snapshots the state and
then times the same 28 days (one monthly pass included) `--reps` times, restoring the snapshot before
each; it reports the least time. Processes alternate between the two checkouts, and the script prints
the least and the median of the processes' minima for each.

Why this way: on a shared machine a whole run's speed varies from minute to minute by more than the
changes worth measuring. The minimum over many repeats of a fixed window drops the disturbed repeats, and
alternating processes spreads the slow minutes over both sides (stepping two models in one process
alternately biases one side). The first process of each checkout compiles its kernels into that
checkout's numba cache, so run each once first. The engine runs on one thread in both checkouts (older
checkouts could split a run over two).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WINDOW = 28  # days: four weeks, one monthly pass


def child(checkout: str, reps: int) -> None:
    sys.path.insert(0, checkout)
    import numpy as np

    import pcnsim

    if not pcnsim.__file__.startswith(checkout):
        sys.exit(f"pcnsim came from {pcnsim.__file__}, not {checkout}")
    from pcnsim import engine
    from pcnsim.model import PCNModel
    from pcnsim.run import resolve_scenario

    model = PCNModel(resolve_scenario(None, years=1), seed=1000)
    for _ in range(52):  # the burn-in year
        model.step()
    parts = [model.state, model.tally, model.workspace]
    snapshot = [[a.copy() if isinstance(a, np.ndarray) else None for a in p] for p in parts]
    d0 = model.day
    times = []
    for _ in range(reps):
        for part, saved in zip(parts, snapshot, strict=True):
            for a, b in zip(part, saved, strict=True):
                if b is not None:
                    np.copyto(a, b)
        started = time.perf_counter()
        engine.advance(model.state, model.params, model.tally, model.workspace, d0, d0 + WINDOW)
        times.append(time.perf_counter() - started)
    print(min(times))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("other", type=Path, help="the checkout to compare this one with")
    ap.add_argument("--procs", type=int, default=8, help="processes per checkout")
    ap.add_argument("--reps", type=int, default=30, help="timed windows per process (the least counts)")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.reps)
        return
    if not (args.other / "pcnsim" / "engine").is_dir():
        sys.exit(f"ab_kernels: {args.other} is not a pcnsim checkout")
    sides = {"other": str(args.other.resolve()), "this": str(ROOT)}
    minima: dict[str, list[float]] = {name: [] for name in sides}
    for p in range(args.procs):
        for name in (("other", "this") if p % 2 == 0 else ("this", "other")):
            out = subprocess.run([sys.executable, __file__, str(args.other), "--child", sides[name],
                                  "--reps", str(args.reps)],
                                 capture_output=True, text=True, cwd="/")
            if out.returncode:
                sys.exit(f"ab_kernels: the {name} checkout failed:\n{out.stderr[-2000:]}")
            minima[name].append(float(out.stdout.split()[-1]) * 1e3)
            print(f"{name:5s} {minima[name][-1]:7.2f} ms", flush=True)
    for name, ms in minima.items():
        print(f"{name:5s} ({sides[name]}): least {min(ms):.2f} ms, median of minima {statistics.median(ms):.2f} ms "
              f"for {WINDOW} days of 42,000 patients")
    ratio = statistics.median(minima["other"]) / statistics.median(minima["this"])
    print(f"this checkout is {ratio:.3f}x the other (median of minima)")


if __name__ == "__main__":
    main()
