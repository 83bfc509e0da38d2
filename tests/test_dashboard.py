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

import pytest

from pcnsim import dashboard
from pcnsim.scenario import json_schema

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (.ci/run installs it)")


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


def open_page(browser, url, problems: list):
    page = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True).new_page()
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url} {r.failure}"))
    page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    page.on("request", lambda r: problems.append(f"off-machine: {r.url}")
            if not r.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")) else None)
    page.goto(url)
    page.get_by_role("button", name="Run and compare").wait_for(timeout=60_000)
    return page


def switch(page, label: str):
    return page.locator(".v-input--switch", has_text=label).locator("input")


def headline(page, title: str) -> str:
    return page.locator(".v-card", has_text=title).locator(".pcnsim-value").inner_text()


def test_run_compare_download_in_a_real_browser(server, browser, tmp_path):
    problems: list[str] = []
    page = open_page(browser, server, problems)
    assert problems == [], problems  # every asset came from the local server

    page.get_by_role("button", name="Run and compare").click()
    page.locator(".pcnsim-value").first.wait_for(timeout=180_000)
    before = headline(page, "Revisits per 1,000")
    page.screenshot(path=str(tmp_path / "dashboard-base.png"), full_page=True)

    started = time.time()
    switch(page, "Care navigation").check(force=True)
    page.get_by_role("button", name="Run and compare").click()
    page.get_by_text("Simulating base and levers").wait_for(timeout=30_000)  # progress shows, page responsive
    page.wait_for_function(
        """([title, before]) => {
             const card = [...document.querySelectorAll('.v-card')].find(c => c.innerText.includes(title));
             const value = card && card.querySelector('.pcnsim-value');
             return value && value.innerText !== before;
           }""", arg=["Revisits per 1,000", before], timeout=180_000)
    elapsed = time.time() - started
    after = headline(page, "Revisits per 1,000")
    assert after != before
    # The comparison chart is drawn.
    page.get_by_role("tab", name="Comparison").click()
    chart = page.locator("img[src^='blob:']").first
    chart.wait_for(timeout=30_000)
    assert chart.bounding_box()["height"] > 200
    page.screenshot(path=str(tmp_path / "dashboard-care-navigation.png"), full_page=True)

    # The downloaded scenario validates and carries the lever that was switched on.
    with page.expect_download() as info:
        page.get_by_role("button", name="Download scenario YAML").click()
    saved = tmp_path / "dashboard.yaml"
    info.value.save_as(saved)
    check = subprocess.run([sys.executable, "-m", "pcnsim", "validate", str(saved)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    assert "care_navigation:\n    enabled: true" in saved.read_text()
    assert problems == [], problems
    print(f"1-PCN comparison shown {elapsed:.1f} s after pressing run; screenshots in {tmp_path}")


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
