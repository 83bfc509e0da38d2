"""Cold compile of the engine: wall time of the first `run` in a fresh cache, and each kernel's own share.

Run: python3 benchmarks/compile_times.py [--top 15] [--json benchmarks/results/compile.json]

A fresh, empty cache folder is used (NUMBA_CACHE_DIR, read by the engine's cache locator), so the machine's
own cache is left alone. Each kernel's time comes from numba's event API ("numba:compile" events, nested:
a kernel's time includes the kernels it compiles first); its self time excludes them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--top", type=int, default=15, help="kernels to list, by self time")
    ap.add_argument("--json", type=Path, help="write the figures here")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        os.environ["NUMBA_CACHE_DIR"] = cache
        from numba.core import event

        from pcnsim.run import run

        spans: list[tuple[str, float, float]] = []
        starts: dict[int, float] = {}

        class Listener(event.Listener):
            def on_start(self, ev):
                starts[id(ev.data["dispatcher"])] = time.perf_counter()

            def on_end(self, ev):
                d = ev.data["dispatcher"]
                spans.append((d.py_func.__module__ + "." + d.py_func.__qualname__, starts.pop(id(d)),
                              time.perf_counter()))

        listener = Listener()
        event.register("numba:compile", listener)
        t0 = time.perf_counter()
        run(years=1, seed=1)
        cold = time.perf_counter() - t0
        event.unregister("numba:compile", listener)
    t0 = time.perf_counter()
    run(years=1, seed=1)
    warm_run = time.perf_counter() - t0
    self_time = {}
    for name, a, b in spans:  # a span's self time: its length less the spans directly inside it
        inner = sum(e - s for n, s, e in spans if a < s and e < b and not any(
            a < s2 < s and e < e2 < b for _, s2, e2 in spans))
        self_time[name] = self_time.get(name, 0.0) + (b - a - inner)
    top = sorted(self_time.items(), key=lambda kv: -kv[1])[: args.top]
    print(f"kernel self times add up to {sum(self_time.values()):.1f} s")
    print(f"cold first run (compile included): {cold:.1f} s; kernels compiled: {len(spans)}; "
          f"second run in the same process: {warm_run:.2f} s")
    for name, seconds in top:
        print(f"  {seconds:7.2f} s  {name}")
    if args.json:
        args.json.write_text(json.dumps({"cold_first_run_s": round(cold, 2), "kernels": len(spans),
                                         "self_seconds": {k: round(v, 3) for k, v in top}}, indent=1) + "\n")


if __name__ == "__main__":
    sys.exit(main())
