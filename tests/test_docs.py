"""The documentation site builds with warnings as errors, its generated parameters page covers the whole
scenario schema, and the tutorial notebook runs from top to bottom."""

from __future__ import annotations

import importlib.util
import json
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
    for name in ("pcnsim.run.run", "pcnsim.experiments.compare.compare", "pcnsim.experiments.sweep.sweep",
                 "pcnsim.scenario.load"):
        assert f'id="{name}"' in html, f"{name} is missing from the API reference"


def _code_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code"]


def test_tutorial_is_committed_without_outputs():
    nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed (pip install -e '.[dev]')")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    stale = [i for i, c in enumerate(_code_cells(nb)) if c.outputs or c.execution_count is not None]
    assert not stale, f"code cells {stale} of docs/tutorial.ipynb carry outputs; clear them before committing"


def test_tutorial_notebook_runs(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed (pip install -e '.[dev]')")
    nbclient = pytest.importorskip("nbclient", reason="nbclient is not installed (pip install -e '.[dev]')")
    pytest.importorskip("ipykernel", reason="ipykernel is not installed (pip install -e '.[dev]')")
    # A kernel on this interpreter, with this tree's pcnsim, whatever kernels the machine has installed.
    spec = tmp_path / "kernels" / "pcnsim-tutorial"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "pcnsim tutorial", "language": "python"}), encoding="utf-8")
    for key, value in _env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="pcnsim-tutorial",
                                     resources={"metadata": {"path": str(ROOT / "docs")}})
    client.execute()  # raises CellExecutionError, naming the cell, if any cell fails
    cells = _code_cells(nb)
    assert all(c.execution_count is not None for c in cells)
    shown = "".join(out.get("data", {}).get("text/plain", "") for c in cells for out in c.outputs)
    assert "ae_per_1000" in shown and "primary_care_contacts_per_person" in shown


def _page(name: str) -> str:
    return (ROOT / "docs" / name).read_text(encoding="utf-8")


def test_levers_page_covers_every_lever_and_its_scenario_files():
    from pcnsim.scenario import Levers

    page = _page("levers.md")
    missing = [name for name in Levers.model_fields if f"`levers.{name}`" not in page]
    assert not missing, f"docs/levers.md does not describe levers {missing}"
    lever_files = [p.name for p in sorted((ROOT / "scenarios").glob("*.yaml"))
                   if "levers" in p.read_text(encoding="utf-8")]
    unnamed = [name for name in lever_files if name not in page]
    assert not unnamed, f"docs/levers.md does not name the scenario files {unnamed}"


def _generated(markdown: str) -> str:
    """A page's markdown as the build's dictionary hook leaves it."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("dictionary_hook", ROOT / "docs" / "hooks" / "dictionary.py")
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    return hook.on_page_markdown(markdown, None, None, None)


def test_outputs_page_documents_every_column_and_metric():
    from pcnsim import metrics
    from pcnsim.run import run
    from pcnsim.scenario import load
    from pcnsim.vocab import COUNTER_NAMES, SETTINGS, WEEKLY_EVENT_NAMES

    page = _generated(_page("outputs.md"))  # the column tables come from the data dictionary at build time
    tiny = load(overrides={"simulation": {"burn_in_years": 0, "years": 1},
                           "pcns": [{"name": "docs PCN", "practices": [{"name": "docs practice", "list_size": 300}]}]})
    res = run(tiny, seed=1, ledger=True, threads=1)
    roles = {"gp", "nurse", "pharmacist", "splw", "paramedic", "fcp", "mhp", "pa", "care_coordinator", "mdt",
             "community_nurse", "shared_expertise"}  # documented together as `gp` ... `shared_expertise`
    tables = {"patients_yearly": [c for c in res.patients.columns if c not in roles],
              "ledger": list(res.ledger.columns), "capacity": list(res.capacity().columns)}
    for table, columns in tables.items():
        missing = [c for c in columns if f"`{c}`" not in page]
        assert not missing, f"docs/outputs.md does not document {table} columns {missing}"
    weekly = [m for m in (*COUNTER_NAMES, *WEEKLY_EVENT_NAMES)
              if not m.startswith(("overflow_to_network_", "unplaced_"))]
    # per-setting rates and the zero-contact shares by age band are documented as patterns
    patterns = {f"{s}_per_1000": "<setting>_per_1000" for s in SETTINGS}
    patterns.update({m: "zero_contact_share_age_<band>" for m in metrics.METRIC_NAMES
                     if m.startswith("zero_contact_share_age_")})
    names = dict.fromkeys(patterns.get(m, m) for m in (*weekly, *metrics.METRIC_NAMES))
    missing = [m for m in names if f"`{m}`" not in page]
    assert not missing, f"docs/outputs.md does not name the metrics {missing}"
