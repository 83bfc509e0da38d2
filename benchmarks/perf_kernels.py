"""Where the engine's time goes, kernel by kernel and instruction by instruction (Linux perf sampling).

Run: python benchmarks/perf_kernels.py [--years 2] [--top 12] [--mesa-scale 0.1]

numba's compiled code is anonymous memory to perf, so this compiles the kernels afresh (into a temporary
numba cache, ~1 minute) and keeps their object code, then runs the baseline from that cache under
`perf record -e cpu-clock` and maps each sample back to a kernel and an instruction of the object code.
It prints each kernel's share of the samples and, for the busiest kernels, the hottest instructions
with their neighbours. A sample lands on the instruction after the one that stalled (skid), and a
mispredicted branch charges the instructions after it, so read the hot spots with their context.
Needs perf, nm and objdump.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def child(workdir: Path, years: int, stage: str, mesa_scale: float | None) -> None:
    """'compile': compile into the (empty) numba cache and save run_days's object code. 'run': load that
    object from the cache (so the code that runs is laid out as the saved object; a fresh compile
    resolves shared helpers to other copies), save the address of run_days and simulate the baseline
    (or, with `mesa_scale`, bench_mesa.py's engine run: its scaled baseline's first year, 20 times)."""
    from pcnsim.engine import advance
    from pcnsim.engine.day import run_days
    from pcnsim.model import PCNModel
    from pcnsim.run import resolve_scenario

    if mesa_scale is not None:
        sys.path.insert(0, str(Path(__file__).parent))
        from bench_mesa import engine_run, scaled_baseline

        from pcnsim import params

        p, lay = params.build(scaled_baseline(mesa_scale), seed=1)
        engine_run(p, lay, 7)
    else:
        model = PCNModel(resolve_scenario(None, years=years), seed=1)
        advance(model.state, model.params, model.tally, model.workspace, 0, 7)
    cres = next(iter(run_days.overloads.values()))
    if stage == "compile":
        (workdir / "kernels.o").write_bytes(cres.library.serialize_using_object_code()[2][0])
        return
    address = cres.library.get_pointer_to_function(cres.fndesc.llvm_func_name)
    (workdir / "run_days.addr").write_text(str(address))
    started = time.perf_counter()
    if mesa_scale is not None:
        seconds = sum(engine_run(p, lay, 364)[0] for _ in range(20))
        print(f"simulated 20 years (364 days) in {seconds:.2f} s of engine time")
        return
    advance(model.state, model.params, model.tally, model.workspace, 7, model.params.working.shape[0])
    print(f"simulated {model.params.working.shape[0] - 7} days in {time.perf_counter() - started:.2f} s")


def short_name(symbol: str) -> str:
    """'module.function' of a numba-mangled engine symbol (..6engine<n><module><m><function>B..), or the
    symbol's start."""
    m = re.search(r"6engine(\d+)", symbol)
    if m:
        at = m.end() + int(m.group(1))
        module = symbol[m.end():at]
        n = re.match(r"\d+", symbol[at:])
        if n:
            return f"{module}.{symbol[at + n.end():at + n.end() + int(n.group())]}"
    return symbol[:40]


def kernels_in(obj: Path) -> list[tuple[int, int, str]]:
    """(offset, size, 'module.function') of each compiled pcnsim function in the object file."""
    out = []
    for line in subprocess.run(["nm", "-S", str(obj)], capture_output=True, text=True, check=True).stdout.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[2] in "TtWw" and "pcnsim" in parts[3] and "cpython" not in parts[3]:
            out.append((int(parts[0], 16), int(parts[1], 16), short_name(parts[3])))
    return out


def disassemble(obj: Path, start: int, stop: int) -> list[tuple[int, str]]:
    text = subprocess.run(["objdump", "-d", "--no-show-raw-insn", "-M", "intel", f"--start-address={start}",
                           f"--stop-address={stop}", str(obj)], capture_output=True, text=True, check=True).stdout
    lines = []
    for line in text.splitlines():
        m = re.match(r"\s+([0-9a-f]+):\s+(.*)", line)
        if m:
            lines.append((int(m.group(1), 16), re.sub(r"\s*<[^>]*>", "", m.group(2))))
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--years", type=int, default=2, help="reported years after the burn-in")
    ap.add_argument("--top", type=int, default=12, help="hot instructions shown per kernel")
    ap.add_argument("--mesa-scale", type=float, default=None,
                    help="profile bench_mesa.py's engine run instead (its baseline x this; 0.1: 4,200 patients)")
    ap.add_argument("--child", type=Path, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--stage", choices=("compile", "run"), default="run", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.years, args.stage, args.mesa_scale)
        return
    missing = [tool for tool in ("perf", "nm", "objdump") if shutil.which(tool) is None]
    if missing:
        sys.exit(f"perf_kernels: needs {', '.join(missing)} on PATH")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = dict(os.environ, NUMBA_CACHE_DIR=str(work / "numba"))
        data = work / "perf.data"
        me = [sys.executable, __file__, "--child", str(work), "--years", str(args.years)]
        if args.mesa_scale is not None:
            me += ["--mesa-scale", str(args.mesa_scale)]
        print("compiling the kernels into a fresh cache (about a minute)...", flush=True)
        subprocess.run([*me, "--stage", "compile"], env=env, check=True)
        subprocess.run(["perf", "record", "-q", "-e", "cpu-clock", "-F", "10000", "-o", str(data), *me],
                       env=env, check=True)
        ips = [int(x, 16) for x in subprocess.run(["perf", "script", "-i", str(data), "-F", "ip"],
                                                  capture_output=True, text=True, check=True).stdout.split()]
        obj = work / "kernels.o"
        found = kernels_in(obj)
        base = int((work / "run_days.addr").read_text()) - next(o for o, _, n in found if n == "day.run_days")
        per_kernel: collections.Counter = collections.Counter()
        per_offset: collections.Counter = collections.Counter()
        for ip in ips:
            offset = ip - base
            for start, size, name in found:
                if start <= offset < start + size:
                    per_kernel[name] += 1
                    per_offset[offset] += 1
                    break
        inside = sum(per_kernel.values())
        print(f"{len(ips):,} samples, {inside:,} in the kernels (the rest: Python, compiling, the OS)")
        for name, n in per_kernel.most_common():
            print(f"  {100 * n / inside:5.1f}%  {name}")
        for name, _ in per_kernel.most_common(3):
            start, size, _ = next(k for k in found if k[2] == name)
            lines = disassemble(obj, start, start + size)
            total = per_kernel[name]
            hot = {a for a, _ in sorted(lines, key=lambda x: -per_offset[x[0]])[: args.top]}
            print(f"\n{name}: hottest instructions (share of the kernel's samples; the 4 before each, for context)")
            shown = set()
            for i, (address, _) in enumerate(lines):
                if address not in hot:
                    continue
                for a, text in lines[max(0, i - 4): i + 1]:
                    if a not in shown:
                        shown.add(a)
                        share = 100 * per_offset[a] / total
                        print(f"  {a:7x} {share:5.1f}%  {text[:90]}")
                print("  ...")


if __name__ == "__main__":
    main()
