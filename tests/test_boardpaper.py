"""The report of a comparison: one self-contained HTML file a board paper can take as it is."""

import json
import re
import shutil

import pandas as pd
import pytest

from pcnsim import boardpaper, registry
from pcnsim.experiments.compare import KEY_METRICS, compare

CHROMIUM = shutil.which("chromium")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("compare") / "cmp"
    team = {"name": "team", "description": "A complex-care team.",
            "levers": {"complex_care": {"enabled": True, "start_day": 0, "ramp_days": 0, "fte": 1.0,
                                        "caseload": 40}}}
    small = {"simulation": {"burn_in_years": 1, "years": 2},
             "pcns": [{"name": "p", "practices": [{"name": "a", "list_size": 3000}, {"name": "b", "list_size": 2000}]}]}
    from pcnsim.scenario import deep_merge, load

    base = load(overrides={**small, "name": "base"})
    other = load(overrides=deep_merge(small, team))
    compare(base, [other], reps=3).save(out)
    return out


def test_the_comparison_folder_says_what_was_compared(folder):
    about = json.loads((folder / "comparison.json").read_text())
    assert about["base"] == "base" and set(about["scenarios"]) == {"base", "team"} and about["replicates"] == 3
    assert all((folder / info["file"]).is_file() for info in about["scenarios"].values())
    assert (folder / "per_replicate.parquet").is_file() and (folder / "fit.parquet").is_file()


def test_the_report_is_one_file_in_plain_words_with_changes_in_percent_and_who_they_change(folder, tmp_path):
    page = boardpaper.write(folder, tmp_path / "report")
    assert [p.name for p in page.parent.iterdir()] == ["index.html"]
    text = page.read_text()
    assert "<img src=\"data:image/png;base64," in text and "src=\"http" not in text and "href=\"http" not in text
    assert "levers.complex_care.enabled" in text and "% change" in text and "Who it changes" in text
    for key in KEY_METRICS:
        assert registry.get(key).label.replace("&", "&amp;") in text
    visible = re.sub(r"<[^>]+>", " ", re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", text, flags=re.S))
    raw = [key for key in registry.METRICS if re.search(rf"\b{re.escape(key)}\b", visible)]
    assert not raw, f"raw metric keys in the report: {raw}"
    assert re.search(r"[+-]\d+\.\d%", visible)  # percentages of change
    # who it changes: by sex and needs segment (in words), and the team's own caseload
    for title in (">sex<", ">needs segment<", "own cohort (the same people in the base run)"):
        assert title in text, title
    assert "struggling with life" in visible and "young_distress" not in visible


def test_the_lever_cohort_is_the_same_people_in_both_runs(folder):
    """The cohort rows compare the people on the team's caseload in the lever run with the same people (by
    id) in the base run: their primary-care contacts per 1,000 are far above the whole list's, in both."""
    groups = pd.read_parquet(folder / "by_group.parquet")
    cohort = groups[(groups["by"] == "cohort") & (groups["measure"] == "primary_care_contacts")]
    assert len(cohort) == 1
    everyone = groups[(groups["by"] == "sex") & (groups["measure"] == "primary_care_contacts")]["base"].max()
    assert cohort["base"].iloc[0] > 2 * everyone
    assert set(groups["by"]) >= {"age_band", "sex", "deprivation", "practice", "segment", "complex_needs"}


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium")
def test_the_report_opens_in_a_browser_with_no_request_outside_the_file(folder, tmp_path):
    from playwright.sync_api import sync_playwright

    page_path = boardpaper.write(folder, tmp_path / "report")
    requests = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        page = browser.new_page()
        page.on("request", lambda r: requests.append(r.url))
        page.goto(page_path.as_uri())
        headline = page.locator("table").nth(1).inner_text()
        images = page.evaluate("Array.from(document.images).map(i => i.naturalWidth)")
        browser.close()
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
    assert "% change" in headline and "Emergency admissions" in headline
    assert images and all(width > 0 for width in images)
