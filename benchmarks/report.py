"""Print a benchmark's figures one per line and, when asked, write them as JSON (shared by the scripts)."""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

import numpy as np


def host_speed() -> dict:
    """Two fixed probes of the machine's speed, taken with each benchmark: the development machine is a
    virtual machine whose host changes (on 2026-12-03 every benchmark ran ~1.5-2.5x faster than the day
    before, the Mesa model most), so figures from different days compare only with these beside them.
    A pure-Python loop (what the Mesa model's speed follows) and a NumPy sort (compiled code); best of 5."""
    def best(fn) -> float:
        times = []
        for _ in range(5):
            started = time.perf_counter()
            fn()
            times.append(time.perf_counter() - started)
        return min(times)

    def loop():
        x = 0
        for i in range(1_000_000):
            x += i

    keys = np.random.default_rng(0).integers(0, 2**62, 1_000_000)
    return {"cpu": _cpu_name(), "python_loop_1m_ms": best(loop) * 1e3,
            "numpy_sort_1m_ms": best(lambda: np.sort(keys, kind="quicksort")) * 1e3}


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def report(result: dict, json_path: Path | None = None) -> None:
    result = {**result, "host": host_speed()}
    width = max(map(len, result)) + 2
    for key, value in result.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k} {v:,.1f}" if isinstance(v, float) else f"{k} {v}" for k, v in value.items())
        shown = f"{value:,.2f}" if isinstance(value, float) else f"{value:,}" if isinstance(value, int) else value
        print(f"{key:{width}s} {shown}")
    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(result, indent=2))
