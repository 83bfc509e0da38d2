"""Nothing human-facing speaks in code names: the tables the CLI prints, the HTML reports and the figures'
texts name every metric in the registry's words, never by its key (`pcnsim metrics` lists the keys, on
purpose, for people who read the files)."""

import re
import subprocess
import sys

import matplotlib.text
import pytest

from pcnsim import plots, registry
from pcnsim.experiments.compare import KEY_METRICS, compare
from pcnsim.scenario import load

TINY = "name: tiny\nsimulation: {burn_in_years: 0, years: 2}\npcns:\n  - name: Tiny PCN\n    practices:\n" \
       "      - {name: A, list_size: 800}\n"
TEAM = "extends: tiny.yaml\nname: tiny_team\nlevers:\n  complex_care: {enabled: true, start_day: 0, ramp_days: 0, " \
       "fte: 0.2, caseload: 10}\n"


def raw_keys(text: str) -> list[str]:
    """Registry keys standing as words in text (HTML tags, styles and file names apart)."""
    text = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", text, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    return [k for k in registry.METRICS if re.search(rf"(?<![\w/.]){re.escape(k)}(?![\w.])", text)]


def pcnsim(*args, cwd):
    proc = subprocess.run([sys.executable, "-m", "pcnsim", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=900)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.slow
def test_cli_tables_and_reports_use_plain_names(tmp_path):
    (tmp_path / "tiny.yaml").write_text(TINY)
    (tmp_path / "tiny_team.yaml").write_text(TEAM)
    outputs = {
        "run": pcnsim("run", "tiny.yaml", "--reps", "2", "--out", "run", cwd=tmp_path),
        "compare": pcnsim("compare", "tiny.yaml", "tiny_team.yaml", "--reps", "2", "--out", "cmp", cwd=tmp_path),
        "describe": pcnsim("describe", "tiny.yaml", cwd=tmp_path),
    }
    pcnsim("report", "run", cwd=tmp_path)
    pcnsim("report", "cmp", cwd=tmp_path)
    outputs["run report"] = (tmp_path / "run" / "report" / "index.html").read_text()
    outputs["comparison report"] = (tmp_path / "cmp" / "report" / "index.html").read_text()
    assert "Emergency admissions" in outputs["compare"] and "% change" in outputs["compare"]
    found = {name: raw_keys(text) for name, text in outputs.items()}
    assert not any(found.values()), f"raw metric keys shown: {found}"


def test_the_scan_finds_a_raw_key():
    assert raw_keys("<td>ae_per_1000</td> and revisit_rate.") == ["ae_per_1000"]  # not a file-like name


def test_figures_name_metrics_in_words():
    sc = load(overrides={"simulation": {"burn_in_years": 0, "years": 1},
                         "pcns": [{"name": "p", "practices": [{"name": "a", "list_size": 500}]}]})
    other = load(overrides={"name": "more_gps", "simulation": {"burn_in_years": 0, "years": 1},
                            "pcns": [{"name": "p", "practices": [{"name": "a", "list_size": 500}]}],
                            "workforce": {"practice_fte_per_1000": {"gp": 0.6}}})
    result = compare(sc, [other], reps=2)
    figure = plots.comparison(result.table, KEY_METRICS)
    texts = " ".join(t.get_text() for t in figure.findobj(matplotlib.text.Text))
    assert registry.get("ae_per_1000").label in texts and not raw_keys(texts)


def test_experiment_commands_reports_and_figures_use_plain_names(folders):
    """sweep, optimise and calibrate: what they print, their reports and their reports' figures."""
    import pandas as pd

    kinds = ("sweep", "optimise", "calibrate")
    outputs = {kind: folders.stdout[kind] for kind in kinds}
    outputs.update({f"{kind} report": (folders.folder[kind] / "report" / "index.html").read_text() for kind in kinds})
    summary = pd.read_parquet(folders.folder["sweep"] / "summary.parquet")
    si = pd.read_csv(folders.folder["sweep"] / "sensitivity.csv")
    figures = {"sweep effects": plots.sweep_effects(summary, ["ae_after_failed_request", "same_day_share"],
                                                    list(dict.fromkeys(summary["metric"]))),
               "sensitivity": plots.sensitivity(si, "sobol_indices")}
    outputs.update({name: " ".join(t.get_text() for t in figure.findobj(matplotlib.text.Text))
                    for name, figure in figures.items()})
    assert registry.get("ae_per_1000").label in outputs["sweep effects"]
    found = {name: raw_keys(text) for name, text in outputs.items()}
    assert not any(found.values()), f"raw metric keys shown: {found}"
