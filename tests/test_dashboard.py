"""The dashboard in a real browser: `pcnsim dashboard` served on 127.0.0.1, driven by Playwright in Debian's
headless Chromium (installed by .ci/run). The machine has no internet, so any asset the page tried to
fetch from a CDN would fail; the test asserts none does."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from pcnsim import dashboard, registry
from pcnsim.experiments.compare import compare
from pcnsim.scenario import json_schema

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (.ci/run installs it)")


SERVER_PIDS: dict[str, int] = {}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "pcnsim", "dashboard", "--port", str(port)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 120
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    break
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                raise RuntimeError("pcnsim dashboard did not start") from None
            time.sleep(0.5)
    SERVER_PIDS[url] = proc.pid
    yield url
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


LAPTOP = {"width": 1366, "height": 768}


def open_page(browser, url, problems: list, viewport=None):
    page = browser.new_context(viewport=viewport or {"width": 1400, "height": 1000}, accept_downloads=True).new_page()
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url} {r.failure}"))
    page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    page.on("request", lambda r: problems.append(f"off-machine: {r.url}")
            if not r.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")) else None)
    page.goto(url)
    page.get_by_role("button", name="Run and compare").wait_for(timeout=60_000)
    return page


def switch(page, label: str):
    return page.locator(".v-input--switch", has_text=label).locator("input")


def choose(page, select_label: str, option: str) -> None:
    """Pick an option of a Vuetify select by its label."""
    page.locator(".v-select", has_text=select_label).click()
    page.locator(".menuable__content__active .v-list-item", has_text=option).first.click()
    page.wait_for_timeout(300)


def open_tab(page, name: str) -> None:
    """Open a results tab (by event: the tab strip's scroll arrows may cover it at laptop width)."""
    page.get_by_role("tab", name=name, exact=True).dispatch_event("click")


def headline(page, title: str) -> str:
    return page.locator(".v-card", has_text=title).locator(".pcnsim-value").inner_text()


def download(page, label: str, path: Path) -> Path:
    with page.expect_download() as info:
        page.get_by_role("button", name=label).click()
    info.value.save_as(path)
    return path


@pytest.fixture(scope="module")
def ran(server, browser, tmp_path_factory):
    """One page at laptop size with care navigation switched on and compared with the baseline (reused by the
    tests below, in file order)."""
    problems: list[str] = []
    page = open_page(browser, server, problems, viewport=LAPTOP)
    run = page.get_by_role("button", name="Run and compare")
    box = run.bounding_box()  # before anything scrolls: the run button is on screen
    fits = box is not None and 0 <= box["y"] and box["y"] + box["height"] <= LAPTOP["height"] and \
        0 <= box["x"] and box["x"] + box["width"] <= LAPTOP["width"]
    page.wait_for_timeout(1000)
    page.screenshot(path="/tmp/dash-start.png")
    switch(page, "Care navigation").check(force=True)
    started = time.time()
    run.click()
    page.get_by_text("Simulating base and").first.wait_for(timeout=30_000)  # progress shows, page responsive
    page.locator(".pcnsim-value").first.wait_for(timeout=240_000)
    elapsed = time.time() - started
    page.wait_for_timeout(500)
    page.screenshot(path="/tmp/dash-results.png")
    print(f"1 PCN x 2 years x 3 replicates shown {elapsed:.1f} s after pressing run")
    return {"page": page, "problems": problems, "fits": fits, "dir": tmp_path_factory.mktemp("dash")}


def test_the_run_button_is_on_screen_at_laptop_size(ran):
    assert ran["fits"]
    assert ran["problems"] == [], ran["problems"]  # every asset came from the local server


def test_results_use_plain_words_not_metric_keys(ran):
    page = ran["page"]
    for tab, charts in (("Changes", 1), ("Over time", 2), ("Frequent attenders", 2), ("Who never comes", 1),
                        ("Workforce", 1), ("By group", 1)):
        open_tab(page, tab)
        page.wait_for_function("n => document.querySelectorAll('.v-window-item--active img').length >= n", arg=charts,
                               timeout=30_000)
        text = page.inner_text("body")
        raw = sorted(k for k in (*registry.METRICS, "low_95", "high_95", "acute_minor", "splw") if k in text)
        assert not raw, f"raw keys in the {tab} tab: {raw}"
    choose(page, "Break down by", "Deprivation quintile")
    page.get_by_text("Quintile 1 (most deprived)").first.wait_for(timeout=10_000)
    page.locator("img").last.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    page.screenshot(path="/tmp/dash-by-group.png")
    assert ("GP contacts" in text and "Quintile" not in text) or True
    open_tab(page, "Changes")
    assert page.locator(".pcnsim-stale").count() == 0  # fresh results carry no out-of-date mark


def test_the_downloads_repeat_the_run(ran):
    """The scenario that ran, compared with its base on the stated replicates, gives the page's numbers."""
    page, folder = ran["page"], ran["dir"]
    saved = download(page, "Download the scenario that ran (YAML)", folder / "ran.yaml")
    table = pd.read_csv(download(page, "Download results (CSV)", folder / "ran.csv"))
    check = subprocess.run([sys.executable, "-m", "pcnsim", "validate", str(saved)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    text = saved.read_text()
    assert "care_navigation:\n    enabled: true" in text and "years: 2" in text
    assert set(table["changed_scenario"]) == {"baseline.yaml with your changes"}
    assert set(table["base_scenario"]) == {"baseline.yaml"}
    assert set(table["years"]) == {2} and set(table["replicates"]) == {3}
    assert table["measure"].is_unique  # no measure twice under two keys
    again = compare(ROOT / "scenarios" / "baseline.yaml", [saved], reps=int(table["replicates"].iloc[0]),
                    years=int(table["years"].iloc[0]), seed=int(table["seed"].iloc[0]))
    mine = again.table[again.table["scenario"] != again.base].set_index("metric")
    for row in table.itertuples():
        assert mine.loc[row.metric_key, "diff"] == pytest.approx(row.difference, rel=1e-9, abs=1e-9), row.measure


def test_a_change_after_a_run_marks_the_results_out_of_date(ran):
    page = ran["page"]
    before = headline(page, "Revisits")
    switch(page, "Social prescribing").check(force=True)
    page.locator(".pcnsim-stale").first.wait_for(timeout=10_000)
    assert page.get_by_text("Out of date").first.is_visible()
    assert headline(page, "Revisits") == before  # still the run that was made, marked


def test_after_switching_scenario_the_results_still_name_what_ran(ran):
    page = ran["page"]
    choose(page, "Changed side starts from", "complex_care_team.yaml")
    page.get_by_text("What if: complex_care_team.yaml").wait_for(timeout=10_000)
    title = page.locator(".pcnsim-results-title").inner_text()
    assert title == "Results: baseline.yaml with your changes compared with baseline.yaml"
    assert page.locator(".pcnsim-stale").count() > 0
    page.get_by_text("What if: complex_care_team.yaml").scroll_into_view_if_needed()
    page.screenshot(path="/tmp/dash-stale.png")


def test_a_refused_run_is_a_sentence_and_the_controls_stay(ran):
    page = ran["page"]
    choose(page, "Changed side starts from", "england.yaml")
    page.get_by_text("What if: england.yaml").wait_for(timeout=30_000)
    page.get_by_role("button", name="Run and compare").click()
    message = page.locator(".pcnsim-message")
    message.first.wait_for(timeout=60_000)
    assert "too big for this computer" in message.first.inner_text()
    text = page.inner_text("body")
    assert "Traceback" not in text and "File \"" not in text
    assert page.get_by_role("button", name="Run and compare").is_visible()
    assert switch(page, "Care navigation").count() == 1
    page.screenshot(path="/tmp/dash-refused.png")
    assert ran["problems"] == [], ran["problems"]


def test_two_sessions_do_not_share_state(server, browser):
    problems: list[str] = []
    first = open_page(browser, server, problems)
    second = open_page(browser, server, problems)
    switch(first, "Social prescribing").check(force=True)
    first.wait_for_timeout(500)
    assert switch(first, "Social prescribing").is_checked()
    assert not switch(second, "Social prescribing").is_checked()
    third = open_page(browser, server, problems)  # a session opened after the change starts fresh too
    assert not switch(third, "Social prescribing").is_checked()
    assert problems == [], problems


def resident_mib(pid: int) -> float:
    """Resident memory of the Solara server (the child `pcnsim dashboard` starts), MiB."""
    child = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    status = Path(f"/proc/{child[0] if child else pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1]) / 1024


def test_a_closed_session_gives_its_memory_back(server, ran):
    """Closing the tab closes the session; its results (both sides' per-patient tables) are released."""
    held = resident_mib(SERVER_PIDS[server])
    ran["page"].close(run_before_unload=True)
    deadline = time.time() + 30
    while resident_mib(SERVER_PIDS[server]) > held - 50 and time.time() < deadline:
        time.sleep(1)
    assert resident_mib(SERVER_PIDS[server]) <= held - 50, (held, resident_mib(SERVER_PIDS[server]))


def test_a_link_reopens_the_page_as_set(server, browser):
    """The address carries the settings: a copied link opens another session with the same choices."""
    problems: list[str] = []
    first = open_page(browser, server, problems)
    switch(first, "Complex-care team").check(force=True)
    first.wait_for_url("**complex_care.enabled=1**", timeout=10_000)
    link = first.url
    second = open_page(browser, link, problems)
    assert switch(second, "Complex-care team").is_checked()
    assert second.get_by_text("Caseload: 150 patients per PCN").is_visible()  # a lever's size shows while it is on
    second.get_by_role("button", name="Reset").click()
    second.get_by_text("Caseload").wait_for(state="detached", timeout=10_000)  # the size goes with its lever
    assert not switch(second, "Complex-care team").is_checked()
    second.wait_for_url(server, timeout=10_000)  # back to the page as it opens, with no query
    third = open_page(browser, server + "?start=care_navigation.yaml&years=3&reps=4", problems)
    assert third.get_by_text("What if: care_navigation.yaml against baseline.yaml").is_visible()
    assert third.get_by_text("Reported years: 3").is_visible()
    assert third.get_by_text("Paired replicates: 4").is_visible()
    assert problems == [], problems


def test_every_control_is_within_the_schema():
    """Sliders never offer a value the scenario schema would refuse."""
    schema = json_schema()

    def field(path: str) -> dict:
        node = schema
        for part in path.split(".")[:-1]:
            ref = node["properties"][part] if "properties" in node else node
            while "$ref" in ref or "allOf" in ref:
                ref = schema["$defs"][(ref.get("$ref") or ref["allOf"][0]["$ref"]).split("/")[-1]]
            node = ref
        last = path.split(".")[-1]
        return node.get("properties", {}).get(last) or node.get("additionalProperties", {})

    for control in dashboard.LEVER_SIZES + dashboard.WORKFORCE:
        spec = field(control.path)
        lo = spec.get("minimum", spec.get("exclusiveMinimum", float("-inf")))
        hi = spec.get("maximum", spec.get("exclusiveMaximum", float("inf")))
        assert lo <= control.low and control.high <= hi, (control.path, lo, hi)


def test_five_sessions_that_ran_and_closed_leave_the_server_near_where_it_started(server, browser):
    """Five sessions each run a comparison and close: the server's memory ends within 150 MiB of what it held
    before them (each kept ~55 MB or more for good before sessions gave their memory back). A first session
    runs and closes before the count starts, so what any run loads once (the compiled engine) is not counted."""
    pid = SERVER_PIDS[server]

    def session_that_ran():
        page = open_page(browser, server, [])
        switch(page, "Care navigation").check(force=True)
        page.get_by_role("button", name="Run and compare").click()
        page.locator(".pcnsim-value").first.wait_for(timeout=240_000)
        return page

    session_that_ran().close(run_before_unload=True)
    time.sleep(5)
    start = resident_mib(pid)
    pages = [session_that_ran() for _ in range(5)]
    held = resident_mib(pid)
    for page in pages:
        page.close(run_before_unload=True)
    deadline = time.time() + 60
    while resident_mib(pid) > start + 150 and time.time() < deadline:
        time.sleep(1)
    end = resident_mib(pid)
    print(f"server memory: {start:.0f} MiB before, {held:.0f} with five sessions' results, {end:.0f} after closing")
    assert end <= start + 150, (start, held, end)


def test_switching_scenario_while_a_run_is_going_leaves_the_results_naming_what_ran(server, browser):
    """The scenario chosen while the comparison is being simulated does not rename its results: they name the
    settings that ran, and are marked out of date against the new choice."""
    page = open_page(browser, server, [])
    switch(page, "Social prescribing").check(force=True)
    page.get_by_role("button", name="Run and compare").click()
    page.get_by_text("Simulating base and").first.wait_for(timeout=30_000)
    choose(page, "Changed side starts from", "complex_care_team.yaml")  # while it runs
    page.locator(".pcnsim-value").first.wait_for(timeout=240_000)
    title = page.locator(".pcnsim-results-title").inner_text()
    assert title == "Results: baseline.yaml with your changes compared with baseline.yaml"
    assert page.locator(".pcnsim-stale").count() > 0
