"""Ask/tell overhead per trial: ``hpsearch.Study`` against Optuna's ask/tell, side by side in one run.

Both search the same 6-dimensional mixed space (four floats, one of them on a log
scale, an integer, a categorical) with the same sampler class, and the objective is
a formula that costs nothing, so the time is the bookkeeping of one
``ask`` + one ``tell``:

* random search: our ``random`` against ``optuna.samplers.RandomSampler``;
* a model searcher: our ``kde`` (a TPE) against ``optuna.samplers.TPESampler``
  (their costs grow with the trials seen: the mean is over the whole run).

Storage: Optuna in memory (``InMemoryStorage``) and on disk (``sqlite:///``, its
``RDBStorage``); a study of ours is always durable (its SQLite run store commits
every ask and every tell before returning, and appends ``results.csv``): on disk
(a directory under ``--dir``) and on ``/dev/shm`` (tmpfs: the same writes without
the disk). The target: our durable ask/tell at or below Optuna's in-memory
ask/tell for random search.

    pip install optuna                       # the bench extra (never a test dependency)
    python tests/perf/bench_asktell.py                                   # the full run
    python tests/perf/bench_asktell.py --random-trials 300 --model-trials 100 --repeats 1   # quick check
"""
from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from hpsearch import HpProblem, Study


def objective(x0: float, x1: float, x2: float, lr: float, units: int, act: str) -> float:
    return (x0 - 0.3) ** 2 + (x1 + 0.2) ** 2 + abs(x2) + (math.log10(lr) + 3) ** 2 \
        + (units - 64) ** 2 / 1e4 + {"relu": 0.0, "tanh": 0.1, "elu": 0.2}[act]


def problem() -> HpProblem:
    p = HpProblem(objective="loss", direction="minimize")
    for name in ("x0", "x1", "x2"):
        p.add_dim(name, (-1.0, 1.0), default=0.0)
    p.add_dim("lr", (1e-5, 1e-1, "log-uniform"), default=1e-3)
    p.add_dim("units", (8, 512), default=64)
    p.add_dim("act", ["relu", "tanh", "elu"], default="relu")
    return p


def ours(searcher: str, trials: int, root: Path, seed: int) -> float:
    """Seconds per ask+tell of a Study stored in a fresh run directory under ``root``."""
    run_dir = Path(tempfile.mkdtemp(dir=root)) / "run"
    study = Study(problem(), algo=f"random+{searcher}", seed=seed, max_evals=trials, run_dir=run_dir)
    t0 = time.perf_counter()
    for _ in range(trials):
        trial = study.ask()
        study.tell(trial, objective(**trial.config))
    elapsed = time.perf_counter() - t0
    assert len(study.results()) == trials
    study.close()
    shutil.rmtree(run_dir.parent)
    return elapsed / trials


def optuna_study(sampler: str, trials: int, root: Path | None, seed: int) -> float:
    """Seconds per ask+tell of an Optuna study with the space given up front (define-and-run), in memory
    (``root`` None) or in a fresh SQLite database under ``root``."""
    import optuna
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    space = {"x0": FloatDistribution(-1, 1), "x1": FloatDistribution(-1, 1), "x2": FloatDistribution(-1, 1),
             "lr": FloatDistribution(1e-5, 1e-1, log=True), "units": IntDistribution(8, 512),
             "act": CategoricalDistribution(["relu", "tanh", "elu"])}
    made = optuna.samplers.RandomSampler(seed=seed) if sampler == "random" else \
        optuna.samplers.TPESampler(seed=seed)
    storage = None if root is None else f"sqlite:///{Path(tempfile.mkdtemp(dir=root)) / 'optuna.db'}"
    study = optuna.create_study(direction="minimize", sampler=made, storage=storage)
    t0 = time.perf_counter()
    for _ in range(trials):
        trial = study.ask(space)
        study.tell(trial, objective(**trial.params))
    elapsed = time.perf_counter() - t0
    assert len(study.trials) == trials
    return elapsed / trials


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--random-trials", type=int, default=2000)
    ap.add_argument("--model-trials", type=int, default=300)
    ap.add_argument("--disk-trials", type=int, default=200,
                    help="at most this many trials for Optuna on disk (each commit waits for the disk)")
    ap.add_argument("--repeats", type=int, default=5,
                    help="rounds (each runs every case once); the median and the best are shown")
    ap.add_argument("--dir", default=".", help="the disk for the on-disk stores (default: here)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    disk = Path(tempfile.mkdtemp(prefix="bench-asktell-", dir=args.dir))
    shm = Path(tempfile.mkdtemp(prefix="bench-asktell-", dir="/dev/shm")) if os.path.isdir("/dev/shm") else None
    rows = []
    try:
        for ours_name, peer, n in (("random", "random", args.random_trials), ("kde", "tpe", args.model_trials)):
            on_disk = min(n, args.disk_trials)
            cases = [(f"hpsearch {ours_name}, SQLite run store on disk", n, ours, (ours_name, n, disk, args.seed))]
            if shm is not None:
                cases.append((f"hpsearch {ours_name}, SQLite run store on /dev/shm", n, ours,
                              (ours_name, n, shm, args.seed)))
            cases += [(f"optuna {optuna.__version__} {peer}, in memory", n, optuna_study, (peer, n, None, args.seed)),
                      (f"optuna {optuna.__version__} {peer}, SQLite on disk", on_disk, optuna_study,
                       (peer, on_disk, disk, args.seed))]
            times: dict[str, list[float]] = {name: [] for name, *_ in cases}
            for _ in range(args.repeats):  # rounds of every case: a busy machine slows them alike
                for name, _trials, measure, measure_args in cases:
                    times[name].append(measure(*measure_args))
            for name, trials, *_ in cases:
                rows.append((name, trials, statistics.median(times[name]) * 1e6, min(times[name]) * 1e6))
                print(f"{name:<55} {trials:>6} trials  {rows[-1][2]:9.0f} us/trial (median)  "
                      f"{rows[-1][3]:9.0f} (best)", flush=True)
    finally:
        shutil.rmtree(disk, ignore_errors=True)
        if shm is not None:
            shutil.rmtree(shm, ignore_errors=True)
    print("\n| case | trials | us per ask+tell (median) | best |\n|---|---:|---:|---:|")
    for name, n, med, best in rows:
        print(f"| {name} | {n} | {med:.0f} | {best:.0f} |")


if __name__ == "__main__":
    main()
