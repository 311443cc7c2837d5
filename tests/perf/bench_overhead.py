"""Engine overhead per evaluation: random search on polynome2, serial evaluator, durable store.

Overhead = (wall time of the run - time inside run()) / evaluations. The run
goes through the same path as ``hps run`` (runner.start_run: SQLite store in
WAL mode committed per evaluation, results.csv appended per evaluation,
progress observer in log-line mode).

    python tests/perf/bench_overhead.py --evals 10000 [--repeat 3]
"""
from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time

from hpsearch.reporting.progress import Progress
from hpsearch.run.runner import RunConfig, start_run


def once(evals: int, seed: int) -> tuple[float, float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        cfg = RunConfig(problem="polynome2", algo="random", max_evals=evals, seed=seed,
                        evaluator="serial", run_dir=f"{tmp}/run")
        t0 = time.perf_counter()
        out = start_run(cfg, observer=Progress(stream=io.StringIO(), tty=False))
        wall = time.perf_counter() - t0
        out.store.close()
        s = out.summary
        assert s.n_done == evals
        return wall, s.busy_s, (wall - s.busy_s) / evals


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--evals", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    per = []
    for i in range(args.repeat):
        wall, busy, over = once(args.evals, seed=i)
        per.append(over)
        print(f"run {i}: {args.evals} evaluations, wall {wall:.2f} s, inside run() {busy:.3f} s, "
              f"overhead {over * 1e3:.3f} ms/eval")
    print(f"median engine overhead: {statistics.median(per) * 1e3:.3f} ms per evaluation "
          f"(target <= 0.5 ms)")


if __name__ == "__main__":
    main()
