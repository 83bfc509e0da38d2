"""The documentation site builds with warnings as errors, its generated parameters page covers the whole
scenario schema, and the tutorial notebook runs from top to bottom."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pcnsim.scenario import json_schema

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "docs" / "tutorial.ipynb"


def _env() -> dict:
    """This tree's pcnsim first on the path (for the hook, mkdocstrings and the notebook's kernel)."""
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    if importlib.util.find_spec("mkdocs") is None:
        pytest.skip("mkdocs is not installed (pip install -e '.[dev]' brings it)")
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
                          cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stdout}\n{done.stderr}"
    return out


def test_site_builds_every_page(site):
    assert (site / "index.html").is_file()
    for page in ("getting-started", "model", "levers", "parameters", "outputs", "api",
                 "howto/board-paper-comparison", "howto/sweep-on-dask", "howto/calibration"):
        assert (site / page / "index.html").is_file(), f"{page}.md was not built"


def test_parameters_page_lists_every_schema_section(site):
    html = (site / "parameters" / "index.html").read_text(encoding="utf-8")
    sections = list(json_schema()["properties"])
    missing = [s for s in sections if f'<h2 id="{s}">' not in html]
    assert not missing, f"schema sections without a heading on the parameters page: {missing}"
    # the leaves are there too, with their defaults: one deep in a lever, one in a mapping of blocks
    assert "levers.complex_care.min_complexity" in html
    assert "needs.&lt;need&gt;.revisit_interval_days" in html
    assert "horizon_days" in html and "<code>28</code>" in html


def test_api_page_documents_the_entry_points(site):
    html = (site / "api" / "index.html").read_text(encoding="utf-8")
    for name in ("pcnsim.run.run", "pcnsim.compare.compare", "pcnsim.sweep.sweep", "pcnsim.scenario.load"):
        assert f'id="{name}"' in html, f"{name} is missing from the API reference"
