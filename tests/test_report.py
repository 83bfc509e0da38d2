"""The HTML report of a saved run: every section, the figures, and the fit table."""

import subprocess
import sys

from pcnsim import targets


def test_report_has_every_section_and_figure(baseline_run, tmp_path):
    out = tmp_path / "run"
    baseline_run.save(out)
    proc = subprocess.run([sys.executable, "-m", "pcnsim", "report", out], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    page = (out / "report" / "index.html").read_text()
    for heading in ("Summary", "Contacts by age and sex", "Who never comes", "A&amp;E by age and deprivation",
                    "Frequent attenders and their churn", "Fit to the evidence"):
        assert f"<h2>{heading}" in page, heading
    for png in ("contacts_by_age_sex.png", "zero_contact_by_age.png", "ae_by_age_deprivation.png", "churn_flow.png"):
        assert (out / "report" / png).stat().st_size > 10_000
        assert f'src="{png}"' in page
    n_checks = sum(len(t.checks) for t in targets.TARGETS)
    assert page.count("in range</span>") + page.count("out of range</span>") == n_checks
    assert "Vedsted" in page and "NHS Digital" in page  # sources shown


def test_report_of_a_missing_directory_is_a_one_line_error(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "pcnsim", "report", tmp_path / "nope"], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 2
    assert "not a pcnsim results directory" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
