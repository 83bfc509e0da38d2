"""The `pcnsim` command line: run, compare, deep-dive, report, sweep, optimise, calibrate, validate, schema,
metrics, describe, dashboard and scenario.

Interfaces call the public API (`run`, `compare`, `load`, ...) only, never the engine. Each module registers
its commands on the one application (`common.app`), in the order `pcnsim --help` lists them.
"""

# isort: off
from . import simulate  # noqa: F401 - registers run, compare, deep-dive, report
from . import experiments  # noqa: F401 - sweep, optimise, calibrate
from . import inspect  # noqa: F401 - validate, schema, metrics, describe, dashboard
from . import scenario_files  # noqa: F401 - scenario from-practices
from .common import app

# isort: on

__all__ = ["app"]
