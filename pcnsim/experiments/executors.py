"""Where a sweep's runs go: this process, a local pool of worker processes, or a Dask cluster.

`executor_for` gives the sweep a `concurrent.futures.Executor` with how many runs to keep in flight and
how to shut it down; every worker loads the compiled engine before its first run (`warm_up`). Pool
workers end with the command, however it ends (`pcnsim.stops`). `local_cluster` starts a real Dask
scheduler and workers on 127.0.0.1, for tests, benchmarks and trying a cluster on one machine.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .. import stops


def warm_up() -> int:
    """Compile (or load from numba's on-disk cache) the engine in this process; returns the pid."""
    from ..run import compile_engine

    compile_engine()
    return os.getpid()


class SerialExecutor(Executor):
    """Runs each task in this process when it is submitted (the reference for parallel executors)."""

    def submit(self, fn, /, *args, **kwargs):
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # delivered through the future, as executors do
            future.set_exception(exc)
        return future


@dataclass
class Workers:
    """Where runs go: an executor, how many runs to keep in flight, and how to shut it down."""

    executor: Executor
    slots: int
    close: Callable[[], None]
    abort: Callable[[], None] | None = None  # stop now, dropping runs in flight (default: close)

    def stop(self) -> None:
        """After an interrupt: end every worker this command started, without waiting for their runs."""
        (self.abort or self.close)()


def executor_for(workers: int | None = None, scheduler: str | None = None) -> Workers:
    """A dask.distributed client's executor when a scheduler address is given, else a local process pool
    of `workers` processes (default: every core), or this process for workers=1."""
    if scheduler is not None:
        from distributed import Client

        try:
            client = Client(scheduler, timeout="15s")
        except OSError as exc:
            raise ConnectionError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
        client.run(warm_up)  # every worker loads the compiled engine before the first task
        threads = sum(client.nthreads().values())
        return Workers(client.get_executor(pure=False), max(4, 2 * threads), client.close)
    n = workers or os.cpu_count() or 1
    if n == 1:
        return Workers(SerialExecutor(), 1, lambda: None)
    warm_up()  # fill numba's on-disk cache once, so the workers start warm
    # workers end with this process even if it is SIGKILLed (`pcnsim.stops`)
    pool = ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"),
                               initializer=stops.die_with_parent, initargs=(os.getpid(),))
    return Workers(pool, 2 * n, lambda: pool.shutdown(wait=True, cancel_futures=True), lambda: stops.stop_pool(pool))


def _scheduler_address(scheduler_file: Path, scheduler: subprocess.Popen, wait: float = 60) -> str:
    """The address the scheduler writes to its file, once the file is complete (it may appear empty first)."""
    deadline = time.time() + wait
    while True:
        try:
            return json.loads(scheduler_file.read_text())["address"]
        except (OSError, ValueError, KeyError):
            if time.time() > deadline or scheduler.poll() is not None:
                raise RuntimeError("the Dask scheduler did not start") from None
            time.sleep(0.1)


@contextmanager
def local_cluster(n_workers: int = 2, folder: Path | None = None) -> Iterator[tuple[str, list[subprocess.Popen]]]:
    """A real Dask scheduler and `n_workers` single-threaded worker processes on 127.0.0.1 (each in its own
    process group, so one can be killed whole); yields (scheduler address, worker processes) and stops them."""
    from distributed import Client

    with tempfile.TemporaryDirectory() as tmp:
        scheduler_file = Path(folder or tmp) / "scheduler.json"
        scheduler_file.unlink(missing_ok=True)

        def start(*args: str) -> subprocess.Popen:
            return subprocess.Popen([sys.executable, "-m", "dask", *args, "--no-dashboard"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

        procs = [start("scheduler", "--host", "127.0.0.1", "--port", "0", "--scheduler-file", str(scheduler_file))]
        try:
            address = _scheduler_address(scheduler_file, procs[0])
            workers = [start("worker", address, "--nthreads", "1", "--name", f"worker-{i}") for i in range(n_workers)]
            procs += workers
            with Client(address, timeout="30s") as client:
                client.wait_for_workers(n_workers, timeout=120)
            yield address, workers
        finally:
            for p in procs:
                if p.poll() is None:
                    os.killpg(p.pid, signal.SIGTERM)
            for p in procs:
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
