"""hps dashboard on a run of 10,000 evaluations: time to open a run page and to page its table.

Builds the run once with the cheap problems (random search on polynome2, serial
evaluator: 10 parameters, optimum known, so regret is drawn) and a Hyperband run
on hartmann6lc for the rungs view, then serves them with the real server on
loopback and measures, with a fresh server each round (nothing cached):

* open (HTTP): the run page's HTML and the three JSON requests its script makes
  first (run summary, every finished evaluation with the curves, table page 1);
* table page: one page of 50 rows, sorted by objective, at the start, the middle
  and the end, and filtered by status (cached snapshot, as while a user pages);
* live poll: the incremental request an open page makes each second;
* open (browser, if headless Chromium and Selenium are installed): from
  navigation until the counts and the table show, and until every figure in
  view is drawn (software rendering: headless Chromium has no GPU).

    python tests/perf/bench_dashboard.py [--evals 10000] [--repeat 5] [--keep DIR]

Targets: open < 1 s, table page < 200 ms. The CPU-time line is what the open costs
without other processes competing for the cores (wall time on a busy machine is more).
"""
from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from hpsearch.dashboard.server import make_server  # noqa: E402
from hpsearch.reporting.progress import Progress  # noqa: E402
from hpsearch.run.runner import RunConfig, start_run  # noqa: E402
from hpsearch.store import is_run_dir  # noqa: E402


def build(root: Path, evals: int) -> Path:
    run = root / "polynome2-random"
    if not is_run_dir(run):
        t0 = time.perf_counter()
        out = start_run(RunConfig(problem="polynome2", algo="random", max_evals=evals, seed=0,
                                  evaluator="serial", run_dir=str(run)),
                        observer=Progress(stream=io.StringIO(), tty=False))
        out.store.close()
        print(f"built {evals} evaluations in {time.perf_counter() - t0:.1f} s: {run}")
    return run


def get(url: str) -> tuple[float, int]:
    t0 = time.perf_counter()
    with urllib.request.urlopen(url, timeout=60) as r:
        n = len(r.read())
    return time.perf_counter() - t0, n


class Served:
    def __init__(self, root: Path):
        self.httpd = make_server([str(root)], "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        catalog = self.httpd.app.config["CATALOG"]
        self.key = next(iter(catalog.entries))

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def http_rounds(root: Path, repeat: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}

    def add(name: str, t: float) -> None:
        out.setdefault(name, []).append(t)

    for _ in range(repeat):
        srv = Served(root)
        api = f"{srv.url}/api/run/{srv.key}"
        try:
            cpu0 = time.process_time()
            t_page, _ = get(f"{srv.url}/run/{srv.key}")
            t_meta, _ = get(api)
            t_points, size = get(f"{api}/points?since=0")
            t_table, _ = get(f"{api}/table?page=0&size=50")
            add("open: page + run + points + table", t_page + t_meta + t_points + t_table)
            add("  the same in CPU time (server + client)", time.process_time() - cpu0)
            add(f"  of which points ({size / 1e6:.1f} MB JSON)", t_points)
            for page in (0, 100, 199):
                add(f"table page {page} sorted by objective", get(f"{api}/table?page={page}&size=50&sort=objective&desc=1")[0])
            add("table filtered status=done, page 10", get(f"{api}/table?page=10&size=50&status=done")[0])
            add("live poll: run + points?since=N", get(api)[0] + get(f"{api}/points?since=9990")[0])
        finally:
            srv.close()
    return out


def browser_round(root: Path, repeat: int) -> dict[str, list[float]] | None:
    """Seconds from navigation until the counts and the table show, and until every figure is drawn."""
    chromium, driver_path = "/usr/bin/chromium", "/usr/bin/chromedriver"
    if not (os.path.exists(chromium) and os.path.exists(driver_path)):
        return None
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        return None
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    profile = tempfile.mkdtemp()
    for f in ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--window-size=1280,1400", f"--user-data-dir={profile}"]:
        opts.add_argument(f)
    d = webdriver.Chrome(service=Service(driver_path), options=opts)
    out: dict[str, list[float]] = {}
    # run.js marks when the table is first drawn and when the figures are (ms since navigation start).
    probe = ("const m = (n) => (performance.getEntriesByName(n)[0] || {}).startTime;"
             "return [m('hps-table'), m('hps-figures')];")
    try:
        for i in range(repeat + 1):  # the first load fills the browser's cache of plotly.min.js: not counted
            srv = Served(root)
            try:
                t0 = time.perf_counter()
                d.get(f"{srv.url}/run/{srv.key}")
                seen: dict[str, float] = {}
                while time.perf_counter() - t0 < 120 and len(seen) < 2:
                    for name, ms in zip(("counts + table shown", "every figure in view drawn"), d.execute_script(probe)):
                        if ms is not None:
                            seen[name] = ms / 1e3
                    time.sleep(0.05)
                if i:
                    for name, t in seen.items():
                        out.setdefault(f"browser: {name}", []).append(t)
            finally:
                srv.close()
    finally:
        d.quit()
        shutil.rmtree(profile, ignore_errors=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--evals", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--keep", default=None, help="build (or reuse) the run here instead of a temporary folder")
    args = ap.parse_args()
    root = Path(args.keep or tempfile.mkdtemp(prefix="hps-bench-dashboard-"))
    try:
        build(root, args.evals)
        print(f"{args.evals} evaluations, {args.repeat} rounds, fresh server each round (median, max):")
        for name, ts in http_rounds(root, args.repeat).items():
            print(f"  {name:45s} {statistics.median(ts) * 1e3:8.1f} ms  {max(ts) * 1e3:8.1f} ms")
        bt = browser_round(root, args.repeat)
        if bt is None:
            print("  browser: skipped (no /usr/bin/chromium + chromedriver, or no selenium)")
        for name, ts in (bt or {}).items():
            print(f"  {name:45s} {statistics.median(ts) * 1e3:8.1f} ms  {max(ts) * 1e3:8.1f} ms")
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
