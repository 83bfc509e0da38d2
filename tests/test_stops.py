"""Clean stops: SIGINT, SIGTERM or SIGKILL of `pcnsim sweep`, `pcnsim run` or `pcnsim dashboard` leaves no
process of theirs running (pool workers, the multiprocessing resource tracker, the Solara server) and no
half-written output. Real subprocesses; processes are followed with psutil (installed with dask.distributed)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import psutil
import pytest

from .test_output_safety import leftovers, tiny
from .test_sweep import experiment


def start(*args, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pcnsim", *map(str, args)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, **kwargs)


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def alive(procs: list[psutil.Process]) -> list[psutil.Process]:
    """The processes still running (a zombie has ended; it waits only to be reaped)."""
    out = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.NoSuchProcess:
            pass
    return out


def wait_until(condition, timeout: float) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def stop_and_check(proc: subprocess.Popen, sig: int, family: list[psutil.Process], within: float = 15) -> None:
    proc.send_signal(sig)
    try:
        proc.wait(timeout=within + 60)
    finally:
        survivors = family if wait_until(lambda: not alive(family), within) else alive(family)
        left = alive(survivors)
        for p in left:  # do not leave them to the rest of the suite
            p.kill()
    assert left == [], [describe(p) for p in left]


def describe(p: psutil.Process) -> str:
    try:
        return f"{p.pid}: {' '.join(p.cmdline())}"
    except psutil.Error:  # it ended meanwhile
        return f"{p.pid}: ended"


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_a_stopped_sweep_leaves_no_worker_running(tmp_path, sig):
    path = experiment(tmp_path, list_size=6000, replicates=3)
    proc = start("sweep", path, "--threads", 2)
    runs = tmp_path / "exp-out" / "runs"

    def workers_busy() -> bool:  # two pool workers at work (and a run finished, so they are warm)
        workers = [p for p in descendants(proc.pid) if "multiprocessing" in " ".join(p.cmdline())]
        return len(workers) >= 2 and runs.exists() and any(runs.glob("*.json"))

    assert wait_until(workers_busy, 300), proc.stderr.read() if proc.poll() is not None else "no workers"
    family = descendants(proc.pid)
    assert len(family) >= 3  # two workers and the resource tracker
    stop_and_check(proc, sig, family)
    if sig != signal.SIGKILL:
        assert proc.returncode == 130
        assert "rerun the same command" in proc.stderr.read()
    for f in runs.glob("*.json"):  # every saved run is whole
        json.loads(f.read_text())
    assert leftovers(tmp_path / "exp-out") == [] or sig == signal.SIGKILL


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_stopped_run_writes_nothing_and_releases_its_output(tmp_path, sig):
    out = tmp_path / "r"
    proc = start("run", tiny(tmp_path, list_size=100_000, years=5), "--out", out)  # ~10 s of simulation
    assert wait_until(lambda: (tmp_path / ".r.lock").exists(), 120)
    time.sleep(1.5)  # simulating
    family = descendants(proc.pid)
    stop_and_check(proc, sig, family)
    err = proc.stderr.read()
    assert proc.returncode == 130, err
    assert not out.exists() and leftovers(out) == [], (out.exists(), leftovers(out), err)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_a_stopped_dashboard_leaves_no_server_listening(sig):
    proc = start("dashboard", "--port", 0)

    def listening() -> bool:
        for p in descendants(proc.pid):
            try:
                if any(c.status == psutil.CONN_LISTEN for c in p.net_connections(kind="inet")):
                    return True
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass
        return False

    try:
        assert wait_until(listening, 120), "the Solara server did not start"
        family = descendants(proc.pid)
        stop_and_check(proc, sig, family, within=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

