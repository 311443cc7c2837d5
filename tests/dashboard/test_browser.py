"""A real browser: headless Chromium (Debian's chromium + chromium-driver) driven by Selenium opens
the runs page and the page of a live run, sees new evaluations appear, and saves screenshots.

Skips with the reason when Chromium, its driver or Selenium is missing (.ci/run installs them).
Set HPS_SCREENSHOTS=DIR to keep the screenshots.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time

import pytest

from .conftest import make_run
from .live import ERROR, HOSTILE, slow_problem, start_hps_run

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1280,1400"]


@pytest.fixture
def browser():
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.skip("no headless browser: apt-get install chromium chromium-driver (Debian) to run it")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (the test extra)")
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="hps-chromium-")
    for flag in FLAGS + [f"--user-data-dir={profile}"]:
        opts.add_argument(flag)
    # An explicit driver path: Selenium Manager never tries to download one.
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait_for(fn, timeout: float = 30.0, what: str = ""):
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = fn()
        except Exception:  # noqa: BLE001 - the page is still building
            value = None
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def steady(fn, what: str = ""):
    """``fn()`` retried while the page redraws the element under it (a live table is redrawn by every poll)."""
    return wait_for(lambda: (fn(),), what=what)[0]


def shot(driver, tmp_path, name: str):
    path = tmp_path / f"dashboard-{name}.png"
    driver.save_screenshot(str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    keep = os.environ.get("HPS_SCREENSHOTS")
    if keep:
        shutil.copy(path, os.path.join(keep, path.name))
    return path


def test_browser_sees_a_live_run_grow(tmp_path, serve, browser):
    from selenium.webdriver.common.by import By

    root = tmp_path / "runs"
    make_run(root / "branin-random", max_evals=20)
    srv = serve(root)
    proc = start_hps_run(slow_problem(tmp_path, sleep=0.25), root / "live", max_evals=60)
    try:
        # Runs page: the live run appears (no reload) and its count of evaluations goes up.
        browser.get(srv.url + "/")

        def live_row():
            rows = browser.find_elements(By.CSS_SELECTOR, "#runs tbody tr")
            return next((r for r in rows if r.text.endswith("/live")), None)

        def live_done():
            return int(live_row().find_element(By.CSS_SELECTOR, ".n-done").text)

        wait_for(lambda: live_row() is not None and live_done() >= 1, what="the live run on the runs page")
        first = steady(live_done, what="the live run's count")
        assert steady(lambda: "running" in live_row().text, what="the live run's state")
        wait_for(lambda: live_done() > first, what="a new evaluation on the runs page")
        assert steady(lambda: "slow<b>prob" in live_row().text, what="the problem name")  # shown as text
        shot(browser, tmp_path, "runs")

        # Run page: the count and the table grow without a reload.
        steady(lambda: live_row().find_element(By.TAG_NAME, "a").click(), what="a click on the live run")
        wait_for(lambda: browser.find_element(By.ID, "n-done").text, what="the run page")
        n0 = int(browser.find_element(By.ID, "n-done").text)
        wait_for(lambda: int(browser.find_element(By.ID, "n-done").text) > n0, what="a new evaluation on the run page")
        wait_for(lambda: len(browser.find_elements(By.CSS_SELECTOR, "#results tbody tr")) > 1, what="table rows")
        marker = browser.execute_script("return window.performance.navigation.type")
        assert marker == 0  # never reloaded

        # Hostile strings show as text: no <img src=x>, no injected script ran.
        wait_for(lambda: HOSTILE in [c.text for c in browser.find_elements(By.CSS_SELECTOR, "#results tbody td")],
                 what="the hostile categorical value as text")
        assert not browser.find_elements(By.CSS_SELECTOR, "img[src='x']")
        assert browser.find_elements(By.CSS_SELECTOR, "#fig-best-n .main-svg")  # plotly drew
        shot(browser, tmp_path, "run")

        # A failed trial's page shows the error text as text.
        failed = wait_for(lambda: srv.json(f"/api/run/{srv.key('/live')}/table?status=failed")["rows"],
                          timeout=60, what="a failed trial")
        browser.get(f"{srv.url}/run/{srv.key('/live')}/trial/{failed[0][0]}")
        wait_for(lambda: ERROR in browser.find_element(By.ID, "error").text, what="the error text")
        assert not browser.find_elements(By.CSS_SELECTOR, "#main script")
        shot(browser, tmp_path, "trial")
    finally:
        proc.kill()
        proc.wait()
