"""Driver cost of streamed reports: 2 process workers, each trial reporting every 10 ms.

Each report crosses the worker's pipe, is stored (one SQLite commit on the
engine's event counter) and judged by the pruner, and the decision goes back.
Measured, per report:

* ``handler``: driver time inside the engine's report handler (store + pruner),
  timed around ``Evaluator._report``;
* ``driver CPU``: the driver process's CPU time for the whole run divided by the
  reports (an upper bound: it includes asks, tells, results and the store);
* ``round trip``: ``trial.report`` as the run function sees it (median), i.e.
  how long the worker waits for the driver's go/stop.

    python tests/perf/bench_reports.py [--steps 500] [--trials 4] [--pruner median]
"""
from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import textwrap
import time
from pathlib import Path

from hpsearch.evaluators.base import Evaluator
from hpsearch.reporting.progress import Progress
from hpsearch.run.runner import RunConfig, start_run

PROBLEM = """
from hpsearch import HpProblem
Problem = HpProblem(objective="score", direction="minimize")
Problem.add_dim("x", (0.0, 1.0), default=0.5)
"""
RUN = """
import statistics, time
def run(config, trial):
    waits = []
    for step in range(1, STEPS + 1):
        time.sleep(0.01)
        t0 = time.perf_counter()
        trial.report(step, score=1.0 / step)  # every curve alike: judged at each report, never stopped
        waits.append(time.perf_counter() - t0)
    return {"score": config["x"], "rt_ms": 1e3 * statistics.median(waits)}
"""


def once(steps: int, trials: int, pruner: str | None) -> dict:
    spent: list[float] = []
    original = Evaluator._report

    def timed(self, trial_id, report):
        t0 = time.perf_counter()
        try:
            return original(self, trial_id, report)
        finally:
            spent.append(time.perf_counter() - t0)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "reporting"
        folder.mkdir()
        (folder / "problem.py").write_text(textwrap.dedent(PROBLEM))
        (folder / "model_run.py").write_text(f"STEPS = {steps}\n" + textwrap.dedent(RUN))
        # identical falling curves: the median rule is evaluated at every report and stops nobody
        opts = {"min_trials": 1} if pruner == "median" else {}
        cfg = RunConfig(problem=str(folder), algo="random", seed=0, evaluator="process", workers=2,
                        max_evals=trials, run_dir=f"{tmp}/run", pruner=pruner, pruner_options=opts)
        Evaluator._report = timed
        try:
            c0 = time.process_time()
            out = start_run(cfg, observer=Progress(stream=io.StringIO(), tty=False))
            cpu = time.process_time() - c0
        finally:
            Evaluator._report = original
        trials_done = out.store.trials()
        n_stored = out.store.conn.execute("SELECT COUNT(*) FROM reports").fetchone()[0]
        out.store.close()
    assert all(t.status == "done" for t in trials_done) and n_stored == steps * trials, n_stored
    return {"reports": len(spent), "handler_ms": 1e3 * statistics.mean(spent),
            "handler_p99_ms": 1e3 * sorted(spent)[int(0.99 * len(spent))],
            "cpu_ms": 1e3 * cpu / len(spent),
            "rt_ms": statistics.median(t.metrics["rt_ms"] for t in trials_done),
            "wall_s": out.summary.wall_s}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=500, help="reports per trial")
    ap.add_argument("--trials", type=int, default=4)
    args = ap.parse_args()
    print(f"2 process workers, {args.trials} trials x {args.steps} reports, one every 10 ms")
    print(f"{'pruner':10s} {'reports':>8s} {'handler ms':>11s} {'p99 ms':>7s} {'driver CPU ms':>14s} "
          f"{'round trip ms':>14s}")
    for pruner in (None, "median"):
        r = once(args.steps, args.trials, pruner)
        print(f"{pruner or 'none':10s} {r['reports']:8d} {r['handler_ms']:11.3f} {r['handler_p99_ms']:7.3f} "
              f"{r['cpu_ms']:14.3f} {r['rt_ms']:14.3f}")


if __name__ == "__main__":
    main()
