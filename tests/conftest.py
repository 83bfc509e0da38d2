"""Shared fixtures: one baseline run reused by the tests that only read its results."""

from __future__ import annotations

import pytest

from pcnsim.run import run
from pcnsim.scenario import load

BASELINE_SEED = 20261123


@pytest.fixture(scope="session")
def baseline():
    """The embedded baseline scenario."""
    return load()


@pytest.fixture(scope="session")
def baseline_run(baseline):
    """Baseline, 1 burn-in + 1 reported year, 2 replicates, with the touchpoint ledger."""
    return run(baseline, seed=BASELINE_SEED, years=1, reps=2, ledger=True)


@pytest.fixture(scope="session")
def folders(tmp_path_factory):
    """One results folder of every kind and their reports, written by the command line with umask 022
    (`tests/folders.py`)."""
    from .folders import make

    return make(tmp_path_factory.mktemp("folders"), 0o022)
