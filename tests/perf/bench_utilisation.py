"""Worker utilisation per algorithm x evaluator: 2 workers, 200 evaluations sleeping 0.2-1.0 s each.

Utilisation = time inside run() / (workers x wall time while the workers are up),
as the engine reports it (RunSummary.utilisation). The run goes through
``runner.start_run`` (as ``hps run``). The "incl. startup" column divides by a
wall clock around the whole start_run instead: it also counts starting the
workers (seconds for a Dask LocalCluster) and shutting them down, which the
"startup s" column shows. ASHA and Hyperband get enough configurations
(--max-configs / --iterations) that --evals ends every run.

    python tests/perf/bench_utilisation.py [--algos random,bayesian,hyperband,asha]
        [--evaluators process,dask] [--evals 200] [--workers 2]

Targets: >= 95 % for random and asha with the process evaluator, >= 90 % with dask.
"""
from __future__ import annotations

import argparse
import csv
import io
import tempfile
import textwrap
import time
from pathlib import Path

from hpsearch.reporting.progress import Progress
from hpsearch.run.runner import RunConfig, start_run
from hpsearch.search import ALGORITHMS, ALIASES

PROBLEM = '''
"""Sleeps a random 0.2-1.0 s per evaluation (utilisation benchmark)."""
from hpsearch import HpProblem

Problem = HpProblem(objective="loss", direction="minimize")
Problem.add_dim("x", (0.0, 1.0), default=0.5)
Problem.add_dim("y", (0.0, 1.0), default=0.5)
Problem.add_dim("epochs", (1, 27), default=9, resource=True)
'''
RUN = '''
import random
import time


def run(config, trial):
    time.sleep(random.Random(trial.id).uniform(0.2, 1.0))
    return {"loss": (config["x"] - 0.3) ** 2 + (config["y"] - 0.6) ** 2 + 1.0 / config["epochs"]}
'''
TARGETS = {("random", "process"): 0.95, ("asha", "process"): 0.95,
           ("random", "dask"): 0.90, ("asha", "dask"): 0.90, ("bayesian", "dask"): 0.90,
           ("hyperband", "dask"): 0.90}


def write_problem(root: Path) -> Path:
    folder = root / "sleepy"
    folder.mkdir()
    (folder / "problem.py").write_text(textwrap.dedent(PROBLEM))
    (folder / "model_run.py").write_text(textwrap.dedent(RUN))
    return folder


def once(folder: Path, algo: str, evaluator: str, evals: int, workers: int, seed: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        options = {"asha": {"max_configs": evals}, "hyperband": {"iterations": 10}}.get(algo, {})
        cfg = RunConfig(problem=str(folder), algo=algo, algo_options=options, max_evals=evals, seed=seed,
                        evaluator=evaluator, workers=workers, run_dir=f"{tmp}/run")
        t0 = time.perf_counter()
        out = start_run(cfg, observer=Progress(stream=io.StringIO(), tty=False))
        wall = time.perf_counter() - t0
        out.store.close()
        with open(Path(tmp) / "run" / "results.csv", newline="") as f:
            table = list(csv.DictReader(f))
        busy = sum(float(r["duration_s"]) for r in table)
        s = out.summary
        return {"n": len(table), "done": s.n_done, "wall": wall, "busy": busy,
                "engine": s.utilisation, "check": busy / (workers * wall), "startup": s.startup_s}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--algos", default="random,bayesian,hyperband,asha")
    ap.add_argument("--evaluators", default="process,dask")
    ap.add_argument("--evals", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as root:
        folder = write_problem(Path(root))
        print(f"{'algo':<10} {'evaluator':<9} {'evals':>5} {'wall s':>8} {'busy s':>8} "
              f"{'startup s':>9} {'utilisation':>11} {'incl. startup':>13}  target")
        for algo in args.algos.split(","):
            if ALIASES.get(algo, algo) not in ALGORITHMS:
                print(f"{algo:<10} skipped: not registered in hpsearch.search.ALGORITHMS yet")
                continue
            for ev in args.evaluators.split(","):
                r = once(folder, algo, ev, args.evals, args.workers, args.seed)
                target = TARGETS.get((algo, ev))
                verdict = "" if target is None else f">= {target:.0%} " + \
                    ("met" if r["engine"] >= target else "MISSED")
                print(f"{algo:<10} {ev:<9} {r['n']:>5} {r['wall']:>8.2f} {r['busy']:>8.2f} "
                      f"{r['startup']:>9.2f} {r['engine']:>11.1%} {r['check']:>13.1%}  {verdict}", flush=True)


if __name__ == "__main__":
    main()
