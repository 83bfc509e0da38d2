"""The HTML reports: of a run, a sweep, an optimisation and a calibration, one self-contained page each with
its sections in plain words, opened in a real browser; a run's page says its dates and practices and marks
every target check; a folder with no report is one line."""

import json
import re
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from pcnsim import run_report, targets
from pcnsim.scenario import load

from .test_boardpaper import CHROMIUM
from .test_plain_words import raw_keys


def test_a_run_report_marks_every_target_check_with_its_source(folders):
    page = (folders.folder["results"] / "report" / "index.html").read_text()
    n_in, n_out = page.count('<td class="in">in range</td>'), page.count('<td class="out">out of range</td>')
    assert n_in + n_out == sum(len(t.checks) for t in targets.TARGETS)
    assert f"<strong>{n_in} of {n_in + n_out}</strong> target checks in range" in page
    assert "Vedsted" in page and "NHS Digital" in page  # sources shown


def test_a_run_reports_period_and_practices_in_words():
    def scenario(years, practices, code=None):
        return load(overrides={"simulation": {"burn_in_years": 1, "years": years},
                               "pcns": [{"name": "Hill PCN", "code": code, "practices": practices}]})

    assert run_report.period(scenario(1, [{"name": "a", "list_size": 500}]).simulation) == "7 Apr 2025 to 5 Apr 2026"
    assert run_report.period(scenario(2, [{"name": "a", "list_size": 500}]).simulation) == "7 Apr 2025 to 4 Apr 2027"
    coded = run_report.practices_table(scenario(1, [{"name": "North", "list_size": 1500, "ods_code": "A00001"},
                                                    {"name": "South", "list_size": 900}]))
    assert [h.text for h in coded.headers] == ["practice", "ODS code", "PCN", "list size"]
    assert [[c.text for c in row] for row in coded.rows] == [["North", "A00001", "Hill PCN", "1,500"],
                                                             ["South", "not given", "Hill PCN", "900"]]
    plain = run_report.practices_table(scenario(1, [{"name": "North", "list_size": 1500}], code="U00001"))
    assert [h.text for h in plain.headers] == ["practice", "PCN", "PCN code", "list size"]


def test_report_of_a_missing_directory_is_a_one_line_error(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "pcnsim", "report", tmp_path / "nope"], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 2
    assert "not a pcnsim results directory" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


# ---- the report of every kind of folder (`tests/folders.py`: real commands on tiny inputs) --------------

SECTIONS = {
    "results": ("The practices", "Summary", "Contacts by age and sex", "Who never comes",
                "A&amp;E by age and deprivation", "Frequent attenders and their churn", "Fit to the evidence",
                "How these results were made"),
    "sweep": ("What was swept", "How far each measure moves across the points", "What matters most",
              "Each measure against each parameter", "The points", "How these results were made"),
    "optimise": ("The question", "The best allocation", "The policies compared", "Checked on fresh seeds",
                 "Cost against objective", "How these results were made"),
    "calibrate": ("The fit", "The targets and the fitted values", "The fitted parameters", "Convergence",
                  "How these results were made"),
}
WORDS = {  # what each page must say, in the words a reader knows
    "results": ("Run: tiny", "7 Apr 2025 to 5 Apr 2026", "900 patients", '<td class="text">North</td>',
                "Tiny PCN", "Missed appointments (DNA rate)", "A&amp;E attendances",
                "Frequent attenders among people registered all year", "12 or more contacts a year",
                "replicate(s) from root seed 11"),
    "sweep": ("Saltelli", "ae_after_failed_request", "booking.same_day_share", "A&amp;E attendances", "Revisit rate",
              "levers.social_prescribing.enabled = true", "total index (ST)"),
    "optimise": ("60,000 GBP a year", "social prescribing link worker", "FTE in all", "today&#39;s placement",
                 "all in the network pool", "Days with an unmet need", "best - policy"),
    "calibrate": ("ae.background_per_1000", "multiplier on the base value", "target checks in range",
                  "tiny_fitted.yaml", "Missed appointments (DNA rate)"),
}


FIGURES = {"results": 4, "sweep": 2, "optimise": 1, "calibrate": 1}


@pytest.mark.parametrize("kind", SECTIONS)
def test_a_report_is_one_page_with_its_sections_in_plain_words(folders, kind):
    report = folders.folder[kind] / "report"
    assert sorted(p.name for p in report.iterdir()) == ["index.html", "manifest.json"]
    page = (report / "index.html").read_text()
    assert re.findall(r"<h2>(.*?)</h2>", page) == list(SECTIONS[kind])
    for words in WORDS[kind]:
        assert words in page, words
    links = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert len(links) == FIGURES[kind]
    assert all(link.startswith("data:image/png;base64,") for link in links)  # figures inside the file
    assert "@media print" in page
    assert not raw_keys(page), raw_keys(page)


def test_a_calibration_report_marks_every_target_check(folders):
    page = (folders.folder["calibrate"] / "report" / "index.html").read_text()
    fit = pd.read_parquet(folders.folder["calibrate"] / "fit.parquet")
    assert page.count('<td class="in">in range</td>') == fit["in_range"].sum()
    assert page.count('<td class="out">out of range</td>') == (~fit["in_range"]).sum()
    assert f"<strong>{fit['in_range'].sum()} of {len(fit)}</strong>" in page


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium")
def test_reports_open_in_a_browser_with_no_request_outside_the_file(folders):
    from playwright.sync_api import sync_playwright

    seen = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        page = browser.new_page()
        requests = []
        page.on("request", lambda r: requests.append(r.url))
        for kind in SECTIONS:
            page.goto((folders.folder[kind] / "report" / "index.html").as_uri())
            seen[kind] = (page.evaluate("Array.from(document.images).map(i => i.naturalWidth)"),
                          page.locator("h2").all_inner_texts(), page.locator("table").count())
        browser.close()
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
    for kind, (images, headings, tables) in seen.items():
        assert len(images) == FIGURES[kind] and all(width > 0 for width in images), kind
        assert headings == [h.replace("&amp;", "&") for h in SECTIONS[kind]] and tables >= 2, kind


def report_refusal(folder) -> str:
    proc = subprocess.run([sys.executable, "-m", "pcnsim", "report", folder], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert not (folder / "report").exists() or (folder / "report" / "manifest.json").exists()
    return proc.stderr


def test_a_folder_with_no_report_is_one_line_exit_2(folders, tmp_path):
    assert "a report folder has no report" in report_refusal(folders.folder["sweep"] / "report")
    mystery = tmp_path / "mystery"
    mystery.mkdir()
    (mystery / "manifest.json").write_text(json.dumps({"generator": "pcnsim", "kind": "mystery", "files": {}}))
    assert "'mystery' folder has no report" in report_refusal(mystery)
    assert not (mystery / "report").exists()
    unfinished = tmp_path / "unfinished"
    shutil.copytree(folders.folder["sweep"], unfinished, ignore=shutil.ignore_patterns("report", "manifest.json"))
    assert "this sweep has not finished" in report_refusal(unfinished)
    assert not (unfinished / "report").exists()
